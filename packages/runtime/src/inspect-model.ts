/**
 * Validates a model before anyone stores it: loads it in onnxruntime through the same code as a
 * real load (model-loader.ts), derives what it serves, and releases it. The management API calls it
 * on every upload, and the repository import on every new file, so a model that cannot serve is
 * refused with the runtime's own reason rather than registered.
 */
import { stat } from 'node:fs/promises';
import { createMetrics } from '@sibyl/observability';
import type { TensorMetadata } from '@sibyl/protocol';
import { chooseEngine } from './engine-choice.js';
import { configInvalid } from './errors.js';
import { defaultDeclaredConfig, parseModelConfig, type DeclaredConfig } from './model-config.js';
import type { ModelEngine } from './model-engine.js';
import { loadModelVersion } from './model-loader.js';
import type { ModelLocation } from './model-source.js';
import { onnxEngine } from './onnx-engine.js';

/** What a model serves, as the registry records it (`VersionSignature`). */
export interface ModelSignature {
  /** `onnxruntime_onnx`, `tensorflowjs_graph`, `tensorflowjs_layers`. */
  platform: string;
  /** As model metadata serves them: symbolic dims -1, a leading -1 when the model batches. */
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
  /** Triton's max_batch_size: 0 when the model does not batch. */
  maxBatchSize: number;
}

export interface InspectOptions {
  /** Model name in error messages, and the name a config's `name` must match. Default: the config's `name`, else 'model'. */
  model?: string;
  /** Version in error messages. Default '1'. */
  version?: number;
  /** The engines a model may be for (model-engine.ts); default onnxruntime alone. */
  engines?: readonly ModelEngine[];
}

/** The name messages give the config, which has no file when it comes with an upload. */
const CONFIG_SOURCE = 'config';

function declared(model: string, config: unknown): DeclaredConfig {
  if (config === undefined || config === null) return defaultDeclaredConfig();
  return parseModelConfig(model, CONFIG_SOURCE, config);
}

/**
 * Loads the model at `path` (an ONNX file, or a directory holding `model.onnx`, `model.json` (a
 * TensorFlow.js model, with the TF engine given) or the config's `default_model_filename`) with `config` (Triton's config.json form, optional) and returns its
 * signature. Throws the runtime's SibylError when it cannot serve: SIBYL_MODEL_FILE_INVALID (corrupt,
 * truncated, not ONNX), SIBYL_MODEL_FILE_MISSING, SIBYL_DATATYPE_UNSUPPORTED, SIBYL_CONFIG_INVALID,
 * SIBYL_CONFIG_MISMATCH.
 */
export async function inspectModel(path: string, config?: unknown, options: InspectOptions = {}): Promise<ModelSignature> {
  const configName = (config as { name?: unknown } | null | undefined)?.name;
  const model = options.model ?? (typeof configName === 'string' && configName !== '' ? configName : 'model');
  const version = options.version ?? 1;
  if (config !== undefined && config !== null && (typeof config !== 'object' || Array.isArray(config))) {
    throw configInvalid(model, CONFIG_SOURCE, '', 'must be a JSON object');
  }
  const parsed = declared(model, config);
  const info = await stat(path).catch(() => undefined);
  const location: ModelLocation = info?.isDirectory() ? { dir: path } : { file: path };
  const engines = options.engines ?? [onnxEngine];
  // One instance is enough to derive the signature: inline where the engine can (no thread to start).
  const { engine } = await chooseEngine({ model, version: String(version) }, location, parsed, engines);
  const loaded = await loadModelVersion({
    model,
    version,
    location,
    config: { ...parsed, executionMode: engine.kinds.includes('inline') ? 'inline' : 'thread', instanceGroups: [] },
    engines,
    threadThresholdUs: 0,
    // Nothing runs here, so nothing is counted.
    metrics: createMetrics({ processMetrics: false }),
    onInstanceFailure: () => undefined,
  });
  await loaded.pool.close();
  const { signature } = loaded;
  return { platform: loaded.platform, inputs: signature.inputs, outputs: signature.outputs, maxBatchSize: signature.maxBatchSize };
}
