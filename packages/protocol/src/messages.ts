import type { Datatype } from './datatypes.js';
import type { Parameters, Tensor } from './tensor.js';

export interface RequestedOutput {
  name: string;
  parameters?: Parameters;
}

/** One inference request, decoded from any transport. */
export interface InferRequest {
  modelName: string;
  /** Empty or undefined: the server's version policy picks (the highest available). */
  modelVersion?: string;
  id?: string;
  parameters?: Parameters;
  inputs: Tensor[];
  /** Undefined or empty: every model output, with default settings. */
  outputs?: RequestedOutput[];
}

export interface InferResponse {
  modelName: string;
  modelVersion: string;
  id?: string;
  parameters?: Parameters;
  outputs: Tensor[];
}

export interface TensorMetadata {
  name: string;
  datatype: Datatype;
  /** -1 marks a variable-size dimension. */
  shape: number[];
}

export interface ModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
}

export interface ServerMetadata {
  name: string;
  version: string;
  extensions: string[];
  /**
   * The model runtimes this server runs and what each runs on (`onnxruntime-node (CPU)`,
   * `TensorFlow.js (wasm)`): a Sibyl field, served in REST metadata only (gRPC's message is Triton's).
   * Undefined where no runtime runs in the process (a gateway).
   */
  runtimes?: string[];
}

/** One row of the model repository index (Triton's repository extension). */
export interface ModelIndexEntry {
  name: string;
  version?: string;
  /** READY, UNAVAILABLE, LOADING, UNLOADING (Triton's state strings). */
  state: 'READY' | 'UNAVAILABLE' | 'LOADING' | 'UNLOADING';
  reason: string;
}

/** A cumulative duration (Triton's StatisticDuration): how many times it occurred, and their total. */
export interface StatisticDuration {
  count: number;
  /** Nanoseconds. A double holds integers exactly up to 2^53 ns, about 104 days of cumulated time. */
  ns: number;
}

/** Per-request statistics of a model version (Triton's InferStatistics). */
export interface InferStatistics {
  /** Successful requests, and their time from arrival in the data plane to the response. */
  success: StatisticDuration;
  /** Failed requests, and their time until they failed. */
  fail: StatisticDuration;
  /** Successful requests, and their time waiting for a batch or an execution instance. */
  queue: StatisticDuration;
  /** Successful requests, and their time converting input tensors for the backend. */
  computeInput: StatisticDuration;
  /** Successful requests, and the execution time of the run each took part in. */
  computeInfer: StatisticDuration;
  /** Successful requests, and their time converting output tensors from the backend. */
  computeOutput: StatisticDuration;
  /** Response cache hits (no response cache yet: zero). */
  cacheHit: StatisticDuration;
  /** Response cache misses (no response cache yet: zero). */
  cacheMiss: StatisticDuration;
}

/** Statistics of the executions that ran a given batch size (Triton's InferBatchStatistics). */
export interface InferBatchStatistics {
  /** Inferences (batch rows) per execution. */
  batchSize: number;
  computeInput: StatisticDuration;
  computeInfer: StatisticDuration;
  computeOutput: StatisticDuration;
}

/**
 * A model version's configuration as Triton's model configuration extension serves it: the JSON
 * form of ModelConfig (model_config.proto; `"data_type": "TYPE_FP32"`, dims as numbers, as Triton's
 * REST API writes them). Fields beyond `name` are the serving runtime's (or Triton's) own: transports
 * pass them on as they are.
 */
export interface ModelConfiguration {
  readonly name: string;
}

/** The cumulative statistics of one model version since it loaded (Triton's statistics extension). */
export interface ModelStatistics {
  name: string;
  version: string;
  /** The end of the last request, successful or not, milliseconds since the epoch; 0 before any. */
  lastInference: number;
  /** Successful inferences: a request of batch size n counts n. */
  inferenceCount: number;
  /** Successful model executions: a dynamic batch of several requests counts once. */
  executionCount: number;
  inferenceStats: InferStatistics;
  /** One entry per batch size executed, ascending. */
  batchStats: InferBatchStatistics[];
}
