/**
 * The management REST API (fastify): a library the apps compose and listen with (DESIGN.md §2;
 * `--management-port`, 8003, bound to 127.0.0.1 by the app unless told otherwise).
 *
 * Routes are thin adapters over the registry, the artifact store and the runtime's model check;
 * every one has a JSON schema, which validates the request (closed objects: an unknown field is a
 * 400 naming it), serializes the answer and feeds the OpenAPI document at /docs/json.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { ARTIFACTS_ROUTE, registerArtifactRoutes, type ArtifactStore } from '@sibyl/artifacts';
import { useJsonBodies } from './body-parsers.js';
import { registerModelRoutes } from './model-routes.js';
import { DOCS_PREFIX, registerOpenApi } from './openapi.js';
import { registerReleaseRoutes } from './release-routes.js';
import { registerRepositoryRoutes } from './repository-routes.js';
import { addRoutingSchemas } from './routing-schemas.js';
import { registerRoutingRoutes } from './routing-routes.js';
import { registerErrorHandling } from './request-errors.js';
import { ERROR_RESPONSES, SHA256_HEX, addSharedSchemas, closed } from './schemas.js';
import { resolveOptions, type ManagementServerOptions } from './server-options.js';
import { registerHealthRoutes } from './health-routes.js';
import { registerStatusRoute } from './status-route.js';
import { createVersionUploader } from './version-upload.js';
import { registerUploadRoute, registerVersionRoutes } from './version-routes.js';

/** Largest JSON body of the endpoints other than uploads and repository loads, bytes. */
export const JSON_BODY_LIMIT_BYTES = 1024 * 1024;

/** Returns the fastify instance with every route registered, not listening: call `listen` or `inject`. */
export function createManagementServer(options: ManagementServerOptions): FastifyInstance {
  const app = buildServer(options, false);
  serveDocsOnDemand(app, options);
  return app;
}

/** The server with every route; with `documented`, also the OpenAPI plugins that describe them. */
function buildServer(options: ManagementServerOptions, documented: boolean): FastifyInstance {
  const resolved = resolveOptions(options);
  const { registry, store, logger } = resolved;
  const app = Fastify({
    logger: false,
    bodyLimit: JSON_BODY_LIMIT_BYTES,
    // Names may be 128 characters; longer ones must reach the name check (400), not the router (404).
    routerOptions: { maxParamLength: 1024, ignoreTrailingSlash: true },
    ajv: {
      customOptions: {
        // Refuse what the schema does not allow, never repair it: no dropped fields, no coerced types.
        removeAdditional: false,
        coerceTypes: false,
        useDefaults: false,
        allErrors: false,
        // Errors carry the offending value, for messages that show it.
        verbose: true,
      },
    },
  });
  registerErrorHandling(app, logger);
  addSharedSchemas(app);
  addRoutingSchemas(app);
  if (documented) registerOpenApi(app, resolved.serverVersion);

  const uploader = createVersionUploader({
    registry,
    store,
    inspectModel: (path, config, inspectOptions) => resolved.inspectModel(path, config, inspectOptions),
    logger,
    maxUploadBytes: resolved.maxUploadBytes,
  });

  void app.register(async (json) => {
    useJsonBodies(json);
    registerModelRoutes(json, registry);
    registerVersionRoutes(json, registry);
    registerReleaseRoutes(json, registry, logger);
    registerRoutingRoutes(json, registry);
    registerStatusRoute(json, registry, resolved.serving, resolved.serverVersion);
    registerHealthRoutes(json, registry, resolved.serving);
    registerRepositoryRoutes(json, { uploader, serving: resolved.serving, maxLoadBodyBytes: resolved.maxLoadBodyBytes });
  });
  registerUploadRoute(app, registry, uploader);
  void app.register(async (files) => registerDocumentedArtifactRoutes(files, store));
  return app;
}

/** Response headers the relay leaves to the serving instance's own reply. */
const HOP_HEADERS: ReadonlySet<string> = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'date']);

/**
 * The API's description (everything under DOCS_PREFIX: the OpenAPI document and its page) is built on
 * its first request, by a second instance of this server that carries the documentation plugins and
 * never listens; requests are relayed to it in process. The plugins and what they load at
 * registration (a YAML library, a static file server) hold about 2.5 MB of V8 heap, which every major
 * garbage collection of a serving process would mark although most never serve their docs.
 */
function serveDocsOnDemand(app: FastifyInstance, options: ManagementServerOptions): void {
  let documented: Promise<FastifyInstance> | undefined;
  const instance = (): Promise<FastifyInstance> => {
    if (documented !== undefined) return documented;
    const building = buildServer(options, true);
    const ready = Promise.resolve(building.ready()).then(
      () => building,
      (err: unknown) => {
        // Built again on the next request: a failure here is the request's, not the server's.
        documented = undefined;
        void building.close();
        throw err;
      },
    );
    documented = ready;
    return ready;
  };
  const relay = async (request: FastifyRequest, reply: FastifyReply) => {
    const docs = await instance();
    const answer = await docs.inject({ method: request.method as 'GET' | 'HEAD', url: request.url, headers: request.headers });
    reply.code(answer.statusCode);
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value !== undefined && !HOP_HEADERS.has(name)) reply.header(name, value);
    }
    return reply.send(answer.rawPayload);
  };
  // This instance has no OpenAPI plugin, so these routes are in no document.
  app.route({ method: ['GET', 'HEAD'], url: DOCS_PREFIX, handler: relay });
  app.route({ method: ['GET', 'HEAD'], url: `${DOCS_PREFIX}/*`, handler: relay });
  app.addHook('onClose', async () => {
    const built = await documented?.catch(() => undefined);
    await built?.close();
  });
}

/** The artifact store's file server, with the schema it does not declare itself, for the document. */
function registerDocumentedArtifactRoutes(app: FastifyInstance, store: ArtifactStore): void {
  app.addHook('onRoute', (route) => {
    if (route.url !== ARTIFACTS_ROUTE) return;
    route.schema = {
      tags: ['artifacts'],
      summary: 'Download a model file',
      description:
        'The stored file (the .tar.gz as uploaded for a directory model), by its sha256, for workers on other hosts to fetch and verify. ' +
        'Immutable: the sha256 is a strong ETag; If-None-Match answers 304.',
      params: closed({ sha256: SHA256_HEX }, ['sha256']),
      response: {
        200: { description: 'The file.', content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } },
        ...ERROR_RESPONSES,
      },
      ...(route.schema ?? {}),
    };
  });
  registerArtifactRoutes(app, store);
}
