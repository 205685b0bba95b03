/**
 * How the REST edge answers a failure: `{"error": "<message>", "code": "<SIBYL_...>"}` with the HTTP
 * status of the error's category (packages/protocol/src/sibyl-error.ts). `error` is the field every
 * v2 client reads; `code` is stable, for callers that match on it (an extra field v2 clients ignore). This is the one place REST turns anything that is
 * not a SibylError into INTERNAL, and logs it with the request id.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '@sibyl/observability';
import { isSibylError, serverDraining, toSibylError, type SibylError } from '@sibyl/protocol';
import { bodyTooLarge, compressionUnsupported, httpRequestInvalid, routeNotFound } from './errors.js';
import { REQUEST_ID_HEADER } from './rest-handler.js';

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** Installs the error and not-found handlers on `app`. */
export function registerRestErrorHandling(app: FastifyInstance, logger: Logger, bodyLimitBytes: number): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const err = edgeError(error, bodyLimitBytes);
    if (err.category === 'INTERNAL') {
      logger.error({ reqId: request.id, method: request.method, url: request.url, err: error }, 'REST request failed');
    }
    sendError(reply, err);
  });
  app.setNotFoundHandler((_request, reply) => {
    sendError(reply, routeNotFound());
  });
}

export function sendError(reply: FastifyReply, err: SibylError): FastifyReply {
  reply.code(err.httpStatus).header(REQUEST_ID_HEADER, reply.request.id);
  if (err.retryAfterSeconds !== undefined) reply.header('retry-after', String(Math.ceil(err.retryAfterSeconds)));
  // Triton names the encodings it does accept when it refuses one.
  if (err.code === compressionUnsupported.code) reply.header('accept-encoding', 'gzip, deflate');
  // A draining server closes kept-alive connections as it refuses work on them, so clients reconnect
  // elsewhere and its listener can finish closing.
  if (err.code === serverDraining.code) reply.header('connection', 'close');
  return reply.header('content-type', JSON_CONTENT_TYPE).send(JSON.stringify({ error: err.message, code: err.code }));
}

/**
 * A wrong method on a known path: 405 with `Allow`, as Triton answers. Not a SibylError: no category
 * means "wrong method", and no data-plane call can fail this way, so gRPC has no counterpart.
 */
export function methodNotAllowed(allowed: readonly string[]) {
  const allow = allowed.join(', ');
  return (request: FastifyRequest, reply: FastifyReply): FastifyReply =>
    reply
      .code(405)
      .header(REQUEST_ID_HEADER, request.id)
      .header('allow', allow)
      .header('content-type', JSON_CONTENT_TYPE)
      .send(JSON.stringify({ error: 'Method Not Allowed' }));
}

/**
 * Fastify's own errors (FST_*) and errors of the request stream carry a `statusCode`: a 4xx one is a
 * fault in the HTTP request (body over the limit, Content-Length not matching the body, an unparsable
 * Content-Type, a body cut short) and becomes one of our coded errors; everything else that is not a
 * SibylError is INTERNAL.
 */
function edgeError(error: unknown, bodyLimitBytes: number): SibylError {
  if (isSibylError(error)) return error;
  const status = (error as Partial<FastifyError> | null)?.statusCode;
  if (status === 413) return bodyTooLarge(bodyLimitBytes);
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return httpRequestInvalid(error instanceof Error ? error.message : String(error));
  }
  return toSibylError(error);
}
