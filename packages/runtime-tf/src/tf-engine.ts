/**
 * The TensorFlow.js model engine: a version directory's `model.json` (a graph or a layers model, with
 * its weight shards) opened on a worker thread of its own, on the backend chosen at start (native GPU,
 * native, WASM, CPU). Plugged into @sibyl/runtime's data plane, so TF.js models go through the same
 * loader, model cache, dynamic batcher, statistics and protocol as ONNX models (see the runtime's
 * model-engine.ts for the contract).
 *
 * Threads only: tfjs runs its kernels on the calling thread, so a model on the event loop would hold
 * every other request for its whole predict.
 */
import { dirname } from 'node:path';
import type { ExecutionInstance, ModelEngine, OpenInstanceOptions, RunResult, SessionInfo, WireTensor } from '@sibyl/runtime';
import { runtimeErrors } from '@sibyl/runtime';
import { detectBackend } from './backend-choice.js';
import { createTfThreadInstance, type TfThreadInstance } from './tf-thread-instance.js';
import type { TfBackendName, TfDtype, TfModelInfo, TfValueInfo, TfWireTensor } from './tf-wire.js';

export interface TfEngineOptions {
  /** Backend every model thread starts on (each falls back down the order when it cannot). Default: detectBackend(). */
  backend?: TfBackendName;
}

export interface TfEngine extends ModelEngine {
  /** The backend asked for at start. */
  readonly tfBackend: TfBackendName;
  /** The backends the open threads actually run on (tfjs's names), e.g. ['wasm']. */
  runningBackends(): string[];
}

const TF_DTYPES: ReadonlySet<string> = new Set<TfDtype>(['float32', 'int32', 'bool', 'string']);

/** The graph or layers model as the runtime's signature code reads a model: onnxruntime-node's type names, which tfjs's dtypes share. */
function sessionInfo(info: TfModelInfo): SessionInfo {
  const value = (v: TfValueInfo) => ({ name: v.name, isTensor: true, type: v.dtype, shape: [...v.shape] });
  return {
    inputs: info.inputs.map(value),
    outputs: info.outputs.map(value),
    platform: info.format === 'graph-model' ? 'tensorflowjs_graph' : 'tensorflowjs_layers',
  };
}

/**
 * A feed as the thread takes it. BYTES elements travel to the data plane as UTF-8 strings (the form
 * onnxruntime-node needs) and to tfjs as bytes again.
 */
function tfFeed(feed: WireTensor): TfWireTensor {
  if (!TF_DTYPES.has(feed.type)) throw new Error(`input '${feed.name}': TensorFlow.js has no ${feed.type} tensors`);
  const data = Array.isArray(feed.data)
    ? feed.data.map((s) => Buffer.from(s, 'utf8'))
    : (feed.data as Float32Array | Int32Array | Uint8Array);
  return { name: feed.name, dtype: feed.type as TfDtype, shape: feed.dims, data };
}

function wireOutput(out: TfWireTensor): WireTensor {
  const data = Array.isArray(out.data)
    ? out.data.map((bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'))
    : out.data;
  return { name: out.name, type: out.dtype, dims: out.shape, data };
}

/** The thread as the runtime's execution instance; `onClose` is told once the instance is closed. */
function asExecutionInstance(thread: TfThreadInstance, onClose: () => void): ExecutionInstance {
  return {
    kind: 'thread',
    info: sessionInfo(thread.info),
    async run(feeds, fetches, control): Promise<RunResult> {
      const result = await thread.run(feeds.map(tfFeed), fetches, control);
      const run: RunResult = { outputs: result.outputs.map(wireOutput), computeUs: result.computeUs };
      if (result.startedAtMs !== undefined) run.startedAtMs = result.startedAtMs;
      return run;
    },
    close: () => {
      onClose();
      return thread.close();
    },
  };
}

export function createTfEngine(options: TfEngineOptions = {}): TfEngine {
  const backend = options.backend ?? detectBackend();
  const threads = new Set<TfThreadInstance>();
  return Object.freeze({
    backend: 'tfjs',
    platforms: ['tensorflowjs_graph', 'tensorflowjs_layers'],
    modelFilename: 'model.json',
    kinds: ['thread'] as const,
    runtimeName: 'TensorFlow.js',
    description: `TensorFlow.js (${backend})`,
    tfBackend: backend,
    runningBackends: () => [...new Set([...threads].map((t) => t.backend))].sort(),
    async open({ file, onFailure }: OpenInstanceOptions): Promise<ExecutionInstance> {
      let instance: ExecutionInstance | undefined;
      const thread = await createTfThreadInstance({
        dir: dirname(file),
        backend,
        onFailure: (reason) => {
          threads.delete(thread);
          if (instance !== undefined) onFailure(instance, reason);
        },
      });
      threads.add(thread);
      instance = asExecutionInstance(thread, () => threads.delete(thread));
      return instance;
    },
    async explainLoadFailure(model: string, version: string, file: string, err: unknown) {
      const why = err instanceof Error ? err.message : String(err);
      return runtimeErrors.modelFileInvalid(model, version, file, why, 'TensorFlow.js');
    },
  });
}
