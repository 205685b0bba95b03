/**
 * The all-in-one composition: the in-process ONNX data plane behind the REST, gRPC and metrics
 * listeners. Each part is a package; this file only wires them and owns start-up and shutdown order.
 */
import { readFileSync } from 'node:fs';
import { createGrpcServer, createMetricsServer, createRestServer, SERVER_EXTENSIONS } from '@sibyl/gateway';
import { createLogger, createMetrics, type Logger } from '@sibyl/observability';
import type { InferenceService } from '@sibyl/protocol';
import { createLocalInferenceService } from '@sibyl/runtime';
import type { SibylConfig } from './config.js';

export const SIBYL_VERSION: string = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).version;

export interface RunningSibyl {
  readonly logger: Logger;
  /** Bound ports (the real ones when 0 was asked); undefined for a listener that is off. */
  readonly ports: { http?: number; grpc?: number; metrics?: number };
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

export async function startSibyl(config: SibylConfig, logger?: Logger): Promise<RunningSibyl> {
  const startedAt = performance.now();
  const log = logger ?? createLogger({ verbose: config.logVerbose, format: config.logFormat });
  const metrics = createMetrics();
  const local = createLocalInferenceService({
    repositories: [...config.modelRepositories],
    logger: log,
    metrics,
    serverVersion: SIBYL_VERSION,
    extensions: [...SERVER_EXTENSIONS],
    strictReadiness: config.strictReadiness,
  });
  const service = drainable(local);
  log.info({ version: SIBYL_VERSION, repositories: config.modelRepositories }, `sibyl ${SIBYL_VERSION} starting`);

  // Listeners first, so liveness answers while models load; readiness turns true once they have.
  const ports: { http?: number; grpc?: number; metrics?: number } = {};
  const closers: Array<() => Promise<void>> = [];
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

  const summary = await local.load();
  const readyMs = Math.round(performance.now() - startedAt);
  const ready = await service.serverReady();
  log.info(
    { event: 'ready', ready, readyMs, models: summary.loaded, failed: summary.failed },
    ready
      ? `ready in ${readyMs} ms: ${summary.loaded} model version(s) serving`
      : `started in ${readyMs} ms but NOT ready: ${summary.failed} model version(s) failed to load (see above)`,
  );

  let closing: Promise<void> | undefined;
  return {
    logger: log,
    ports,
    close() {
      closing ??= (async () => {
        service.drain();
        log.info({ event: 'shutdown', graceMs }, `shutting down: draining in-flight requests (up to ${config.exitTimeoutSecs} s)`);
        const drained = Promise.allSettled(closers.map((close) => close()));
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<'timeout'>((res) => {
          timer = setTimeout(() => res('timeout'), graceMs);
          timer.unref();
        });
        if ((await Promise.race([drained, timeout])) === 'timeout') {
          log.warn({ event: 'shutdown' }, 'exit timeout reached with requests still in flight');
        }
        clearTimeout(timer);
        await local.close();
        log.info({ event: 'stopped' }, 'stopped');
      })();
      return closing;
    },
  };
}
