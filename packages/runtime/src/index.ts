/**
 * @sibyl/runtime: the in-process data plane. Models from a source (a model repository in Triton's
 * layout, or the model registry with its artifact store, which the repositories are imported into),
 * loaded by a model engine (onnxruntime-node here, TensorFlow.js from @sibyl/runtime-tf) and served
 * through the v2 InferenceService, with models running inline or on worker threads; releases in the
 * registry take effect without a restart.
 */
export {
  createLocalInferenceService,
  type LocalInferenceService,
  type LocalInferenceServiceOptions,
} from './local-inference-service.js';
export type { LoadSummary, ModelLoadResult } from './load-summary.js';
export {
  createModelCache,
  type ModelCache,
  type ModelCacheEntry,
  type ModelCacheHost,
  type ModelCacheOptions,
  type ModelCacheState,
  type ModelCacheStats,
} from './model-cache.js';
export type { ModelLocation, ModelSource, SourceListing, SourceModel, SourceVersion, VersionReport } from './model-source.js';
export { createDirectorySource } from './directory-source.js';
export { createRegistrySource, type RegistrySource, type RegistrySourceOptions } from './registry-source.js';
export type { ImportProblems, ImportSummary } from './repository-import.js';
export { inspectModel, type InspectOptions, type ModelSignature } from './inspect-model.js';
export type { SkippedEntry } from './repository-scan.js';
export type { ModelConfig, TensorConfig, VersionPolicy, InstanceGroup, ExecutionModeSetting } from './model-config.js';
export { DEFAULT_MAX_BATCH_SIZE } from './model-signature.js';
export { DEFAULT_THREAD_THRESHOLD_US } from './execution-mode.js';
export { RunSkipped } from './execution-instance.js';
export { prepareTransfer } from './thread-instance.js';
export type { ExecutionKind, ExecutionInstance, InstanceFailureListener, RunControl, SkipReason } from './execution-instance.js';
export { KNOWN_BACKENDS, KNOWN_MODEL_FILES, KNOWN_PLATFORMS, type ModelEngine, type OpenInstanceOptions } from './model-engine.js';
export { onnxEngine } from './onnx-engine.js';
export type { RunResult, SessionInfo, WireTensor, WireValueInfo } from './wire.js';
export { TRITON_TYPE, datatypeOfTriton } from './datatype-mapping.js';
export * as runtimeErrors from './errors.js';
