/**
 * The Open Inference Protocol REST server (fastify): a library the apps compose and listen with.
 *
 * Built for the hot path: fastify gets no logger (it would make a child logger per request and log
 * each one at info), request bodies stay raw Buffers, and there are no per-request hooks: the request
 * id echo and the transport metric wrap the route handlers instead (rest-handler.ts).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger, SibylMetrics } from '@sibyl/observability';
import type { InferenceService } from '@sibyl/protocol';
import { registerRawBodyParser } from './rest-body.js';
import { registerRestErrorHandling } from './rest-errors.js';
import { REQUEST_ID_HEADER } from './rest-handler.js';
import { registerRestRoutes } from './rest-routes.js';

/** 64 MiB, as the all-in-one server's --max-request-bytes default. */
export const DEFAULT_BODY_LIMIT_BYTES = 64 * 1024 * 1024;

export interface RestServerOptions {
  /** The data plane every route calls. */
  service: InferenceService;
  /** Where failures that become INTERNAL are logged, with the request id. */
  logger: Logger;
  /**
   * When given, each routed request's time is observed as `sibyl_transport_request_duration_seconds{protocol="rest"}`:
   * from the route handler's start (body read) to the answer being handed to the socket.
   */
  metrics?: SibylMetrics;
  /** Largest request body accepted, bytes, as sent and after decompression; larger is 413. Default 64 MiB. */
  bodyLimitBytes?: number;
}

/** Returns the fastify instance, routes registered, not listening: call `listen` or `inject` on it. */
export function createRestServer(options: RestServerOptions): FastifyInstance {
  const bodyLimitBytes = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  if (!Number.isSafeInteger(bodyLimitBytes) || bodyLimitBytes <= 0) {
    throw new RangeError(`bodyLimitBytes must be a positive integer, got ${bodyLimitBytes}`);
  }
  const app = Fastify({
    logger: false,
    bodyLimit: bodyLimitBytes,
    genReqId: requestIdOf,
    // Model names may be 128 characters; longer ones must reach the name check (400), not the router (404).
    routerOptions: { maxParamLength: 1024, ignoreTrailingSlash: true },
  });

  registerRawBodyParser(app, bodyLimitBytes);
  registerRestErrorHandling(app, options.logger, bodyLimitBytes);

  registerRestRoutes(app, options.service, options.metrics);
  return app;
}

// Request ids this process assigns: a random prefix per process and a counter, unique across a
// fleet's logs without a UUID's cost on every request.
const ID_PREFIX = randomBytes(6).toString('hex');
let lastId = 0;

/** The client's `x-request-id` when it sent a usable one, else `<process prefix>-<counter>`. */
function requestIdOf(req: IncomingMessage): string {
  const given = req.headers[REQUEST_ID_HEADER];
  if (typeof given === 'string' && given.length > 0 && given.length <= 256) return given;
  lastId += 1;
  return `${ID_PREFIX}-${lastId.toString(36)}`;
}
