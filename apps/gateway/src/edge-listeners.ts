/**
 * The v2 listeners every serving app binds (all-in-one, gateway, workers): REST, gRPC and the
 * Prometheus endpoint, over one InferenceService. Each listener that is off is skipped; the result
 * says where each one listens (the real port when 0 was asked) and how to stop them all.
 */
import type { Logger, SibylMetrics } from '@sibyl/observability';
import type { InferenceService } from '@sibyl/protocol';
import { createGrpcServer } from './grpc-server.js';
import { createMetricsServer } from './metrics-server.js';
import { createRestServer } from './rest-server.js';

/** Where a listener binds; `undefined`: the listener is off. */
export interface ListenerAddress {
  readonly address: string;
  /** 0 picks a free port. */
  readonly port: number;
}

export interface EdgeListenersOptions {
  /** The data plane of the REST and gRPC listeners; required when either is on. */
  service?: InferenceService;
  logger: Logger;
  metrics: SibylMetrics;
  http?: ListenerAddress;
  grpc?: ListenerAddress;
  metricsListener?: ListenerAddress;
  /** Largest REST body or gRPC message, bytes. Default 64 MiB. */
  maxRequestBytes?: number;
}

export interface EdgeListeners {
  readonly ports: { http?: number; grpc?: number; metrics?: number };
  /**
   * Stops accepting; in-flight requests finish (gRPC calls are cancelled after `graceMs`; REST waits
   * for its connections, so callers bound the wait themselves). Idempotent.
   */
  close(graceMs: number): Promise<void>;
}

export async function startEdgeListeners(options: EdgeListenersOptions): Promise<EdgeListeners> {
  const { service, logger, metrics } = options;
  if (service === undefined && (options.http !== undefined || options.grpc !== undefined)) throw new TypeError('option service is required for the REST and gRPC listeners');
  const limit = options.maxRequestBytes === undefined ? {} : { bodyLimitBytes: options.maxRequestBytes };
  const messageLimit = options.maxRequestBytes === undefined ? {} : { maxMessageBytes: options.maxRequestBytes };
  const ports: { http?: number; grpc?: number; metrics?: number } = {};
  const closers: Array<(graceMs: number) => Promise<void>> = [];
  let closing: Promise<void> | undefined;
  const close = (graceMs: number) => {
    closing ??= Promise.allSettled(closers.splice(0).map((stop) => stop(graceMs))).then(() => undefined);
    return closing;
  };
  try {
    if (options.http !== undefined) {
      const { address, port } = options.http;
      const rest = createRestServer({ service: service!, logger, metrics, ...limit });
      await rest.listen({ host: address, port });
      ports.http = (rest.server.address() as { port: number }).port;
      logger.info({ listener: 'http', address, port: ports.http }, `HTTP (REST) listening on ${address}:${ports.http}`);
      closers.push(() => rest.close());
    }
    if (options.grpc !== undefined) {
      const { address, port } = options.grpc;
      const grpc = createGrpcServer({ service: service!, logger, metrics, ...messageLimit });
      ports.grpc = await grpc.bind(address, port);
      logger.info({ listener: 'grpc', address, port: ports.grpc }, `gRPC listening on ${address}:${ports.grpc}`);
      closers.push((graceMs) => grpc.close(graceMs));
    }
    if (options.metricsListener !== undefined) {
      const { address, port } = options.metricsListener;
      const server = createMetricsServer({ registry: metrics.registry });
      await server.listen({ host: address, port });
      ports.metrics = (server.server.address() as { port: number }).port;
      logger.info({ listener: 'metrics', address, port: ports.metrics }, `metrics listening on ${address}:${ports.metrics}/metrics`);
      closers.push(() => server.close());
    }
  } catch (err) {
    await close(0);
    throw err;
  }
  return { ports, close };
}
