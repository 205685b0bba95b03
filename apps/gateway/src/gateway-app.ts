/**
 * The gateway app (`sibyl gateway`): the public v2 REST and gRPC listeners over the routed data
 * plane. Each request's route comes from the router (cached; invalidated by the router's watch);
 * the request goes straight to the chosen worker over the v2 protocol.
 *
 * Shutdown: readiness turns false first, the listeners stop within the grace period (in-flight
 * requests finish), then the routed service, the backends and the router client close.
 */
import { readFileSync } from 'node:fs';
import { createBackendPool } from '@sibyl/backends';
import { createLogger, createMetrics, type Logger } from '@sibyl/observability';
import { createRoutedInferenceService, createRouterClient } from '@sibyl/routing';
import { startEdgeListeners } from './edge-listeners.js';
import type { GatewayConfig } from './gateway-config.js';
import { drainable } from './drainable.js';
import { exportRoutedMetrics, shadowRecorder } from './routed-metrics.js';
import { withinGrace, type RunningApp } from './run-main.js';
import { SERVER_EXTENSIONS } from './server-extensions.js';

export const GATEWAY_VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

export interface RunningGateway extends RunningApp {
  readonly logger: Logger;
  readonly ports: { http?: number; grpc?: number; metrics?: number };
}

export async function startGatewayApp(config: GatewayConfig, logger?: Logger): Promise<RunningGateway> {
  const startedAt = performance.now();
  const log = logger ?? createLogger({ verbose: config.logVerbose, format: config.logFormat });
  const metrics = createMetrics();
  const router = createRouterClient({ address: config.routerAddress, logger: log });
  const backends = createBackendPool();
  const routed = createRoutedInferenceService({
    router,
    backends,
    logger: log,
    serverVersion: GATEWAY_VERSION,
    extensions: SERVER_EXTENSIONS,
    shadow: { maxConcurrent: config.shadowMaxInflight, onResult: shadowRecorder(metrics) },
  });
  const service = drainable(routed);
  exportRoutedMetrics(metrics, routed, () => !service.draining);
  const release = async () => {
    await routed.close().catch((err: unknown) => log.error({ err }, 'closing the routed service failed'));
    await backends.close().catch((err: unknown) => log.error({ err }, 'closing backend connections failed'));
    await router.close().catch((err: unknown) => log.error({ err }, 'closing the router client failed'));
  };
  let edge;
  try {
    edge = await startEdgeListeners({
      service,
      logger: log,
      metrics,
      maxRequestBytes: config.maxRequestBytes,
      ...(config.allowHttp ? { http: { address: config.httpAddress, port: config.httpPort } } : {}),
      ...(config.allowGrpc ? { grpc: { address: config.grpcAddress, port: config.grpcPort } } : {}),
      ...(config.allowMetrics ? { metricsListener: { address: config.metricsAddress, port: config.metricsPort } } : {}),
    });
  } catch (err) {
    await release();
    throw err;
  }
  const listeners = edge;
  const readyMs = Math.round(performance.now() - startedAt);
  log.info({ event: 'ready', readyMs, router: config.routerAddress }, `gateway ${GATEWAY_VERSION} ready in ${readyMs} ms (router ${config.routerAddress})`);
  const graceMs = config.exitTimeoutSecs * 1000;
  let closing: Promise<void> | undefined;
  return {
    logger: log,
    ports: listeners.ports,
    close() {
      closing ??= (async () => {
        service.drain();
        log.info({ event: 'shutdown', graceMs }, `shutting down: draining in-flight requests (up to ${config.exitTimeoutSecs} s)`);
        if ((await withinGrace(graceMs, listeners.close(graceMs))) === 'timeout') {
          log.warn({ event: 'shutdown' }, 'exit timeout reached with requests still in flight');
        }
        await release();
        log.info({ event: 'stopped' }, 'stopped');
      })();
      return closing;
    },
  };
}
