/**
 * The in-process ONNX data plane: an InferenceService over the model repositories, running models
 * with onnxruntime-node inline or on worker threads.
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
  type SibylError,
  type ServerMetadata,
  type Tensor,
} from '@sibyl/protocol';
import { batchMismatch, batchTooLarge, deadlineExceeded } from './errors.js';
import { DEFAULT_THREAD_THRESHOLD_US } from './execution-mode.js';
import { PLATFORM, type ModelConfig } from './model-config.js';
import { ModelRegistry } from './model-registry.js';
import { loadRepositories, type LoadSummary } from './repository-loader.js';
import { fromWireTensor, toWireTensor } from './tensor-conversion.js';

export interface LocalInferenceServiceOptions {
  /** Model repository directories (`--model-repository`, repeatable), Triton's layout. */
  repositories: readonly string[];
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
}

export interface LocalInferenceService extends InferenceService {
  /** Scans the repositories and loads every model; resolves once all are READY or UNAVAILABLE. Idempotent. */
  load(): Promise<LoadSummary>;
  /** Normalised configuration of a version (highest ready when none named), Triton's model_configuration form. */
  modelConfig(name: string, version?: string): Promise<ModelConfig>;
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
  const serverMetadata: ServerMetadata = Object.freeze({ name: 'sibyl', version: options.serverVersion, extensions: [...options.extensions] });
  const registry = new ModelRegistry();
  let loading: Promise<LoadSummary> | undefined;
  let loaded = false;
  let closing: Promise<void> | undefined;

  async function infer(request: InferRequest, context: InferContext = {}): Promise<InferResponse> {
    const arrived = performance.now();
    const { loaded: version, metadata } = registry.ready(request.modelName, request.modelVersion);
    const model = request.modelName;
    const label = version.version;
    try {
      validateInferRequest(request, metadata);
      const batchSize = batchOf(model, request.inputs, version.signature.maxBatchSize);
      const deadline = context.deadlineMs;
      if (deadline !== undefined && Date.now() >= deadline) {
        throw deadlineExceeded(model, label, 'before execution', Date.now() - deadline);
      }
      const feeds = request.inputs.map(toWireTensor);
      const fetches =
        request.outputs !== undefined && request.outputs.length > 0
          ? request.outputs.map((o) => o.name)
          : version.signature.outputs.map((o) => o.name);
      const result = await version.pool.run(feeds, fetches, context);
      metrics.executed(model, label);
      const outputs = result.outputs.map((o) => fromWireTensor(o, version.outputTypes.get(o.name)!));
      metrics.inferenceSucceeded(model, label, {
        batchSize,
        requestUs: Math.round((performance.now() - arrived) * 1000),
        queueUs: result.queueUs,
        computeUs: result.computeUs,
      });
      const response: InferResponse = { modelName: model, modelVersion: label, outputs };
      if (request.id !== undefined) response.id = request.id;
      if (request.parameters !== undefined) response.parameters = request.parameters;
      return response;
    } catch (err) {
      const error = toSibylError(err);
      metrics.inferenceFailed(model, label, failureReason(error));
      throw error;
    }
  }

  return {
    async serverLive() {
      return closing === undefined;
    },
    async serverReady() {
      return loaded && closing === undefined && (!strict || registry.allReady());
    },
    async serverMetadata() {
      return { ...serverMetadata, extensions: [...serverMetadata.extensions] };
    },
    async modelMetadata(name, version): Promise<ModelMetadata> {
      const { entry, metadata } = registry.ready(name, version);
      return {
        name,
        versions: registry.available(entry),
        platform: PLATFORM,
        inputs: metadata.inputs.map((t) => ({ ...t, shape: [...t.shape] })),
        outputs: metadata.outputs.map((t) => ({ ...t, shape: [...t.shape] })),
      };
    },
    async modelReady(name, version) {
      if (closing !== undefined) {
        registry.model(name);
        return false;
      }
      const entry = registry.model(name);
      if (entry.failure !== undefined) return false;
      if (version === undefined || version === '') return entry.versions.some((v) => v.state === 'READY');
      return registry.version(name, version).version.state === 'READY';
    },
    infer,
    async repositoryIndex(): Promise<ModelIndexEntry[]> {
      return registry.index();
    },
    async modelConfig(name, version) {
      return structuredClone(registry.ready(name, version).loaded.config);
    },
    load() {
      loading ??= loadRepositories({
        repositories: options.repositories,
        registry,
        logger,
        metrics,
        concurrency,
        threadThresholdUs: thresholdUs,
        isClosed: () => closing !== undefined,
      }).then((summary) => {
        loaded = true;
        return summary;
      });
      return loading;
    },
    close() {
      closing ??= (async () => {
        await loading?.catch(() => undefined);
        const pools: Array<Promise<void>> = [];
        for (const entry of registry.all()) {
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
