/**
 * One TensorFlow.js model in one thread: loaded from its version directory (model.json and its weight
 * shards, read from the local filesystem: nothing is fetched), described, and run.
 *
 * Imports only TensorFlow.js (by the backend's package) and Node built-ins: it runs inside
 * tf-thread-worker.ts.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type * as tfjs from '@tensorflow/tfjs';
import type { TfBackendName, TfData, TfModelInfo, TfRunResult, TfValueInfo, TfWireTensor } from './tf-wire.js';

type Tf = typeof tfjs;

/** The package that brings each backend; the native ones are optional and never a dependency. */
const BACKEND_PACKAGE: Readonly<Record<TfBackendName, string>> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs',
};

const FALLBACK_ORDER: readonly TfBackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

/**
 * TensorFlow.js on `wanted`, or on the next backend in order when it cannot start here (a native
 * package whose libtensorflow is missing). Returns the backend actually running.
 */
export async function startTf(wanted: TfBackendName): Promise<{ tf: Tf; backend: string }> {
  let lastError: unknown;
  for (const backend of FALLBACK_ORDER.slice(FALLBACK_ORDER.indexOf(wanted))) {
    try {
      const specifier: string = BACKEND_PACKAGE[backend];
      if (backend === 'tensorflow' || backend === 'tensorflow-gpu') {
        // tfjs-node re-exports the whole API bound to its own native backend.
        const tf = (await import(specifier)) as Tf;
        await tf.ready();
        return { tf, backend: tf.getBackend() };
      }
      const tf = await import('@tensorflow/tfjs');
      if (backend === 'wasm') await import(specifier);
      if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} failed to initialise`);
      await tf.ready();
      return { tf, backend: tf.getBackend() };
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

interface WeightsGroup {
  paths: string[];
  weights: unknown[];
}

/** A weight file path of the manifest, refused when it leaves the model directory. */
function weightPath(dir: string, path: string): string {
  const full = resolve(dir, path);
  const rel = relative(dir, full);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) throw new Error(`weights path '${path}' leaves the model directory`);
  return full;
}

async function readArtifacts(tf: Tf, dir: string): Promise<tfjs.io.ModelArtifacts> {
  const file = join(dir, 'model.json');
  const json = JSON.parse(await readFile(file, 'utf8')) as tfjs.io.ModelJSON;
  if (typeof json !== 'object' || json === null || json.modelTopology === undefined) throw new Error(`${file} has no modelTopology: not a TensorFlow.js model`);
  return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
    const specs: tfjs.io.WeightsManifestEntry[] = [];
    const buffers: Buffer[] = [];
    for (const group of manifest as unknown as WeightsGroup[]) {
      specs.push(...(group.weights as tfjs.io.WeightsManifestEntry[]));
      for (const path of group.paths) buffers.push(await readFile(weightPath(dir, path)));
    }
    const all = Buffer.concat(buffers);
    return [specs, all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer];
  });
}

function valueInfo(name: string, dtype: string | undefined, shape: ReadonlyArray<number | null> | undefined): TfValueInfo {
  return { name, dtype: dtype ?? 'float32', shape: (shape ?? []).map((d) => (typeof d === 'number' && d >= 0 ? d : -1)) };
}

export interface TfModel {
  readonly info: TfModelInfo;
  run(feeds: readonly TfWireTensor[], fetches: readonly string[]): Promise<TfRunResult>;
  dispose(): void;
}

/** A copy when `data` does not own its whole buffer, so that transferring it moves exactly its bytes. */
function owned<T extends Float32Array | Int32Array | Uint8Array>(data: T): T {
  if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer) return data;
  return data.slice() as T;
}

async function readOutput(name: string, tensor: tfjs.Tensor): Promise<TfWireTensor> {
  const dtype = tensor.dtype;
  const shape = [...tensor.shape];
  let data: TfData;
  if (dtype === 'string') data = (await tensor.bytes()) as Uint8Array[];
  // The thread is this model's alone: a synchronous readback costs no one else, and saves a tick per run.
  else if (dtype === 'float32' || dtype === 'int32' || dtype === 'bool') data = owned(tensor.dataSync() as Float32Array | Int32Array | Uint8Array);
  else throw new Error(`output '${name}' has dtype ${dtype}, which has no v2 datatype`);
  return { name, dtype, shape, data };
}

function toTensor(tf: Tf, feed: TfWireTensor): tfjs.Tensor {
  if (feed.dtype === 'string') return tf.tensor(feed.data as Uint8Array[], feed.shape, 'string');
  return tf.tensor(feed.data as Float32Array | Int32Array | Uint8Array, feed.shape, feed.dtype);
}

/** Loads the model of `dir` (graph or layers, by model.json's `format`, else by its topology). */
export async function loadTfModel(tf: Tf, dir: string): Promise<TfModel> {
  const artifacts = await readArtifacts(tf, dir);
  const handler: tfjs.io.IOHandler = { load: async () => artifacts };
  const topology = artifacts.modelTopology as { node?: unknown } | undefined;
  const isGraph = artifacts.format === 'graph-model' || (artifacts.format !== 'layers-model' && topology !== undefined && 'node' in topology);
  return isGraph ? loadGraph(tf, handler, artifacts.signature as GraphSignature | undefined) : loadLayers(tf, handler);
}

/** The converter's `signature` of a graph model (from the SavedModel's serving signature). */
interface GraphSignature {
  inputs?: Record<string, SignatureTensor>;
  outputs?: Record<string, SignatureTensor>;
}

interface SignatureTensor {
  name?: string;
  dtype?: string;
  tensorShape?: { dim?: Array<{ size?: string | number }>; unknownRank?: boolean };
}

const DTYPE_OF_DT: Readonly<Record<string, string>> = { DT_FLOAT: 'float32', DT_INT32: 'int32', DT_BOOL: 'bool', DT_STRING: 'string' };

/** A graph tensor described by the signature where it has the tensor (tfjs gives outputs no dtype or shape otherwise). */
function graphValueInfo(t: { name: string; dtype?: string; shape?: number[] }, signature: Record<string, SignatureTensor> | undefined): TfValueInfo {
  const entry = signature === undefined ? undefined : Object.entries(signature).find(([key, v]) => key === t.name || v.name === t.name || v.name === `${t.name}:0`)?.[1];
  if (entry === undefined) return valueInfo(t.name, t.dtype, t.shape);
  const dtype = entry.dtype === undefined ? t.dtype : (DTYPE_OF_DT[entry.dtype] ?? entry.dtype);
  const dims = entry.tensorShape?.unknownRank === true ? undefined : entry.tensorShape?.dim?.map((d) => Number(d.size ?? -1));
  return valueInfo(t.name, dtype, dims ?? t.shape);
}

async function loadGraph(tf: Tf, handler: tfjs.io.IOHandler, signature: GraphSignature | undefined): Promise<TfModel> {
  const model = await tf.loadGraphModel(handler);
  const info: TfModelInfo = {
    format: 'graph-model',
    inputs: model.inputs.map((t) => graphValueInfo(t, signature?.inputs)),
    outputs: model.outputs.map((t) => graphValueInfo(t, signature?.outputs)),
  };
  // `execute` is synchronous and fails on control flow ops; such models run with executeAsync from then on.
  let useAsync = false;
  return {
    info,
    async run(feeds, fetches) {
      const started = performance.now();
      const inputs: tfjs.NamedTensorMap = {};
      for (const f of feeds) inputs[f.name] = toTensor(tf, f);
      let results: tfjs.Tensor[] = [];
      try {
        let out: tfjs.Tensor | tfjs.Tensor[];
        if (!useAsync) {
          try {
            out = model.execute(inputs, [...fetches]);
          } catch (err) {
            if (!(err instanceof Error) || !/executeAsync/.test(err.message)) throw err;
            useAsync = true;
            out = await model.executeAsync(inputs, [...fetches]);
          }
        } else {
          out = await model.executeAsync(inputs, [...fetches]);
        }
        results = Array.isArray(out) ? out : [out];
        const outputs = await Promise.all(results.map((t, i) => readOutput(fetches[i]!, t)));
        return { outputs, computeUs: (performance.now() - started) * 1000 };
      } finally {
        tf.dispose(Object.values(inputs));
        tf.dispose(results);
      }
    },
    dispose: () => model.dispose(),
  };
}

async function loadLayers(tf: Tf, handler: tfjs.io.IOHandler): Promise<TfModel> {
  const model = await tf.loadLayersModel(handler);
  const info: TfModelInfo = {
    format: 'layers-model',
    inputs: model.inputs.map((t, i) => valueInfo(model.inputNames[i]!, t.dtype, t.shape)),
    outputs: model.outputs.map((t, i) => valueInfo(model.outputNames[i]!, t.dtype, t.shape)),
  };
  const inputOrder = info.inputs.map((i) => i.name);
  const outputIndex = new Map(info.outputs.map((o, i) => [o.name, i]));
  return {
    info,
    async run(feeds, fetches) {
      const started = performance.now();
      const byName = new Map(feeds.map((f) => [f.name, f]));
      const inputs = inputOrder.map((name) => {
        const feed = byName.get(name);
        if (feed === undefined) throw new Error(`input '${name}' is missing`);
        return toTensor(tf, feed);
      });
      let results: tfjs.Tensor[] = [];
      try {
        const out = model.predict(inputs.length === 1 ? inputs[0]! : inputs);
        results = Array.isArray(out) ? out : [out];
        const outputs = await Promise.all(
          fetches.map((name) => {
            const index = outputIndex.get(name);
            if (index === undefined) throw new Error(`output '${name}' is not an output of the model`);
            return readOutput(name, results[index]!);
          }),
        );
        return { outputs, computeUs: (performance.now() - started) * 1000 };
      } finally {
        tf.dispose(inputs);
        tf.dispose(results);
      }
    },
    dispose: () => model.dispose(),
  };
}
