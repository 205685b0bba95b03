/** What the orchestrator asks of a load-generator process, and what the process answers (one JSON line). */
import type { CpuReport } from './cpu-usage.js';
import type { IrisExpectation } from './payloads.js';
import type { LatencySummary } from './stats.js';

export type Workload =
  /** In-process `session.run` on the iris model: the floor every server is measured against. */
  | 'iris-session'
  /** POST /v2/models/<model>/infer with JSON `data`. */
  | 'iris-json'
  /** The same request with the binary tensor data extension, outputs binary. */
  | 'iris-binary'
  /** gRPC ModelInfer with raw_input_contents. */
  | 'iris-grpc'
  /** 16 MiB FP32 through the identity model in-process: the floor for the large case. */
  | 'large-session'
  /** The same 16 MiB request body, echoed back by a bare node:http server: the transport floor. */
  | 'large-echo'
  /** 16 MiB FP32 through the identity model, REST binary extension both ways. */
  | 'large-binary'
  /** 16 MiB FP32 through the identity model, gRPC raw contents both ways. */
  | 'large-grpc'
  /** One FP32 input, one FP32 output (`LoadSpec.tensor`), REST JSON. */
  | 'tensor-json'
  /** The same with the binary tensor data extension both ways. */
  | 'tensor-binary'
  /** Raw TensorFlow.js `model.predict` + `data()` in the generator's process (`address`: the model's version directory). */
  | 'tf-predict'
  /** @sibyl/runtime-tf's InferenceService in the generator's process (`address`: the model repository, `model`: the model). */
  | 'tf-runtime'
  /** Cache churn: REST JSON to churn_NNN, the model picked per request by a Zipf law (`LoadSpec.churn`). */
  | 'churn-json';

/** A request of one FP32 input and the one FP32 output every response must hold. */
export interface TensorCase {
  input: string;
  shape: number[];
  data: number[];
  output: string;
  /** The output's shape and values; values are compared with `tolerance` (absolute, plus relative to the value). */
  outputShape: number[];
  expected?: number[];
  tolerance: number;
}

export type LoadPlan =
  /** `concurrency` loops, each one request at a time, for warm-up then measured seconds. */
  | { kind: 'duration'; concurrency: number; warmupSeconds: number; seconds: number }
  /** Sequential requests; every response is checked, outside the timed span. */
  | { kind: 'count'; warmupRequests: number; requests: number };

export interface LoadSpec {
  workload: Workload;
  /** `http://127.0.0.1:<port>` for REST, `127.0.0.1:<port>` for gRPC, the model file for the session workloads. */
  address: string;
  /** Model name in the URL or ModelInferRequest. */
  model: string;
  plan: LoadPlan;
  /** iris workloads: the outputs every target must return. */
  irisExpected?: IrisExpectation;
  /** large workloads: the identity model's tensor names. */
  identity?: { input: string; output: string };
  /** tensor and tf workloads: the request and what its response must be. */
  tensor?: TensorCase;
  /** churn-json: how many models (churn_000 ...), the Zipf exponent, the generator's seed. */
  churn?: { models: number; zipfS: number; seed: number };
  /** The server's process ids (the split topology's gateway and workers), for their CPU time over the measured span (duration plans). */
  serverPids?: number[];
}

export interface LoadResult {
  workload: Workload;
  plan: LoadPlan;
  /** Requests completed inside the measured span. */
  completed: number;
  /** Length of the measured span, seconds. */
  measuredSeconds: number;
  /** completed / measuredSeconds. */
  requestsPerSecond: number;
  latency: LatencySummary;
  /** Failed requests (non-200 status, gRPC error, wrong output) in the whole run, warm-up included. */
  errors: number;
  firstError?: string;
  /** Responses checked against the expected outputs, and how many matched. */
  checked: number;
  checkedOk: number;
  /** Completions past the preallocated sample buffer: counted for throughput, not in the latency figures. */
  droppedSamples: number;
  /** CPU over the measured span (duration plans only). */
  cpu?: CpuReport;
  /** tensor and tf workloads: the output values of the first response (what the next target is checked against). */
  sample?: number[];
}
