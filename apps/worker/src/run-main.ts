/**
 * The body of `sibyl worker-onnx` and `sibyl worker-tf` (also `sibyl-worker-onnx`/`-tf`): the shared
 * process shell (runMain of @sibyl/gateway: settings, `--help`, graceful stop on SIGTERM or SIGINT,
 * exit codes 0 / 1 / 2) around startWorker.
 */
import { runMain } from '@sibyl/gateway';
import { loadWorkerConfig, workerHelpText, type WorkerRuntime } from './config.js';
import { startWorker } from './worker.js';

export function runWorkerMain(runtime: WorkerRuntime): Promise<void> {
  return runMain({
    name: `sibyl worker-${runtime}`,
    help: () => workerHelpText(runtime),
    load: (argv) => loadWorkerConfig(runtime, argv),
    start: (config) => startWorker(config, runtime),
  });
}
