/**
 * The model file server: `GET|HEAD /v1/artifacts/{sha256}` sends the stored file (the `.tar.gz` as
 * uploaded for a directory artifact) so that workers on other hosts can fetch it and verify it against
 * its address (fetch-artifact.ts).
 *
 * Content never changes at an address, so the sha256 is a strong ETag and responses may be cached
 * forever. Failures answer `{"error": "<message>"}` with the status of the error's category.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { toSibylError, type SibylError } from '@sibyl/protocol';
import type { ArtifactStore } from './artifact-store.js';
import { assertSha256 } from './store-layout.js';

export const ARTIFACTS_ROUTE = '/v1/artifacts/:sha256';
export const SHA256_HEADER = 'x-sibyl-sha256';

/** Adds the file server routes to `app`. */
export function registerArtifactRoutes(app: FastifyInstance, store: ArtifactStore): void {
  app.route<{ Params: { sha256: string } }>({
    method: ['GET', 'HEAD'],
    url: ARTIFACTS_ROUTE,
    errorHandler: (error, request, reply) => {
      const err = toSibylError(error);
      if (err.category === 'INTERNAL') {
        request.log.error({ err: error, url: request.url }, 'artifact request failed');
      }
      return sendError(reply, err);
    },
    handler: async (request, reply) => {
      const { sha256 } = request.params;
      assertSha256(sha256, 'artifact');
      if (request.method === 'HEAD') {
        const { size } = await store.stat(sha256);
        setHeaders(reply, sha256, size);
        return notModified(request, sha256) ? reply.code(304).send() : reply.send();
      }
      const artifact = await store.open(sha256);
      setHeaders(reply, sha256, artifact.size);
      if (notModified(request, sha256)) {
        artifact.stream.destroy();
        return reply.code(304).send();
      }
      return reply.send(artifact.stream);
    },
  });
}

function setHeaders(reply: FastifyReply, sha256: string, size: number): void {
  reply
    .header('content-type', 'application/octet-stream')
    .header('content-length', String(size))
    .header('etag', `"${sha256}"`)
    .header(SHA256_HEADER, sha256)
    .header('cache-control', 'public, max-age=31536000, immutable');
}

/**
 * RFC 9110 §13.1.2: If-None-Match holds `*` or a list of entity tags, compared weakly (a `W/` prefix
 * does not matter). A match answers 304.
 */
function notModified(request: FastifyRequest, sha256: string): boolean {
  const header = request.headers['if-none-match'];
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  const ours = `"${sha256}"`;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === ours);
}

function sendError(reply: FastifyReply, err: SibylError): FastifyReply {
  // Headers set for the file before the failure must not describe the error.
  reply.removeHeader('content-length').removeHeader('etag').removeHeader(SHA256_HEADER).removeHeader('cache-control');
  return reply
    .code(err.httpStatus)
    .header('content-type', 'application/json; charset=utf-8')
    .send(JSON.stringify({ error: err.message }));
}
