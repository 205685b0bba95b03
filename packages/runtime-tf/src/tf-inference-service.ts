/**
 * The TF.js data plane: the TensorFlow.js models of a model repository in Triton's layout
 * (`<repo>/<model>/<version>/model.json` with its weight files), each version on its own threads,
 * served through the v2 InferenceService as the ONNX runtime serves its models. Requests are
 * validated against the version's metadata before they reach a thread.
 *
 * The repository is read once, by load(): a static repository. A version that fails to load is
 * listed UNAVAILABLE with its reason; the others serve.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@sibyl/observability';
import {
  isValidModelName,
  validateInferRequest,
  type InferContext,
  type InferRequest,
  type InferResponse,
  type InferenceService,
  type ModelIndexEntry,
  type ModelMetadata,
  type ServerMetadata,
  type Tensor,
} from '@sibyl/protocol';
import { DEFAULT_MAX_BATCH_SIZE, runtimeErrors } from '@sibyl/runtime';
import { detectBackend } from './backend-choice.js';
import { tfInferenceFailed } from './errors.js';
import { createTfThreadInstance, type TfThreadInstance } from './tf-thread-instance.js';
import { DATATYPE_OF_TF, TF_OF_DATATYPE, tfSignature, type TfSignature } from './tf-signature.js';
import type { TfBackendName, TfData, TfDtype, TfWireTensor } from './tf-wire.js';

export interface TfInferenceServiceOptions {
  /** The model repository directory (Triton's layout, a model.json per version directory). */
  repository: string;
  /** Backend every thread starts on. Default: detectBackend() (native GPU, native, WASM, CPU). */
  backend?: TfBackendName;
  /** Threads (one TensorFlow.js instance each) per model version. Default 1. */
  threadsPerVersion?: number;
  /** max_batch_size of a model whose every tensor has a variable first dimension. Default 4, as for ONNX models. */
  defaultMaxBatchSize?: number;
  serverVersion: string;
  /** Protocol extensions server metadata lists. */
  extensions: readonly string[];
  logger?: Logger;
}

export interface TfInferenceService extends InferenceService {
  /** The backend asked for at start (the threads report what they run on in `loadedBackends`). */
  readonly backend: TfBackendName;
  /** Backends the loaded threads actually run on (tfjs's names), e.g. ['wasm']. */
  loadedBackends(): string[];
  /** Reads the repository and loads every version; resolves when each has loaded or failed. */
  load(): Promise<void>;
  close(): Promise<void>;
}

interface VersionState {
  version: string;
  dir: string;
  state: 'LOADING' | 'READY' | 'UNAVAILABLE';
  reason: string;
  signature?: TfSignature;
  metadata?: ModelMetadata;
  instances: TfThreadInstance[];
}

interface ModelState {
  name: string;
  /** Ascending by number. */
  versions: VersionState[];
}

const VERSION_DIR = /^[1-9][0-9]{0,18}$/;

function feedOf(tensor: Tensor): TfWireTensor {
  const dtype = TF_OF_DATATYPE.get(tensor.datatype);
  // Validation has matched the datatype with metadata, which only holds datatypes with a tfjs dtype.
  if (dtype === undefined) throw new TypeError(`datatype ${tensor.datatype} has no TensorFlow.js dtype`);
  return { name: tensor.name, dtype, shape: tensor.shape, data: tensor.data as TfData };
}

export function createTfInferenceService(options: TfInferenceServiceOptions): TfInferenceService {
  const backend = options.backend ?? detectBackend();
  const threads = options.threadsPerVersion ?? 1;
  if (!Number.isInteger(threads) || threads < 1) throw new TypeError(`option threadsPerVersion must be a positive integer, got ${String(threads)}`);
  const defaultMaxBatchSize = options.defaultMaxBatchSize ?? DEFAULT_MAX_BATCH_SIZE;
  const { logger } = options;
  const serverMetadata: ServerMetadata = Object.freeze({ name: 'sibyl', version: options.serverVersion, extensions: [...options.extensions] });
  const models = new Map<string, ModelState>();
  let closed = false;

  async function scan(): Promise<void> {
    let entries;
    try {
      entries = await readdir(options.repository, { withFileTypes: true });
    } catch (err) {
      throw runtimeErrors.repositoryUnreadable(options.repository, err instanceof Error ? err.message : String(err));
    }
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
      if (!isValidModelName(entry.name)) {
        logger?.warn({ event: 'repository', path: join(options.repository, entry.name) }, `directory '${entry.name}' is not a valid model name; not loaded`);
        continue;
      }
      const modelDir = join(options.repository, entry.name);
      const versions = (await readdir(modelDir, { withFileTypes: true }))
        .filter((v) => v.isDirectory() && VERSION_DIR.test(v.name))
        .map((v) => v.name)
        .sort((a, b) => Number(a) - Number(b));
      if (versions.length === 0) {
        logger?.warn({ event: 'repository', model: entry.name }, runtimeErrors.noVersions(entry.name, modelDir).message);
        continue;
      }
      models.set(entry.name, {
        name: entry.name,
        versions: versions.map((version) => ({ version, dir: join(modelDir, version), state: 'LOADING', reason: '', instances: [] })),
      });
    }
  }

  async function loadVersion(model: ModelState, v: VersionState): Promise<void> {
    const file = join(v.dir, 'model.json');
    if (!(await stat(file).catch(() => undefined))?.isFile()) {
      v.state = 'UNAVAILABLE';
      v.reason = runtimeErrors.modelFileMissing(model.name, v.version, file).message;
      return;
    }
    const onFailure = (instance: () => TfThreadInstance | undefined) => (reason: string) => {
      const failed = instance();
      v.instances = v.instances.filter((i) => i !== failed);
      logger?.error({ model: model.name, version: v.version, reason }, `model '${model.name}' version ${v.version}: a model thread stopped: ${reason}`);
      if (v.instances.length === 0) {
        v.state = 'UNAVAILABLE';
        v.reason = runtimeErrors.instanceFailed(model.name, v.version, reason).message;
      }
    };
    const opened = await Promise.allSettled(
      Array.from({ length: threads }, () => {
        let self: TfThreadInstance | undefined;
        return createTfThreadInstance({ dir: v.dir, backend, onFailure: onFailure(() => self) }).then((i) => (self = i));
      }),
    );
    const instances = opened.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = opened.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    try {
      if (failed !== undefined) throw runtimeErrors.modelFileInvalid(model.name, v.version, file, (failed.reason as Error).message);
      const signature = tfSignature(model.name, v.version, instances[0]!.info, defaultMaxBatchSize);
      if (closed) throw new Error('the service closed while the model loaded');
      v.signature = signature;
      v.metadata = Object.freeze({ name: model.name, versions: [v.version], platform: signature.platform, inputs: signature.inputs, outputs: signature.outputs });
      v.instances = instances;
      v.state = 'READY';
      logger?.info(
        { event: 'model-loaded', model: model.name, version: v.version, platform: signature.platform, backend: instances[0]!.backend, threads: instances.length },
        `model '${model.name}' version ${v.version} ready (${signature.platform}, TensorFlow.js on ${instances[0]!.backend}, ${instances.length} thread(s))`,
      );
    } catch (err) {
      await Promise.allSettled(instances.map((i) => i.close()));
      v.state = 'UNAVAILABLE';
      v.reason = err instanceof Error ? err.message : String(err);
      logger?.error({ model: model.name, version: v.version, reason: v.reason }, `model '${model.name}' version ${v.version} failed to load: ${v.reason}`);
    }
  }

  function modelOf(name: string): ModelState {
    const model = models.get(name);
    if (model === undefined) throw runtimeErrors.modelNotFound(name, `no model directory '${name}' in ${options.repository}`);
    return model;
  }

  /** The version asked for; without one, the highest version that serves (else the highest). */
  function versionOf(model: ModelState, version: string | undefined): VersionState {
    if (version === undefined || version === '') {
      const ready = model.versions.filter((v) => v.state === 'READY');
      return ready[ready.length - 1] ?? model.versions[model.versions.length - 1]!;
    }
    const found = model.versions.find((v) => v.version === version);
    if (found === undefined) throw runtimeErrors.versionNotFound(model.name, version, 'no such version directory', model.versions.map((v) => v.version));
    return found;
  }

  function ready(name: string, version: string | undefined): VersionState & { metadata: ModelMetadata; signature: TfSignature } {
    const v = versionOf(modelOf(name), version);
    if (closed) throw runtimeErrors.modelNotReady(name, v.version, 'the service is closed');
    if (v.state !== 'READY') throw runtimeErrors.modelNotReady(name, v.version, v.state === 'LOADING' ? 'it is loading' : v.reason);
    return v as VersionState & { metadata: ModelMetadata; signature: TfSignature };
  }

  function checkBatch(name: string, inputs: readonly Tensor[], maxBatchSize: number): void {
    if (maxBatchSize === 0 || inputs.length === 0) return;
    const first = inputs[0]!;
    for (const other of inputs) {
      if (other.shape[0] !== first.shape[0]) throw runtimeErrors.batchMismatch(name, first.name, first.shape[0]!, other.name, other.shape[0]!);
    }
    if (first.shape[0]! > maxBatchSize) throw runtimeErrors.batchTooLarge(name, first.shape[0]!, maxBatchSize);
  }

  return {
    backend,
    loadedBackends: () => [...new Set([...models.values()].flatMap((m) => m.versions.flatMap((v) => v.instances.map((i) => i.backend))))],

    async load() {
      await scan();
      const all = [...models.values()].flatMap((m) => m.versions.map((v) => loadVersion(m, v)));
      await Promise.all(all);
    },

    serverLive: async () => true,
    serverReady: async () => !closed && [...models.values()].every((m) => m.versions.some((v) => v.state === 'READY')),
    serverMetadata: async () => serverMetadata,

    async modelMetadata(name, version) {
      const model = modelOf(name);
      const v = ready(name, version);
      if (version !== undefined && version !== '') return v.metadata;
      return { ...v.metadata, versions: model.versions.filter((x) => x.state === 'READY').map((x) => x.version) };
    },

    async modelReady(name, version) {
      const v = versionOf(modelOf(name), version);
      return !closed && v.state === 'READY';
    },

    async infer(request: InferRequest, context?: InferContext): Promise<InferResponse> {
      const v = ready(request.modelName, request.modelVersion);
      validateInferRequest(request, v.metadata);
      checkBatch(request.modelName, request.inputs, v.signature.maxBatchSize);
      if (context?.deadlineMs !== undefined && Date.now() > context.deadlineMs) {
        throw runtimeErrors.deadlineExceeded(request.modelName, v.version, 'before the model ran', Date.now() - context.deadlineMs);
      }
      const fetches = request.outputs !== undefined && request.outputs.length > 0 ? request.outputs.map((o) => o.name) : v.metadata.outputs.map((o) => o.name);
      let instance = v.instances[0]!;
      for (const i of v.instances) if (i.pending < instance.pending) instance = i;
      let result;
      try {
        result = await instance.run(request.inputs.map(feedOf), fetches);
      } catch (err) {
        throw tfInferenceFailed(request.modelName, v.version, err instanceof Error ? err.message : String(err));
      }
      const outputs: Tensor[] = result.outputs.map((o) => ({
        name: o.name,
        datatype: DATATYPE_OF_TF[o.dtype as TfDtype],
        shape: o.shape,
        data: o.data,
      }));
      return { modelName: request.modelName, modelVersion: v.version, ...(request.id === undefined ? {} : { id: request.id }), outputs };
    },

    async repositoryIndex(): Promise<ModelIndexEntry[]> {
      return [...models.values()].flatMap((m) => m.versions.map((v) => ({ name: m.name, version: v.version, state: v.state, reason: v.reason })));
    },

    async close() {
      closed = true;
      await Promise.allSettled([...models.values()].flatMap((m) => m.versions.flatMap((v) => v.instances.map((i) => i.close()))));
    },
  };
}
