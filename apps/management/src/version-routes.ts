/**
 * `/v1/models/{name}/versions`: upload (a raw body streamed into the artifact store, validated by the
 * runtime, then registered; see version-upload.ts), list, read and retire versions.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Registry } from '@sibyl/registry';
import { actorOf } from './actor.js';
import { useRawBodies } from './body-parsers.js';
import { uploadTooLarge } from './errors.js';
import { ERROR_RESPONSES, NAME_PARAMS, UPLOAD_QUERY, VERSION_PARAMS, ref } from './schemas.js';
import type { VersionUploader } from './version-upload.js';
import { toWireVersion } from './wire.js';

interface NameParams {
  name: string;
}
interface VersionParams {
  name: string;
  version: string;
}
interface UploadQuery {
  filename: string;
  sha256?: string;
}

const TAGS = ['versions'];

/** Registers the JSON routes (the caller's context reads JSON bodies). */
export function registerVersionRoutes(app: FastifyInstance, registry: Registry): void {
  app.get<{ Params: NameParams }>('/v1/models/:name/versions', {
    schema: {
      tags: TAGS,
      summary: "List a model's versions",
      description: 'Every version, retired ones included, oldest first.',
      params: NAME_PARAMS,
      response: {
        200: { type: 'object', additionalProperties: false, required: ['versions'], properties: { versions: { type: 'array', items: ref('Version') } } },
        ...ERROR_RESPONSES,
      },
    },
    handler: async (request) => ({ versions: (await registry.listVersions(request.params.name)).map(toWireVersion) }),
  });

  app.get<{ Params: VersionParams }>('/v1/models/:name/versions/:version', {
    schema: { tags: TAGS, summary: 'Show a version', params: VERSION_PARAMS, response: { 200: ref('Version'), ...ERROR_RESPONSES } },
    handler: async (request) => toWireVersion(await registry.getVersion(request.params.name, Number(request.params.version))),
  });

  app.delete<{ Params: VersionParams }>('/v1/models/:name/versions/:version', {
    schema: {
      tags: TAGS,
      summary: 'Retire a version',
      description:
        'Retiring is final: the version can no longer be deployed or rolled back to; its row and artifact stay. ' +
        'Answers the retired version. 409 while it is live.',
      params: VERSION_PARAMS,
      response: { 200: ref('Version'), ...ERROR_RESPONSES },
    },
    handler: async (request) =>
      toWireVersion(await registry.retireVersion(request.params.name, Number(request.params.version), actorOf(request))),
  });
}

/** Registers the upload route in its own context, whose bodies stay unread for the handler to stream. */
export function registerUploadRoute(app: FastifyInstance, registry: Registry, uploader: VersionUploader): void {
  void app.register(async (scope) => {
    useRawBodies(scope);
    scope.post<{ Params: NameParams; Querystring: UploadQuery }>('/v1/models/:name/versions', {
      schema: {
        tags: TAGS,
        summary: 'Upload a version',
        description:
          'The body is the model file (application/octet-stream), or a directory packed as .tar.gz, streamed to the artifact store. ' +
          `The server loads it in the runtime before accepting it: a model it cannot load is refused (400, with the runtime's reason) and nothing is stored. ` +
          'Answers 201 with the new version, or 200 with the existing one when a version of the model that can still serve already has these bytes. ' +
          `Larger than the upload limit: 413. The version is not live until deployed.`,
        params: NAME_PARAMS,
        querystring: UPLOAD_QUERY,
        response: { 200: ref('Version'), 201: ref('Version'), ...ERROR_RESPONSES },
      },
      config: {
        // The body is documented here only: fastify must not try to validate a stream.
        swaggerTransform: ({ schema, url }) => ({
          url,
          schema: { ...schema, body: { content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } } },
        }),
      },
      handler: async (request, reply) => {
        const actor = actorOf(request);
        const { name } = request.params;
        const what = `upload '${request.query.filename}'`;
        const declared = declaredLength(request);
        try {
          // Refused before the body is read: Node then reads and discards it, and the client gets the answer.
          if (declared !== undefined && declared > uploader.maxUploadBytes) throw uploadTooLarge(what, uploader.maxUploadBytes);
          await registry.getModel(name);
          const result = await uploader.upload({
            model: name,
            source: request.raw,
            filename: request.query.filename,
            ...(request.query.sha256 === undefined ? {} : { expectedSha256: request.query.sha256 }),
            actor,
          });
          return reply.code(result.created ? 201 : 200).send(toWireVersion(result.version));
        } catch (err) {
          // Refused part way: read and drop the rest, so the answer is not lost to a reset.
          if (!request.raw.complete && !request.raw.destroyed) request.raw.resume();
          throw err;
        }
      },
    });
  });
}

function declaredLength(request: FastifyRequest): number | undefined {
  const header = request.headers['content-length'];
  if (header === undefined) return undefined;
  const length = Number(header);
  return Number.isSafeInteger(length) ? length : undefined;
}
