/**
 * A worker (worker-onnx, worker-tf): a small Triton. The v2 REST, gRPC and metrics listeners of
 * @sibyl/gateway over the in-process data plane of @sibyl/runtime, serving the registry's models on
 * demand (model files fetched from the management API into a local cache), and registered in
 * coordination so that placement can send it work.
 *
 * Start-up: open the registry (migrating it, idempotently) and the local artifact cache; start the
 * data plane (it loads nothing until asked); bind the listeners (liveness answers from here on);
 * register in coordination with the bound ports; readiness turns true. Shutdown: readiness false and
 * `draining` announced first, then the listeners stop (bounded by exitTimeoutSecs), then the
 * instance deregisters, then the data plane, the registry and coordination close.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createArtifactStore } from '@sibyl/artifacts';
import { createMemoryCoordination, createRedisCoordination, type Coordination, type InstanceKind } from '@sibyl/coordination';
import { createShutdownSteps, SERVER_EXTENSIONS, startEdgeListeners, withinGrace, type ShutdownSteps } from '@sibyl/gateway';
import { addCollectedGauge, createLogger, createMetrics, type Logger, type SibylMetrics } from '@sibyl/observability';
import type { InferenceService } from '@sibyl/protocol';
import { openRegistry } from '@sibyl/registry';
import { createLocalInferenceService, createRegistrySource, onnxEngine, type ModelEngine } from '@sibyl/runtime';
import { createTfEngine } from '@sibyl/runtime-tf';
import type { WorkerConfig, WorkerRuntime } from './config.js';
import { createDemandSource } from './demand-source.js';
import { exportModelCacheMetrics, type ModelCacheHistograms } from './model-cache-metrics.js';
import { createOnDemandService } from './on-demand-service.js';
import { registerForPlacement, type Placement } from './placement.js';
import { createServingGate } from './serving-gate.js';

export const WORKER_VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

/** How long no request may have been refused before a draining worker closes its listeners, milliseconds. */
const DRAIN_QUIET_MS = 300;

const KIND: Record<WorkerRuntime, InstanceKind> = { onnx: 'sibyl-onnx', tf: 'sibyl-tf' };

export interface WorkerPorts {
  http: number;
  grpc: number;
  metrics: number;
}

export interface RunningWorker {
  readonly logger: Logger;
  /** Bound ports (the real ones when 0 was asked). */
  readonly ports: WorkerPorts;
  /** The id this worker is registered under in coordination. */
  readonly instanceId: string;
  /** Drains (readiness false, `draining` announced), stops the listeners within exitTimeoutSecs, deregisters, releases everything. Idempotent. */
  close(): Promise<void>;
}

interface DataPlane {
  service: InferenceService;
  /** Called after a model loaded or was evicted (placement's warm models); set once placement exists. */
  onModelsChanged: (() => void) | undefined;
}

export async function startWorker(config: WorkerConfig, runtime: WorkerRuntime, logger?: Logger): Promise<RunningWorker> {
  const startedAt = Date.now();
  const log = logger ?? createLogger({ verbose: config.logVerbose, format: config.logFormat, name: `sibyl-worker-${runtime}` });
  const metrics = createMetrics();
  const instanceId = `${config.pool}-${hostname()}-${process.pid}-${randomBytes(2).toString('hex')}`;
  log.info({ version: WORKER_VERSION, pool: config.pool, instanceId, runtime }, `sibyl worker-${runtime} ${WORKER_VERSION} starting (pool ${config.pool})`);

  // What start-up has opened, closed in reverse order; the listeners first, together.
  const listeners = createShutdownSteps(log);
  const resources = createShutdownSteps(log);
  try {
    const coordination: Coordination =
      config.redisUrl === undefined
        ? createMemoryCoordination({ logger: log })
        : createRedisCoordination({ url: config.redisUrl, logger: log, keyPrefix: config.redisKeyPrefix });
    resources.add(() => coordination.close());
    addCollectedGauge(metrics.registry, {
      name: 'sibyl_coordination_up',
      help: '1 while the coordination store (Redis) is reachable; 0 while placement runs on the last known instances',
      read: () => (coordination.status().connected ? 1 : 0),
    });
    if (config.redisUrl === undefined) log.warn({ event: 'coordination' }, 'coordination: in-process (no --redis-url): no other process can place work on this worker');

    const plane = await startDataPlane(config, engineOf(runtime, log), log, metrics, resources);
    let placement: Placement | undefined;
    const gate = createServingGate(plane.service, (inflight) => placement?.setLoad(inflight));
    const edge = await startEdgeListeners({
      service: gate.service,
      logger: log,
      metrics,
      maxRequestBytes: config.maxRequestBytes,
      http: { address: config.httpAddress, port: config.httpPort },
      grpc: { address: config.grpcAddress, port: config.grpcPort },
      metricsListener: { address: config.metricsAddress, port: config.metricsPort },
    });
    listeners.add(() => edge.close(config.exitTimeoutSecs * 1000));
    const ports: WorkerPorts = { http: edge.ports.http!, grpc: edge.ports.grpc!, metrics: edge.ports.metrics! };

    placement = await registerForPlacement({
      coordination,
      instance: {
        id: instanceId,
        pool: config.pool,
        kind: KIND[runtime],
        httpAddress: `${config.advertiseHost}:${ports.http}`,
        grpcAddress: `${config.advertiseHost}:${ports.grpc}`,
        memoryBudgetBytes: config.modelCacheBytes,
        startedAt,
      },
      service: plane.service,
      heartbeatMs: config.heartbeatMs,
      ttlMs: config.instanceTtlMs,
      logger: log,
    });
    const registered = placement;
    resources.add(() => registered.deregister());
    plane.onModelsChanged = () => void registered.refreshWarmModels();
    gate.open();
    const readyMs = Date.now() - startedAt;
    log.info(
      { event: 'ready', readyMs, pool: config.pool, instanceId, ports, coordination: coordination.kind },
      `ready in ${readyMs} ms: pool ${config.pool}, instance ${instanceId}, HTTP ${ports.http}, gRPC ${ports.grpc}, metrics ${ports.metrics}; models load on demand`,
    );

    const graceMs = config.exitTimeoutSecs * 1000;
    let closing: Promise<void> | undefined;
    return {
      logger: log,
      ports,
      instanceId,
      close() {
        closing ??= (async () => {
          gate.drain();
          registered.drain();
          log.info({ event: 'shutdown', graceMs, inflight: gate.inflight }, `shutting down: draining in-flight requests (up to ${config.exitTimeoutSecs} s)`);
          // Requests in flight finish, and the gateways move away (the placement says draining; new
          // requests are refused with SIBYL_SERVER_DRAINING, which they retry elsewhere) before the
          // listeners close, so no request is cut off a kept-alive connection.
          const drained = gate.quiet(DRAIN_QUIET_MS).then(() => listeners.runTogether());
          if ((await withinGrace(graceMs, drained)) === 'timeout') log.warn({ event: 'shutdown' }, 'exit timeout reached with requests still in flight');
          await resources.run();
          log.info({ event: 'stopped' }, 'stopped');
        })();
        return closing;
      },
    };
  } catch (err) {
    await listeners.runTogether();
    await resources.run();
    throw err;
  }
}

/**
 * The engine a worker runs its models on: onnxruntime-node, or TensorFlow.js on the backend chosen
 * once at start (logged, event `tf-backend`).
 */
function engineOf(runtime: WorkerRuntime, log: Logger): ModelEngine {
  if (runtime === 'onnx') return onnxEngine;
  const engine = createTfEngine();
  log.info({ event: 'tf-backend', backend: engine.tfBackend }, `TensorFlow.js backend: ${engine.tfBackend}`);
  return engine;
}

/** The data plane: the registry (PostgreSQL), the local artifact cache, models loaded on demand by `engine` into the model cache. */
async function startDataPlane(config: WorkerConfig, engine: ModelEngine, log: Logger, metrics: SibylMetrics, resources: ShutdownSteps): Promise<DataPlane> {
  const registry = await openRegistry({ databaseUrl: config.databaseUrl, actor: `worker-${config.pool}` });
  resources.add(() => registry.close());
  const url = new URL(config.databaseUrl);
  log.info(
    { event: 'registry', schemaVersion: registry.migration.schemaVersion },
    `registry: PostgreSQL at ${url.host}${url.pathname}, schema version ${registry.migration.schemaVersion}`,
  );
  const artifacts = await createArtifactStore({ dir: join(config.dataDir, 'artifacts') });
  log.info(
    { event: 'artifacts', dir: join(config.dataDir, 'artifacts'), artifactUrl: config.artifactUrl },
    `model files: cached in ${join(config.dataDir, 'artifacts')}` + (config.artifactUrl === undefined ? ' (no --artifact-url: only files already there serve)' : `, fetched from ${config.artifactUrl}`),
  );

  const registrySource = createRegistrySource({
    registry,
    artifacts,
    logger: log,
    reportActor: `worker-${config.pool}`,
    ...(config.artifactUrl === undefined ? {} : { fetchArtifactsFrom: config.artifactUrl }),
  });
  resources.add(() => registrySource.close());
  const source = createDemandSource(registrySource, (name) => onDemand.forget(name));
  const local = createLocalInferenceService({
    source,
    explicitModelControl: true,
    strictReadiness: false,
    logger: log,
    metrics,
    serverVersion: WORKER_VERSION,
    extensions: [...SERVER_EXTENSIONS],
    loadConcurrency: config.modelLoadThreadCount,
    engines: [engine],
  });
  resources.add(() => local.close());
  // Starts following the registry; under explicit model control nothing loads yet.
  await local.load();
  let histograms: ModelCacheHistograms | undefined;
  const onDemand = createOnDemandService({
    local,
    want: (name) => source.want(name),
    onLoaded: () => plane.onModelsChanged?.(),
    onEvicted: () => plane.onModelsChanged?.(),
    onMissWait: (seconds) => histograms?.missWait.observe(seconds),
    cache: {
      budgetBytes: config.modelCacheBytes,
      loadConcurrency: config.modelLoadThreadCount,
      loadTimeoutMs: config.modelLoadTimeoutSecs * 1000,
      pinned: config.pinModels,
      logger: log,
      onLoaded: (_name, seconds) => histograms?.loadDuration.observe(seconds),
    },
  });
  histograms = exportModelCacheMetrics(metrics.registry, () => onDemand.cache.stats());
  log.info(
    { event: 'model-cache', budgetBytes: config.modelCacheBytes, loadThreads: config.modelLoadThreadCount, loadTimeoutSecs: config.modelLoadTimeoutSecs, pinned: config.pinModels },
    `model cache: ${config.modelCacheBytes} bytes, ${config.modelLoadThreadCount} load thread(s), load timeout ${config.modelLoadTimeoutSecs} s` +
      (config.pinModels.length === 0 ? '' : `, pinned: ${config.pinModels.join(', ')}`),
  );
  const plane: DataPlane = { service: onDemand, onModelsChanged: undefined };
  return plane;
}
