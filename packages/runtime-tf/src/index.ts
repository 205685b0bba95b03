/**
 * @sibyl/runtime-tf: the TensorFlow.js data plane. Graph and layers models of a model repository in
 * Triton's layout, each version on worker threads with its own TensorFlow.js, served through the v2
 * InferenceService; the backend (native GPU, native, WASM, CPU) is chosen once at start.
 */
export { createTfInferenceService, type TfInferenceService, type TfInferenceServiceOptions } from './tf-inference-service.js';
export { chooseBackend, detectBackend, systemProbe, type BackendProbe } from './backend-choice.js';
export { DATATYPE_OF_TF, tfSignature, type TfSignature } from './tf-signature.js';
export type { TfBackendName, TfDtype, TfModelInfo } from './tf-wire.js';
export * as tfRuntimeErrors from './errors.js';
