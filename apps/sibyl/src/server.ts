/**
 * The all-in-one composition: the model registry (PostgreSQL, or PGlite in the data directory) and
 * the artifact store, the in-process ONNX data plane serving what the registry says, the REST, gRPC
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
import { createGrpcServer, createMetricsServer, createRestServer, SERVER_EXTENSIONS } from '@sibyl/gateway';
import { createManagementServer } from '@sibyl/management';
import { createLogger, createMetrics, type Logger } from '@sibyl/observability';
import type { InferenceService } from '@sibyl/protocol';
import { openRegistry, type OpenedRegistry } from '@sibyl/registry';
import { createLocalInferenceService, createRegistrySource, inspectModel } from '@sibyl/runtime';
import type { SibylConfig } from './config.js';
import { createManagementServing } from './management-serving.js';

export const SIBYL_VERSION: string = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).version;

export interface RunningSibyl {
  readonly logger: Logger;
  /** Bound ports (the real ones when 0 was asked); undefined for a listener that is off. */
  readonly ports: { http?: number; grpc?: number; metrics?: number; management?: number };
  /** Stops accepting, drains in-flight requests (bounded by exitTimeoutSecs), releases models. */
  close(): Promise<void>;
}

/** Readiness turns false the moment shutdown starts, so load balancers stop sending work first. */
function drainable(service: InferenceService): InferenceService & { drain(): void } {
  let draining = false;
  return Object.assign(Object.create(service) as InferenceService, {
    serverReady: async () => !draining && (await service.serverReady()),
    drain: () => {
      draining = true;
    },
  });
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
  const listeners: Array<() => Promise<void>> = [];
  const resources: Array<() => Promise<void>> = [];
  const closeResources = async () => {
    for (const close of resources.splice(0).reverse()) await close().catch((err: unknown) => log.error({ err }, 'shutdown step failed'));
  };
  const closeAll = async () => {
    await Promise.allSettled(listeners.splice(0).map((close) => close()));
    await closeResources();
  };
  try {
    const pgliteDir = join(config.dataDir, 'registry');
    const registry: OpenedRegistry = await openRegistry({
      ...(config.databaseUrl === undefined ? { dataDir: pgliteDir } : { databaseUrl: config.databaseUrl }),
      actor: 'sibyl',
    });
    resources.push(() => registry.close());
    const migrated = registry.migration.applied.map((m) => `${m.version} ${m.name}`);
    log.info(
      { event: 'registry', database: registry.db.kind, schemaVersion: registry.migration.schemaVersion, migrated },
      `registry: ${describeDatabase(config, pgliteDir)}, schema version ${registry.migration.schemaVersion}` +
        (migrated.length === 0 ? '' : ` (applied ${migrated.join(', ')})`),
    );
    const artifacts = await createArtifactStore({ dir: join(config.dataDir, 'artifacts') });

    const source = createRegistrySource({
      registry,
      artifacts,
      logger: log,
      repositories: config.modelRepositories,
      ...(config.modelControlMode === 'poll' ? { pollSecs: config.repositoryPollSecs } : {}),
    });
    resources.push(() => source.close());
    const local = createLocalInferenceService({
      source,
      explicitModelControl: config.modelControlMode === 'explicit',
      logger: log,
      metrics,
      serverVersion: SIBYL_VERSION,
      extensions: [...SERVER_EXTENSIONS],
      strictReadiness: config.strictReadiness,
    });
    resources.push(() => local.close());
    const service = drainable(local);
    const started = await listen(config, log, metrics, service, listeners);
    const { ports } = started;

    const management = createManagementServer({
      registry,
      store: artifacts,
      inspectModel,
      logger: log,
      serving: createManagementServing({ registry, artifacts, service: local, ready: () => service.serverReady() }),
      serverVersion: SIBYL_VERSION,
    });
    await management.listen({ host: config.managementAddress, port: config.managementPort });
    ports.management = (management.server.address() as { port: number }).port;
    log.info(
      { listener: 'management', address: config.managementAddress, port: ports.management },
      `management API listening on ${config.managementAddress}:${ports.management}`,
    );
    listeners.push(() => management.close());

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
          const drained = Promise.allSettled(listeners.splice(0).map((close) => close()));
          let timer: NodeJS.Timeout | undefined;
          const timeout = new Promise<'timeout'>((res) => {
            timer = setTimeout(() => res('timeout'), graceMs);
            timer.unref();
          });
          if ((await Promise.race([drained, timeout])) === 'timeout') {
            log.warn({ event: 'shutdown' }, 'exit timeout reached with requests still in flight');
          }
          clearTimeout(timer);
          await closeResources();
          log.info({ event: 'stopped' }, 'stopped');
        })();
        return closing;
      },
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/** Binds the REST, gRPC and metrics listeners that are on, adding how to stop each to `closers`; returns their ports. */
async function listen(
  config: SibylConfig,
  log: Logger,
  metrics: ReturnType<typeof createMetrics>,
  service: InferenceService,
  closers: Array<() => Promise<void>>,
): Promise<{ ports: { http?: number; grpc?: number; metrics?: number; management?: number } }> {
  const ports: { http?: number; grpc?: number; metrics?: number; management?: number } = {};
  const graceMs = config.exitTimeoutSecs * 1000;
  if (config.allowHttp) {
    const rest = createRestServer({ service, logger: log, metrics, bodyLimitBytes: config.maxRequestBytes });
    await rest.listen({ host: config.httpAddress, port: config.httpPort });
    ports.http = (rest.server.address() as { port: number }).port;
    log.info({ listener: 'http', address: config.httpAddress, port: ports.http }, `HTTP (REST) listening on ${config.httpAddress}:${ports.http}`);
    closers.push(() => rest.close());
  }
  if (config.allowGrpc) {
    const grpc = createGrpcServer({ service, logger: log, metrics, maxMessageBytes: config.maxRequestBytes });
    ports.grpc = await grpc.bind(config.grpcAddress, config.grpcPort);
    log.info({ listener: 'grpc', address: config.grpcAddress, port: ports.grpc }, `gRPC listening on ${config.grpcAddress}:${ports.grpc}`);
    closers.push(() => grpc.close(graceMs));
  }
  if (config.allowMetrics) {
    const metricsServer = createMetricsServer({ registry: metrics.registry });
    await metricsServer.listen({ host: config.metricsAddress, port: config.metricsPort });
    ports.metrics = (metricsServer.server.address() as { port: number }).port;
    log.info({ listener: 'metrics', address: config.metricsAddress, port: ports.metrics }, `metrics listening on ${config.metricsAddress}:${ports.metrics}/metrics`);
    closers.push(() => metricsServer.close());
  }
  return { ports };
}
