/**
 * A Router over gRPC (split mode: the gateway asks apps/router). Errors the router answered are
 * rebuilt as SibylErrors with the code from the `sibyl-error-code` trailer; a router that cannot be
 * reached is SIBYL_ROUTER_UNAVAILABLE.
 *
 * Watch streams reconnect by themselves with exponential backoff; after a reconnection the handler
 * gets `{}` (everything may be stale), since changes made while disconnected were not seen.
 */
import {
  credentials,
  Metadata,
  status as GrpcStatus,
  type Client,
  type ClientReadableStream,
  type ServiceError,
} from '@grpc/grpc-js';
import type { Logger } from '@sibyl/observability';
import { ERROR_DEFINITIONS, GRPC_STATUS, GrpcCode, SibylError, type ErrorCategory, type ModelIndexEntry } from '@sibyl/protocol';
import { routerFailed, routerUnavailable } from './errors.js';
import type { IndexResponse__Output } from './generated/sibyl/router/v1/IndexResponse.js';
import type { Invalidation__Output } from './generated/sibyl/router/v1/Invalidation.js';
import type { ModelRoute__Output } from './generated/sibyl/router/v1/ModelRoute.js';
import type { VersionRoute__Output } from './generated/sibyl/router/v1/VersionRoute.js';
import { routerDefinitions } from './router-definitions.js';
import {
  indexFromMessage,
  invalidationFromMessage,
  modelRouteFromMessage,
  RouteMessageError,
  versionRouteFromMessage,
} from './router-messages.js';
import type { ModelRoute, RouteInvalidation, VersionRoute } from './route.js';
import type { Router } from './router.js';

export interface RouterClientOptions {
  /** `host:port` of the router's gRPC listener (a `grpc://` prefix is accepted). */
  address: string;
  logger: Logger;
  /** Deadline of each unary call, milliseconds. Default 5000. */
  timeoutMs?: number;
  /** First wait before a Watch stream reconnects, milliseconds; doubles up to `maxBackoffMs`. Default 100. */
  initialBackoffMs?: number;
  /** Longest wait between Watch reconnection attempts, milliseconds. Default 5000. */
  maxBackoffMs?: number;
}

/**
 * gRPC status → category, when the code does not say (the inverse of GRPC_STATUS): the category named
 * like the status where there is one (RESOURCE_EXHAUSTED, not PAYLOAD_TOO_LARGE), else the only one.
 */
const CATEGORY_OF_STATUS = new Map<number, ErrorCategory>();
for (const [category, code] of Object.entries(GRPC_STATUS) as Array<[ErrorCategory, number]>) {
  const named = (GrpcCode as Record<string, number>)[category] === code;
  if (named || !CATEGORY_OF_STATUS.has(code)) CATEGORY_OF_STATUS.set(code, category);
}

/** Statuses that mean the router was not reached (or did not answer in time), when it sent no code. */
const UNREACHED = new Set<number>([GrpcStatus.UNAVAILABLE, GrpcStatus.DEADLINE_EXCEEDED, GrpcStatus.CANCELLED]);

function first(metadata: Metadata | undefined, key: string): string | undefined {
  const value = metadata?.get(key)[0];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A failed call's status, rebuilt as the error the router meant. */
export function routerCallError(error: ServiceError, address: string): SibylError {
  const code = first(error.metadata, 'sibyl-error-code');
  const message = error.details ?? error.message;
  if (code === undefined) {
    return UNREACHED.has(error.code) ? routerUnavailable(address, message) : routerFailed(address, `${GrpcStatus[error.code] ?? error.code}: ${message}`);
  }
  const retryAfter = first(error.metadata, 'retry-after');
  const fromStatus = CATEGORY_OF_STATUS.get(error.code) ?? 'INTERNAL';
  // A code this process knows keeps its own category when that gives the same status (gRPC
  // RESOURCE_EXHAUSTED stands for two categories); else the status decides.
  const known = ERROR_DEFINITIONS.get(code)?.category;
  const category = known !== undefined && GRPC_STATUS[known] === error.code ? known : fromStatus;
  return new SibylError(code, category, message, retryAfter === undefined ? {} : { retryAfterSeconds: Number(retryAfter) });
}

type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: { deadline: number },
  callback: (err: ServiceError | null, response?: Res) => void,
) => unknown;

interface RouterStub extends Client {
  ResolveModel: UnaryMethod<{ model: string }, ModelRoute__Output>;
  ResolveVersion: UnaryMethod<{ model: string; version: number }, VersionRoute__Output>;
  Index: UnaryMethod<Record<string, never>, IndexResponse__Output>;
  Watch(request: Record<string, never>): ClientReadableStream<Invalidation__Output>;
}

export function createRouterClient(options: RouterClientOptions): Router {
  const address = options.address.replace(/^grpc:\/\//, '');
  const { logger } = options;
  const timeoutMs = options.timeoutMs ?? 5000;
  const initialBackoffMs = options.initialBackoffMs ?? 100;
  const maxBackoffMs = options.maxBackoffMs ?? 5000;
  const { router: Constructor } = routerDefinitions();
  const stub = new Constructor(address, credentials.createInsecure(), {
    // Reconnect soon after a router restart rather than after grpc-js's default backoff (up to 2 min).
    'grpc.initial_reconnect_backoff_ms': initialBackoffMs,
    'grpc.max_reconnect_backoff_ms': maxBackoffMs,
    // Notice a router that vanished without closing its connection while a Watch stream is idle.
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
  }) as unknown as RouterStub;
  const stops = new Set<() => void>();
  let closed = false;

  const call = <Req, Res, Out>(method: UnaryMethod<Req, Res>, request: Req, decode: (response: Res) => Out): Promise<Out> => {
    if (closed) return Promise.reject(routerUnavailable(address, 'the client is closed'));
    return new Promise((resolve, reject) => {
      method.call(stub, request, new Metadata(), { deadline: Date.now() + timeoutMs }, (err, response) => {
        if (err !== null) return reject(routerCallError(err, address));
        try {
          resolve(decode(response!));
        } catch (error) {
          if (!(error instanceof RouteMessageError)) return reject(error);
          reject(routerFailed(address, `malformed answer: ${error.message}`));
        }
      });
    });
  };

  /**
   * One Watch: a stream, reopened after it ends or fails. Resolves once the first stream is open (the
   * server's headers arrived); rejects when that first attempt fails.
   */
  const watch = (handler: (invalidation: RouteInvalidation) => void): Promise<() => void> =>
    new Promise((resolveStarted, rejectStarted) => {
      let stream: ClientReadableStream<Invalidation__Output> | undefined;
      let timer: NodeJS.Timeout | undefined;
      let stopped = false;
      let started = false;
      let backoffMs = initialBackoffMs;

      const deliver = (invalidation: RouteInvalidation) => {
        try {
          handler(invalidation);
        } catch (err) {
          logger.error({ err }, 'router client: an invalidation watcher threw');
        }
      };

      const stop = () => {
        if (stopped) return;
        stopped = true;
        stops.delete(stop);
        if (timer !== undefined) clearTimeout(timer);
        stream?.cancel();
      };

      const open = () => {
        timer = undefined;
        if (stopped) return;
        const current = stub.Watch({});
        stream = current;
        let opened = false;
        let over = false;
        current.on('metadata', () => {
          if (opened || over) return;
          opened = true;
          backoffMs = initialBackoffMs;
          if (!started) {
            started = true;
            resolveStarted(stop);
          } else {
            logger.info({ address }, 'router client: watching the router again');
            deliver({});
          }
        });
        current.on('data', (message: Invalidation__Output) => deliver(invalidationFromMessage(message)));
        const ended = (err: ServiceError | undefined) => {
          if (over) return;
          over = true;
          if (stopped) return;
          if (!started) {
            stop();
            rejectStarted(err === undefined ? routerUnavailable(address, 'the watch stream ended before it started') : routerCallError(err, address));
            return;
          }
          if (opened) logger.warn({ address, err: err?.message }, 'router client: the watch stream ended; reconnecting');
          const delay = backoffMs;
          backoffMs = Math.min(backoffMs * 2, maxBackoffMs);
          // Jitter, so that many gateways do not reconnect in step after a router restart.
          timer = setTimeout(open, delay / 2 + Math.random() * (delay / 2));
        };
        current.on('error', (err: ServiceError) => ended(err));
        current.on('end', () => ended(undefined));
      };

      stops.add(stop);
      open();
    });

  return {
    resolveModel(model: string): Promise<ModelRoute> {
      return call(stub.ResolveModel, { model }, modelRouteFromMessage);
    },
    resolveVersion(model: string, version: number): Promise<VersionRoute> {
      return call(stub.ResolveVersion, { model, version }, versionRouteFromMessage);
    },
    index(): Promise<ModelIndexEntry[]> {
      return call(stub.Index, {}, indexFromMessage);
    },
    watch(handler) {
      if (closed) return Promise.reject(routerUnavailable(address, 'the client is closed'));
      return watch(handler);
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const stop of [...stops]) stop();
      stub.close();
    },
  };
}
