/** `sibyl-worker-tf`: a worker serving the TensorFlow.js models of --model-repository, in pool `tf` by default. */
import { runWorkerMain } from './run-main.js';

await runWorkerMain('tf');
