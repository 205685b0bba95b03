/**
 * A model engine: what opens a model file as execution instances. The data plane (loader, instance
 * pool, dynamic batcher, model cache, statistics) is the same for every engine; only opening a
 * model and running it differ.
 *
 * Two engines: onnxruntime-node (onnx-engine.ts, here) and TensorFlow.js (@sibyl/runtime-tf's
 * `createTfEngine`). A service is given the engines it runs; a version goes to the engine its config
 * names (`platform` or `backend`), else to the one whose model file its directory holds.
 *
 * Contracts:
 * - `open` resolves to an instance that has loaded the model, or rejects with the engine's own
 *   message (a plain Error); `explainLoadFailure` turns that into the SibylError a user reads.
 * - An instance's `info` describes inputs and outputs with onnxruntime-node's element type names
 *   (`float32`, `int32`, `bool`, `string`, ...), whatever the engine: the signature code reads one form.
 */
import type { SibylError } from '@sibyl/protocol';
import type { ExecutionInstance, ExecutionKind, InstanceFailureListener } from './execution-instance.js';
import type { SessionThreads } from './session-settings.js';

export interface OpenInstanceOptions {
  /** The model file (an engine that loads a directory takes the file's directory). */
  file: string;
  kind: ExecutionKind;
  /** The config's thread parameters (intra_op_thread_count, inter_op_thread_count). */
  threads: SessionThreads;
  /** Told once if a thread instance stops on its own. */
  onFailure: InstanceFailureListener;
}

export interface ModelEngine {
  /** The config's `backend` for this engine (Triton's field): `onnxruntime`, `tfjs`. */
  readonly backend: string;
  /** The config `platform`s it serves; the first is what a model of this engine reports by default. */
  readonly platforms: readonly string[];
  /** The file a version directory holds when the config names none (Triton's default_model_filename). */
  readonly modelFilename: string;
  /** The execution kinds it can run: `inline` needs a runtime that can run on the event loop. */
  readonly kinds: readonly ExecutionKind[];
  /** The runtime's name in error messages: `onnxruntime`, `TensorFlow.js`. */
  readonly runtimeName: string;
  /** What it runs on, for logs, e.g. `onnxruntime-node (CPU)`, `TensorFlow.js (wasm)`. */
  readonly description: string;
  open(options: OpenInstanceOptions): Promise<ExecutionInstance>;
  /** The error a user reads when `open` rejected with `err`. */
  explainLoadFailure(model: string, version: string, file: string, err: unknown): Promise<SibylError>;
}

/** Every config `platform` any engine serves, with its `backend`: a config naming another is invalid. */
export const KNOWN_PLATFORMS: ReadonlyMap<string, string> = new Map([
  ['onnxruntime_onnx', 'onnxruntime'],
  ['tensorflowjs_graph', 'tfjs'],
  ['tensorflowjs_layers', 'tfjs'],
]);

export const KNOWN_BACKENDS: ReadonlySet<string> = new Set(KNOWN_PLATFORMS.values());

/** The file each backend looks for in a version directory when the config names none. */
export const KNOWN_MODEL_FILES: ReadonlyMap<string, string> = new Map([
  ['model.onnx', 'onnxruntime'],
  ['model.json', 'tfjs'],
]);
