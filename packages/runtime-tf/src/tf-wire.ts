/**
 * What crosses between the TF.js data plane and a model thread: plain data that structured clone
 * moves. Numeric data travels as typed arrays whose ArrayBuffers are transferred; BYTES (tfjs
 * `string`) as one Uint8Array per element.
 *
 * This file and tf-thread-worker.ts import nothing from the workspace, so a thread starts with
 * TensorFlow.js alone.
 */

/** TensorFlow.js dtypes this runtime exchanges (complex64 has no v2 datatype). */
export type TfDtype = 'float32' | 'int32' | 'bool' | 'string';

/** The backends a runtime can run on, in the order of preference. */
export type TfBackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

/** bool travels one byte per element (Uint8Array), as v2 BOOL holds it. */
export type TfData = Float32Array | Int32Array | Uint8Array | Uint8Array[];

export interface TfWireTensor {
  name: string;
  dtype: TfDtype;
  shape: number[];
  data: TfData;
}

/** A model input or output as the model declares it; unknown dims are -1. */
export interface TfValueInfo {
  name: string;
  /** As the model file spells it (may be a dtype this runtime does not exchange). */
  dtype: string;
  shape: number[];
}

export interface TfModelInfo {
  format: 'graph-model' | 'layers-model';
  inputs: TfValueInfo[];
  outputs: TfValueInfo[];
}

export interface TfRunResult {
  /** In the order of the fetches asked for. */
  outputs: TfWireTensor[];
  /** predict/execute and reading the outputs back, measured on the thread, microseconds. */
  computeUs: number;
  /** When the run started, as the thread's `performance.timeOrigin + performance.now()` (see @sibyl/runtime's RunResult). */
  startedAtMs?: number;
}

export interface TfWorkerInit {
  /** The version directory holding model.json and its weight files. */
  dir: string;
  backend: TfBackendName;
}

export interface TfRun {
  id: number;
  feeds: TfWireTensor[];
  fetches: string[];
  /** Date.now() milliseconds: the thread skips the run if it comes to it later. */
  deadlineMs?: number;
}

/**
 * Runs posted in the same tick travel as one message, and their answers as one: a postMessage costs
 * tens of microseconds a side, as much as a small model's predict.
 */
export type ToTfWorker =
  | { type: 'runs'; runs: TfRun[] }
  /** The run's client went away: skip it unless it has started. */
  | { type: 'cancel'; id: number }
  | { type: 'close' };

export type TfRunAnswer =
  | { id: number; ok: true; result: TfRunResult }
  | { id: number; ok: false; message: string; skipped?: undefined }
  /** Not started: its deadline had passed (`lateMs` past it) or it was cancelled. */
  | { id: number; ok: false; message: string; skipped: 'deadline' | 'cancelled'; lateMs: number };

export type FromTfWorker =
  | { type: 'ready'; info: TfModelInfo; backend: string }
  | { type: 'load-failed'; message: string }
  | { type: 'answers'; answers: TfRunAnswer[] };
