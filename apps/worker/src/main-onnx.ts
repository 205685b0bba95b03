/** `sibyl-worker-onnx`: a worker hosting ONNX models on demand, in pool `onnx` by default. */
import { runWorkerMain } from './run-main.js';

await runWorkerMain('onnx');
