/** The local split-topology launcher: `startCluster` for tests, `start-cluster.ts` for `npm run start:cluster`. */
export { DEFAULT_PORTS, ENTRY, prefixedSink, startCluster } from './cluster.js';
export type { Cluster, ClusterEndpoints, ClusterOptions, HttpEndpoints, Role, WorkerEndpoints, WorkerKind, WorkerSpec } from './cluster.js';
export { freePort } from './free-port.js';
export { REPO_ROOT, spawnProcess } from './managed-process.js';
export type { ExitResult, LogSink, LogStream, ManagedProcess, ProcessSpec } from './managed-process.js';
export { probeOnce, waitReady } from './readiness.js';
export type { Probe, ProbeResult } from './readiness.js';
