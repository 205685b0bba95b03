/**
 * What crosses between the data plane and an execution instance, in both modes: plain data that
 * structured clone moves (ort.Tensor is a class and does not survive a postMessage). Fixed-size data
 * travels as typed arrays whose ArrayBuffers are transferred; strings as JS strings.
 *
 * This file and thread-worker.ts import nothing but onnxruntime-node and types, so the worker starts
 * without the rest of the workspace.
 */

/** onnxruntime-node's names of the element types this runtime exchanges. */
export type OrtTensorType =
  | 'bool'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'float16'
  | 'float32'
  | 'float64'
  | 'string';

export type FixedData =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | BigUint64Array
  | BigInt64Array
  | Float32Array
  | Float64Array;

/** One input or output value: FP16 as raw bits in a Uint16Array, BOOL one byte per element. */
export interface WireTensor {
  name: string;
  type: OrtTensorType;
  dims: number[];
  data: FixedData | string[];
}

/** A model input or output as onnxruntime-node describes it (symbolic dims as strings). */
export interface WireValueInfo {
  name: string;
  isTensor: boolean;
  /** onnxruntime-node's type name, for tensors. */
  type?: string;
  shape?: Array<number | string>;
}

export interface SessionInfo {
  inputs: WireValueInfo[];
  outputs: WireValueInfo[];
  /** The platform the model file is, when its engine serves more than one (tensorflowjs_graph, tensorflowjs_layers). */
  platform?: string;
}

/** onnxruntime session options this runtime sets (a cloneable subset of InferenceSession.SessionOptions). */
export interface SessionSettings {
  intraOpNumThreads: number;
  interOpNumThreads: number;
  graphOptimizationLevel: 'disabled' | 'basic' | 'extended' | 'all';
  executionMode: 'sequential' | 'parallel';
  /** onnxruntime's own stderr logging: 0 verbose ... 3 error, 4 fatal. */
  logSeverityLevel: 0 | 1 | 2 | 3 | 4;
}

export interface RunResult {
  /** In the order of the fetches asked for. */
  outputs: WireTensor[];
  /** session.run alone, measured where it ran, microseconds. */
  computeUs: number;
  /**
   * When the run started on its thread (thread instances; absent inline), as that thread's
   * `performance.timeOrigin + performance.now()`: a clock all threads of the process share. From the
   * moment the pool handed the run over to this one, the run waited (behind the run before it, or
   * unread while that one computed): queue time too.
   */
  startedAtMs?: number;
}

// ---- thread protocol ----------------------------------------------------------------------------

export interface WorkerInit {
  modelPath: string;
  settings: SessionSettings;
}

export type ToWorker =
  /** `deadlineMs` (Date.now() ms): the worker skips the run if it comes to it later. */
  | { type: 'run'; id: number; feeds: WireTensor[]; fetches: string[]; deadlineMs?: number }
  /** The run's client went away: skip it unless it has started. */
  | { type: 'cancel'; id: number }
  | { type: 'close' };

export type FromWorker =
  | { type: 'ready'; info: SessionInfo }
  | { type: 'load-failed'; message: string }
  | { type: 'result'; id: number; result: RunResult }
  | { type: 'run-failed'; id: number; message: string }
  /** The run was not started: its deadline had passed (`lateMs` past it) or it was cancelled. */
  | { type: 'skipped'; id: number; reason: 'deadline' | 'cancelled'; lateMs: number };
