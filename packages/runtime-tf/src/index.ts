/**
 * @sibyl/runtime-tf: the TensorFlow.js model engine. Graph and layers models (a version directory's
 * model.json and weight shards), each instance on a worker thread with its own TensorFlow.js, plugged
 * into @sibyl/runtime's data plane; the backend (native GPU, native, WASM, CPU) is chosen once at start.
 */
export { createTfEngine, type TfEngine, type TfEngineOptions } from './tf-engine.js';
export { chooseBackend, detectBackend, systemProbe, type BackendProbe } from './backend-choice.js';
export type { TfBackendName, TfDtype, TfModelInfo } from './tf-wire.js';
