/**
 * How the management API reads bodies.
 *
 * JSON endpoints take `application/json` only (any other type is refused before the body is read):
 * a cross-site form cannot then drive a change through a browser, since a JSON POST from another
 * origin needs a CORS preflight this server never grants. An empty JSON body reads as no body, so
 * the endpoints whose body is optional (rollback, the repository extension) accept both.
 *
 * Upload endpoints leave the body unread: the route streams `request.raw` into the artifact store
 * itself. They refuse the form and text types for the same reason.
 */
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { contentTypeUnsupported, jsonMalformed } from './errors.js';

type Done = (err: Error | null, body?: unknown) => void;

/** The types a browser may send cross-origin without a preflight (Fetch standard, CORS-safelisted). */
const SIMPLE_TYPES = new Set(['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain']);

function mediaType(request: FastifyRequest): string {
  return String(request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/** Replaces the parsers of `app` (a route context) with the JSON reader described above. */
export function useJsonBodies(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (typeof body !== 'string' || body.trim() === '') {
      done(null, undefined);
      return;
    }
    parse(request, body, (err: Error | null, value?: unknown) => {
      if (err === null) done(null, value);
      else done(jsonMalformed(err.message));
    });
  });
  app.addContentTypeParser('*', (request: FastifyRequest, _payload: IncomingMessage, done: Done) => {
    done(contentTypeUnsupported(mediaType(request) || '(none)', 'send the body as application/json'));
  });
}

/** Replaces the parsers of `app` (a route context) with one that leaves the body to the handler. */
export function useRawBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (request: FastifyRequest, _payload: IncomingMessage, done: Done) => {
    const type = mediaType(request);
    if (SIMPLE_TYPES.has(type)) {
      done(contentTypeUnsupported(type, 'send the file as application/octet-stream'));
      return;
    }
    done(null, undefined);
  });
}
