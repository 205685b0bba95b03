/**
 * @sibyl/runtime: the in-process ONNX data plane. A model repository in Triton's layout, loaded and
 * served through the v2 InferenceService, with models running inline or on worker threads.
 */
export {
  createLocalInferenceService,
  type LocalInferenceService,
  type LocalInferenceServiceOptions,
} from './local-inference-service.js';
export type { LoadSummary, ModelLoadResult } from './repository-loader.js';
export type { SkippedEntry } from './repository-scan.js';
export type { ModelConfig, TensorConfig, VersionPolicy, InstanceGroup, ExecutionModeSetting } from './model-config.js';
export { DEFAULT_MAX_BATCH_SIZE } from './model-signature.js';
export { DEFAULT_THREAD_THRESHOLD_US } from './execution-mode.js';
export type { ExecutionKind, ExecutionInstance } from './execution-instance.js';
export { TRITON_TYPE, datatypeOfTriton } from './datatype-mapping.js';
export * as runtimeErrors from './errors.js';
