/** `sibyl-worker-tf`: a worker hosting TensorFlow.js models on demand, in pool `tf` by default. */
import { runWorkerMain } from './run-main.js';

await runWorkerMain('tf');
