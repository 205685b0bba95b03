/**
 * The in-process ONNX data plane: an InferenceService over a model source (the model repositories,
 * or the model registry), running models with onnxruntime-node inline or on worker threads.
 *
 * What serves follows the source while the service runs (model-sync.ts): new versions load, the
 * live version switches once the new one is READY, dropped versions drain before they are released.
 * A request finishes on the version it started on.
 *
 * Input ownership: on a thread-mode model, an input whose typed array spans its whole ArrayBuffer is
 * transferred to the worker and so detached in the caller; callers must not read request input
 * data after infer() (views into a larger buffer, such as a request body, are copied instead).
 */
import { availableParallelism } from 'node:os';
import type { FailureReason, Logger, SibylMetrics } from '@sibyl/observability';
import {
  toSibylError,
  validateInferRequest,
  type InferContext,
  type InferRequest,
  type InferResponse,
  type InferenceService,
  type ModelIndexEntry,
  type ModelMetadata,
  type ModelStatistics,
  type SibylError,
  type ServerMetadata,
  type Tensor,
} from '@sibyl/protocol';
import { createDirectorySource } from './directory-source.js';
import { batchMismatch, batchTooLarge, deadlineExceeded, modelNotFound, modelNotReady } from './errors.js';
import { DEFAULT_THREAD_THRESHOLD_US } from './execution-mode.js';
import type { PoolRunResult } from './instance-pool.js';
import { summarise, type LoadSummary } from './load-summary.js';
import type { ModelConfig } from './model-config.js';
import type { ModelEngine } from './model-engine.js';
import { onnxEngine } from './onnx-engine.js';
import type { ModelSource } from './model-source.js';
import { createModelSync } from './model-sync.js';
import type { LoadedVersion } from './model-loader.js';
import { StatisticsTable } from './model-statistics.js';
import { ServedModels, type ModelEntry, type VersionEntry } from './served-models.js';
import { fromWireTensor, toWireTensor } from './tensor-conversion.js';

export interface LocalInferenceServiceOptions {
  /** Model repository directories (`--model-repository`, repeatable), Triton's layout; read when no `source` is given. */
  repositories?: readonly string[];
  /** Where the models come from. Default: the `repositories` directories. */
  source?: ModelSource;
  /**
   * Triton's `--model-control-mode explicit`: `load()` loads nothing, and a model serves only after
   * `load(name)`. Default false: every model of the source serves. `load(name)` and `unload(name)`
   * work in both cases.
   */
  explicitModelControl?: boolean;
  logger: Logger;
  metrics: SibylMetrics;
  /** Reported by serverMetadata(). */
  serverVersion: string;
  /** Protocol extensions reported by serverMetadata(): the list the transports implement. */
  extensions: readonly string[];
  /**
   * true (default, as Triton's --strict-readiness): serverReady() once loading finished and every
   * model version is READY. false: once loading finished, whatever failed.
   */
  strictReadiness?: boolean;
  /** Model versions loaded at the same time; default os.availableParallelism(). */
  loadConcurrency?: number;
  /** `execution_mode: auto` keeps a model on threads when its typical (median) warm-up run exceeds this; microseconds, default 200. */
  autoThreadThresholdUs?: number;
  /** The engines models run on (model-engine.ts); default onnxruntime alone. */
  engines?: readonly ModelEngine[];
}

export interface LocalInferenceService extends InferenceService {
  /**
   * Without a name: reads the source and loads every model (none under explicit model control),
   * then follows the source's changes; resolves once all are READY or UNAVAILABLE. Idempotent.
   *
   * With a name (Triton's repository load API): re-reads that model from the source and loads it;
   * it stays loaded until `unload(name)`. Resolves once it serves; rejects with SIBYL_MODEL_NOT_FOUND
   * for a model the source lacks, or with the load error of the first version that failed.
   */
  load(name?: string): Promise<LoadSummary>;
  /**
   * Triton's repository unload API: the model stops serving (listed UNAVAILABLE, 'unloaded') and
   * stays so until `load(name)`; resolves once the requests running on it finished and its sessions
   * are released. SIBYL_MODEL_NOT_FOUND for a model the service does not know.
   */
  unload(name: string): Promise<void>;
  /** Triton's statistics of the READY versions of every model, of a model's READY versions, or of one version. */
  modelStatistics(name?: string, version?: string): Promise<ModelStatistics[]>;
  /** Normalised configuration of a version (the default one when none named), Triton's model_configuration form. */
  modelConfig(name: string, version?: string): Promise<ModelConfig>;
  /** Resolves once the source changes notified so far are applied (new versions may still be loading). */
  settled(): Promise<void>;
  /** Releases every session and ends every worker thread; the service then answers not ready. Idempotent. */
  close(): Promise<void>;
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new TypeError(`option ${name} must be a positive integer, got ${String(value)}`);
  return value;
}

/** Triton's failure reasons: REJECTED by the scheduler (deadline), CANCELED, BACKEND execution, OTHER (bad input...). */
function failureReason(err: SibylError): FailureReason {
  switch (err.code) {
    case 'SIBYL_DEADLINE_EXCEEDED':
      return 'REJECTED';
    case 'SIBYL_REQUEST_CANCELLED':
      return 'CANCELED';
    case 'SIBYL_INFERENCE_FAILED':
    case 'SIBYL_INSTANCE_FAILED':
      return 'BACKEND';
    default:
      return 'OTHER';
  }
}

/** The batch size of a request to a batching model (checked: shared by every input, within max_batch_size). */
function batchOf(model: string, inputs: readonly Tensor[], maxBatchSize: number): number {
  if (maxBatchSize === 0) return 1;
  const first = inputs[0];
  if (first === undefined) return 1;
  const batch = first.shape[0]!;
  for (let i = 1; i < inputs.length; i++) {
    const other = inputs[i]!;
    if (other.shape[0] !== batch) throw batchMismatch(model, first.name, batch, other.name, other.shape[0]!);
  }
  if (batch > maxBatchSize) throw batchTooLarge(model, batch, maxBatchSize);
  return batch;
}

export function createLocalInferenceService(options: LocalInferenceServiceOptions): LocalInferenceService {
  const { logger, metrics } = options;
  const strict = options.strictReadiness ?? true;
  const concurrency = positiveInteger('loadConcurrency', options.loadConcurrency, availableParallelism());
  const thresholdUs = options.autoThreadThresholdUs ?? DEFAULT_THREAD_THRESHOLD_US;
  if (!(thresholdUs >= 0)) throw new TypeError(`option autoThreadThresholdUs must be >= 0, got ${String(thresholdUs)}`);
  if (options.source === undefined && options.repositories === undefined) throw new TypeError('option source or repositories is required');
  const source = options.source ?? createDirectorySource(options.repositories!, logger);
  const serverMetadata: ServerMetadata = Object.freeze({ name: 'sibyl', version: options.serverVersion, extensions: [...options.extensions] });
  const engines = options.engines ?? [onnxEngine];
  if (engines.length === 0) throw new TypeError('option engines must name at least one engine');
  const served = new ServedModels(source.unknownModel);
  // Which models serve: all but the unloaded ones, or (explicit model control) only the loaded ones.
  const explicit = options.explicitModelControl ?? false;
  const chosen = new Set<string>();
  const isSelected = (name: string) => (explicit ? chosen.has(name) : !chosen.has(name));
  const select = (name: string, on: boolean) => {
    if (on === explicit) chosen.add(name);
    else chosen.delete(name);
  };
  let loading: Promise<LoadSummary> | undefined;
  let loaded = false;
  let closing: Promise<void> | undefined;
  let stopWatching: (() => Promise<void>) | undefined;
  const statistics = new StatisticsTable<LoadedVersion>();
  const sync = createModelSync({
    source,
    table: served,
    logger,
    metrics,
    concurrency,
    threadThresholdUs: thresholdUs,
    engines,
    isSelected,
    isClosed: () => closing !== undefined,
  });

  async function infer(request: InferRequest, context: InferContext = {}): Promise<InferResponse> {
    const arrived = performance.now();
    const { loaded: version, metadata, version: entry } = served.ready(request.modelName, request.modelVersion);
    const model = request.modelName;
    const label = version.version;
    // Counted until the response is ready: a version being unloaded waits for its in-flight requests.
    entry.inflight++;
    const stats = statistics.of(version);
    try {
      validateInferRequest(request, metadata);
      const batchSize = batchOf(model, request.inputs, version.signature.maxBatchSize);
      const deadline = context.deadlineMs;
      if (deadline !== undefined && Date.now() >= deadline) {
        throw deadlineExceeded(model, label, 'before execution', Date.now() - deadline);
      }
      const converting = performance.now();
      const feeds = request.inputs.map(toWireTensor);
      const inputNs = (performance.now() - converting) * 1e6;
      const fetches =
        request.outputs !== undefined && request.outputs.length > 0
          ? request.outputs.map((o) => o.name)
          : version.signature.outputs.map((o) => o.name);
      const batcher = version.batcher;
      let result: PoolRunResult;
      if (batcher === undefined) {
        result = await version.pool.run(feeds, fetches, context);
        metrics.executed(model, label);
      } else {
        // The batcher counts one execution per batch (nv_inference_exec_count, as Triton).
        result = await batcher.submit(feeds, fetches, batchSize, request.parameters, context);
      }
      const computed = performance.now();
      const outputs = result.outputs.map((o) => fromWireTensor(o, version.outputTypes.get(o.name)!));
      const ended = performance.now();
      const outputNs = (ended - computed) * 1e6;
      const inferNs = result.computeUs * 1000;
      stats.succeeded(batchSize, (ended - arrived) * 1e6, result.queueUs * 1000, inputNs, inferNs, outputNs);
      // A run of its own, or (dynamic batching) one request per batch reports the batch's execution.
      if (batcher === undefined) stats.executed(batchSize, inputNs, inferNs, outputNs);
      else if (result.execution !== undefined) stats.executed(result.execution.rows, result.execution.joinNs, inferNs, 0);
      metrics.inferenceSucceeded(model, label, {
        batchSize,
        requestUs: Math.round((ended - arrived) * 1000),
        queueUs: result.queueUs,
        computeUs: result.computeUs,
      });
      const response: InferResponse = { modelName: model, modelVersion: label, outputs };
      if (request.id !== undefined) response.id = request.id;
      if (request.parameters !== undefined) response.parameters = request.parameters;
      return response;
    } catch (err) {
      const error = toSibylError(err);
      stats.failed((performance.now() - arrived) * 1e6);
      metrics.inferenceFailed(model, label, failureReason(error));
      throw error;
    } finally {
      if (--entry.inflight === 0 && entry.onIdle !== undefined) entry.onIdle();
    }
  }

  const versionStatistics = (name: string, v: VersionEntry): ModelStatistics => statistics.report(v.loaded, name, String(v.version));
  const readyStatistics = (entry: ModelEntry): ModelStatistics[] =>
    entry.versions.filter((v) => v.state === 'READY').map((v) => versionStatistics(entry.name, v));

  /** Triton's statistics extension: no name, every model; no version, its READY versions; else that version, whatever its state. */
  async function modelStatistics(name?: string, version?: string): Promise<ModelStatistics[]> {
    if (name === undefined || name === '') {
      const entries = served.all().filter((e) => !e.unloaded && e.failure === undefined);
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      return entries.flatMap(readyStatistics);
    }
    // The same NOT_FOUND (and, for a model that does not serve, NOT_READY) answers as metadata.
    if (version !== undefined && version !== '') return [versionStatistics(name, served.version(name, version).version)];
    const { entry } = served.version(name, undefined);
    return readyStatistics(entry);
  }

  function start(): Promise<LoadSummary> {
    loading ??= (async () => {
      // Watch before the first read, so no change between the read and the watch is missed.
      if (source.watch !== undefined) stopWatching = await source.watch((model) => sync.requestRefresh(model));
      const skipped = await sync.syncAll();
      loaded = true;
      return summarise(served.all(), skipped);
    })();
    return loading;
  }

  async function loadOne(name: string): Promise<LoadSummary> {
    await start();
    if (closing !== undefined) throw modelNotReady(name, undefined, 'the service is closed');
    select(name, true);
    await source.reread?.(name);
    const entry = await sync.syncModel(name);
    if (entry === undefined) {
      select(name, false);
      throw modelNotFound(name, source.unknownModel);
    }
    if (entry.failure !== undefined) throw modelNotReady(name, undefined, entry.failure);
    const failed = entry.versions.find((v) => v.state !== 'READY');
    if (failed !== undefined) throw failed.error ?? modelNotReady(name, String(failed.version), failed.reason || 'it is still loading');
    return summarise([entry], []);
  }

  return {
    async serverLive() {
      return closing === undefined;
    },
    async serverReady() {
      return loaded && closing === undefined && (!strict || served.allReady());
    },
    async serverMetadata() {
      return { ...serverMetadata, extensions: [...serverMetadata.extensions], runtimes: engines.map((e) => e.description) };
    },
    async modelMetadata(name, version): Promise<ModelMetadata> {
      const { entry, metadata } = served.ready(name, version);
      return {
        name,
        versions: served.available(entry),
        platform: metadata.platform,
        inputs: metadata.inputs.map((t) => ({ ...t, shape: [...t.shape] })),
        outputs: metadata.outputs.map((t) => ({ ...t, shape: [...t.shape] })),
      };
    },
    async modelReady(name, version) {
      const entry = served.model(name);
      if (closing !== undefined || entry.unloaded || entry.failure !== undefined) return false;
      if (version === undefined || version === '') {
        const live = entry.live;
        if (live === null) return false;
        if (live !== undefined) return live.state === 'READY';
        return entry.versions.some((v) => v.state === 'READY');
      }
      return served.version(name, version).version.state === 'READY';
    },
    infer,
    async repositoryIndex(): Promise<ModelIndexEntry[]> {
      return served.index();
    },
    modelStatistics,
    async modelConfig(name, version) {
      return structuredClone(served.ready(name, version).loaded.config);
    },
    load(name) {
      return name === undefined ? start() : loadOne(name);
    },
    async unload(name) {
      await start();
      served.model(name);
      select(name, false);
      await sync.syncModel(name);
      await sync.released();
    },
    settled: () => sync.settled(),
    close() {
      closing ??= (async () => {
        await stopWatching?.().catch(() => undefined);
        await loading?.catch(() => undefined);
        // No read of the source after close() resolves: the caller may close it next.
        await sync.close();
        const pools: Array<Promise<void>> = [];
        for (const entry of served.all()) {
          for (const v of entry.versions) {
            if (v.loaded !== undefined) pools.push(v.loaded.pool.close());
            if (v.state === 'READY') metrics.setModelReady(entry.name, String(v.version), false);
            v.state = 'UNAVAILABLE';
            v.reason = 'unloaded: the service is closed';
          }
        }
        await Promise.allSettled(pools);
      })();
      return closing;
    },
  };
}
