/**
 * @sibyl/worker: the worker apps (worker-onnx, worker-tf) as a library: their settings and
 * `startWorker`. The `main-*.ts` files are the processes.
 */
export { loadWorkerConfig, workerHelpText, workerSettings, type WorkerConfig, type WorkerRuntime, type WorkerSettingsTable } from './config.js';
export { startWorker, WORKER_VERSION, type RunningWorker, type WorkerPorts } from './worker.js';
export { createOnDemandService, type OnDemandService, type OnDemandServiceOptions } from './on-demand-service.js';
export { createDemandSource, type DemandSource } from './demand-source.js';
