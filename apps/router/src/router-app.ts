/**
 * The router app: the registry (PostgreSQL) and the live worker instances (Redis) behind one gRPC
 * service that gateways ask for routes and watch for invalidations.
 *
 * Start-up: registry (migrated idempotently, so any app may start first), coordination, the router,
 * then the listeners. Shutdown: readiness off (the gRPC health status turns NOT_SERVING), listeners
 * stop within the grace period, then the router, coordination and registry close.
 */
import { readFileSync } from 'node:fs';
import { createMemoryCoordination, createRedisCoordination, type Coordination } from '@sibyl/coordination';
import { createShutdownSteps, startEdgeListeners, withinGrace, type RunningApp } from '@sibyl/gateway';
import { addCollectedGauge, createLogger, createMetrics, type Logger } from '@sibyl/observability';
import { openRegistry } from '@sibyl/registry';
import { createRouter, createRouterServer } from '@sibyl/routing';
import type { RouterConfig } from './config.js';

export const ROUTER_VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

export interface RunningRouter extends RunningApp {
  readonly logger: Logger;
  readonly ports: { grpc: number; metrics?: number };
}

export async function startRouterApp(config: RouterConfig, logger?: Logger): Promise<RunningRouter> {
  const startedAt = performance.now();
  const log = logger ?? createLogger({ verbose: config.logVerbose, format: config.logFormat });
  const metrics = createMetrics();
  const resources = createShutdownSteps(log);
  try {
    const registry = await openRegistry({ databaseUrl: config.databaseUrl, actor: 'router' });
    resources.add(() => registry.close());
    const coordination: Coordination =
      config.redisUrl === undefined ? createMemoryCoordination({ logger: log }) : createRedisCoordination({ url: config.redisUrl, logger: log, keyPrefix: config.redisKeyPrefix });
    resources.add(() => coordination.close());
    addCollectedGauge(metrics.registry, {
      name: 'sibyl_coordination_up',
      help: '1 while the coordination store (Redis) is reachable; 0 while placement runs on the last known instances',
      read: () => (coordination.status().connected ? 1 : 0),
    });
    const router = createRouter({ registry, coordination, logger: log, metrics, transport: config.transport });
    resources.add(() => router.close());
    const server = createRouterServer({ router, logger: log });
    const grpcPort = await server.bind(config.grpcAddress, config.grpcPort);
    log.info({ listener: 'grpc', address: config.grpcAddress, port: grpcPort }, `router gRPC listening on ${config.grpcAddress}:${grpcPort}`);
    const graceMs = config.exitTimeoutSecs * 1000;
    const edge = await startEdgeListeners({
      logger: log,
      metrics,
      ...(config.allowMetrics ? { metricsListener: { address: config.metricsAddress, port: config.metricsPort } } : {}),
    });
    const ports: { grpc: number; metrics?: number } = { grpc: grpcPort };
    if (edge.ports.metrics !== undefined) ports.metrics = edge.ports.metrics;
    log.info(
      { event: 'ready', readyMs: Math.round(performance.now() - startedAt), coordination: coordination.kind },
      `router ${ROUTER_VERSION} ready in ${Math.round(performance.now() - startedAt)} ms (coordination: ${coordination.kind})`,
    );
    let closing: Promise<void> | undefined;
    return {
      logger: log,
      ports,
      close() {
        closing ??= (async () => {
          log.info({ event: 'shutdown', graceMs }, `shutting down: finishing in-flight calls (up to ${config.exitTimeoutSecs} s)`);
          if ((await withinGrace(graceMs, Promise.all([server.close(graceMs), edge.close(graceMs)]))) === 'timeout') {
            log.warn({ event: 'shutdown' }, 'exit timeout reached with calls still in flight');
          }
          await resources.run();
          log.info({ event: 'stopped' }, 'stopped');
        })();
        return closing;
      },
    };
  } catch (err) {
    await resources.run();
    throw err;
  }
}
