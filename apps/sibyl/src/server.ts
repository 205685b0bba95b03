/**
 * The all-in-one composition: the model registry (PostgreSQL, or PGlite in the data directory) and
 * the artifact store, the in-process data plane (ONNX and TensorFlow.js) serving what the registry says, the REST, gRPC
 * and metrics listeners, and the management API. Each part is a package; this file only wires them
 * and owns start-up and shutdown order.
 *
 * Start-up: open the registry (migrating it) and the artifact store; bind the listeners (liveness
 * answers from here on); import the model repositories into the registry; load what it says to
 * serve (readiness turns true). Shutdown runs the other way round.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createArtifactStore } from '@sibyl/artifacts';
import { createBackendPool, createInProcessBackend } from '@sibyl/backends';
import { createMemoryCoordination } from '@sibyl/coordination';
import { createShutdownSteps, drainable, exportRoutedMetrics, SERVER_EXTENSIONS, shadowRecorder, startEdgeListeners, withinGrace } from '@sibyl/gateway';
import { createManagementServer } from '@sibyl/management';
import { createLogger, createMetrics, type Logger } from '@sibyl/observability';
import { openRegistry, type OpenedRegistry } from '@sibyl/registry';
import { createRoutedInferenceService, createRouter } from '@sibyl/routing';
import { createLocalInferenceService, createRegistrySource, inspectModel, onnxEngine } from '@sibyl/runtime';
import { createTfEngine } from '@sibyl/runtime-tf';
import type { SibylConfig } from './config.js';
import { localFirst } from './local-first.js';
import { createManagementServing } from './management-serving.js';

export const SIBYL_VERSION: string = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).version;

/** The target id and address of the pools this process serves itself. */
const IN_PROCESS = 'in-process';

export interface RunningSibyl {
  readonly logger: Logger;
  /** Bound ports (the real ones when 0 was asked); undefined for a listener that is off. */
  readonly ports: { http?: number; grpc?: number; metrics?: number; management?: number };
  /** Stops accepting, drains in-flight requests (bounded by exitTimeoutSecs), releases models. */
  close(): Promise<void>;
}

/** Where the registry lives, for the log: the PostgreSQL server (without credentials) or the PGlite directory. */
function describeDatabase(config: SibylConfig, pgliteDir: string): string {
  if (config.databaseUrl === undefined) return `PGlite in ${pgliteDir}`;
  const url = new URL(config.databaseUrl);
  return `PostgreSQL at ${url.host}${url.pathname}`;
}

export async function startSibyl(config: SibylConfig, logger?: Logger): Promise<RunningSibyl> {
  const startedAt = performance.now();
  const log = logger ?? createLogger({ verbose: config.logVerbose, format: config.logFormat });
  const metrics = createMetrics();
  log.info(
    { version: SIBYL_VERSION, repositories: config.modelRepositories, modelControlMode: config.modelControlMode },
    `sibyl ${SIBYL_VERSION} starting`,
  );

  // What start-up has opened: the listeners stop first (together, bounded by the grace period on
  // shutdown), then the resources in reverse order (data plane, source, registry).
  const listeners = createShutdownSteps(log);
  const resources = createShutdownSteps(log);
  try {
    const pgliteDir = join(config.dataDir, 'registry');
    const registry: OpenedRegistry = await openRegistry({
      ...(config.databaseUrl === undefined ? { dataDir: pgliteDir } : { databaseUrl: config.databaseUrl }),
      actor: 'sibyl',
    });
    resources.add(() => registry.close());
    const migrated = registry.migration.applied.map((m) => `${m.version} ${m.name}`);
    log.info(
      { event: 'registry', database: registry.db.kind, schemaVersion: registry.migration.schemaVersion, migrated },
      `registry: ${describeDatabase(config, pgliteDir)}, schema version ${registry.migration.schemaVersion}` +
        (migrated.length === 0 ? '' : ` (applied ${migrated.join(', ')})`),
    );
    const artifacts = await createArtifactStore({ dir: join(config.dataDir, 'artifacts') });
    // Both engines run here: ONNX models inline or on threads, TensorFlow.js models on threads.
    const tfEngine = createTfEngine();
    log.info({ event: 'tf-backend', backend: tfEngine.tfBackend }, `TensorFlow.js backend: ${tfEngine.tfBackend}`);
    const engines = [onnxEngine, tfEngine];

    const source = createRegistrySource({
      registry,
      artifacts,
      engines,
      logger: log,
      repositories: config.modelRepositories,
      ...(config.modelControlMode === 'poll' ? { pollSecs: config.repositoryPollSecs } : {}),
    });
    resources.add(() => source.close());
    const local = createLocalInferenceService({
      source,
      explicitModelControl: config.modelControlMode === 'explicit',
      logger: log,
      metrics,
      serverVersion: SIBYL_VERSION,
      extensions: [...SERVER_EXTENSIONS],
      strictReadiness: config.strictReadiness,
      engines,
    });
    resources.add(() => local.close());

    // Routing: the same router and routed data plane as the split topology, with the ONNX and TF
    // pools served in this process and in-process coordination. Pools with endpoints (Triton, other
    // Sibyl workers) are reached over the network.
    const coordination = createMemoryCoordination({ logger: log });
    resources.add(() => coordination.close());
    const router = createRouter({ registry, coordination, logger: log, metrics, inProcess: { pools: { onnx: IN_PROCESS, tf: IN_PROCESS } } });
    resources.add(() => router.close());
    const inProcess = createInProcessBackend(local);
    const remote = createBackendPool();
    resources.add(() => remote.close());
    const routed = createRoutedInferenceService({
      router,
      backends: { get: (address) => (address === IN_PROCESS ? inProcess : remote.get(address)) },
      logger: log,
      serverVersion: SIBYL_VERSION,
      extensions: SERVER_EXTENSIONS,
      shadow: { onResult: shadowRecorder(metrics) },
      ready: () => local.serverReady(),
    });
    resources.add(() => routed.close());
    const service = drainable(localFirst(routed, local));
    exportRoutedMetrics(metrics, routed, () => !service.draining);
    const edge = await startEdgeListeners({
      service,
      logger: log,
      metrics,
      maxRequestBytes: config.maxRequestBytes,
      ...(config.allowHttp ? { http: { address: config.httpAddress, port: config.httpPort } } : {}),
      ...(config.allowGrpc ? { grpc: { address: config.grpcAddress, port: config.grpcPort } } : {}),
      ...(config.allowMetrics ? { metricsListener: { address: config.metricsAddress, port: config.metricsPort } } : {}),
    });
    listeners.add(() => edge.close(config.exitTimeoutSecs * 1000));
    const ports: { http?: number; grpc?: number; metrics?: number; management?: number } = { ...edge.ports };

    const management = createManagementServer({
      registry,
      store: artifacts,
      inspectModel: (path, modelConfig, options) => inspectModel(path, modelConfig, { ...options, engines }),
      logger: log,
      serving: createManagementServing({ registry, artifacts, service: local, engines, ready: () => service.serverReady() }),
      serverVersion: SIBYL_VERSION,
    });
    await management.listen({ host: config.managementAddress, port: config.managementPort });
    ports.management = (management.server.address() as { port: number }).port;
    log.info(
      { listener: 'management', address: config.managementAddress, port: ports.management },
      `management API listening on ${config.managementAddress}:${ports.management}`,
    );
    listeners.add(() => management.close());

    const imported = await source.importRepositories();
    log.info(
      { event: 'import', models: imported.models, registered: imported.registered, deployed: imported.deployed },
      `model repositories: ${imported.models} model(s), ${imported.registered} new version(s) registered`,
    );

    const summary = await local.load();
    const readyMs = Math.round(performance.now() - startedAt);
    const ready = await service.serverReady();
    log.info(
      { event: 'ready', ready, readyMs, models: summary.loaded, failed: summary.failed },
      ready
        ? `ready in ${readyMs} ms: ${summary.loaded} model version(s) serving`
        : `started in ${readyMs} ms but NOT ready: ${summary.failed} model version(s) failed to load (see above)`,
    );

    const graceMs = config.exitTimeoutSecs * 1000;
    let closing: Promise<void> | undefined;
    return {
      logger: log,
      ports,
      close() {
        closing ??= (async () => {
          service.drain();
          log.info({ event: 'shutdown', graceMs }, `shutting down: draining in-flight requests (up to ${config.exitTimeoutSecs} s)`);
          if ((await withinGrace(graceMs, listeners.runTogether())) === 'timeout') {
            log.warn({ event: 'shutdown' }, 'exit timeout reached with requests still in flight');
          }
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
