/**
 * The API's description: an OpenAPI 3 document built from the route schemas (@fastify/swagger) at
 * `/docs/json` (and `/docs/yaml`), and a browsable page at `/docs` (@fastify/swagger-ui, whose
 * assets ship in the package: nothing is fetched from the network). Register before any route.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

export const DOCS_PREFIX = '/docs';

type OpenApiDocument = Record<string, unknown> & { paths?: Record<string, Record<string, Record<string, unknown>>> };

/** Registers both plugins on `app` itself (not in a child context), so they see every route. */
export function registerOpenApi(app: FastifyInstance, version: string): void {
  void app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Sibyl management API',
        version,
        description:
          'Register models, upload versions, deploy and roll back, read the audit log; Triton\'s model repository extension. ' +
          'Errors answer {"error": "<message>", "code": "SIBYL_..."} with the status of the error\'s category. ' +
          'Changes record the x-sibyl-actor header (default "anonymous") in the audit log.',
      },
      tags: [
        { name: 'models', description: 'Models: names, descriptions, labels.' },
        { name: 'versions', description: 'Uploaded, immutable versions of a model.' },
        { name: 'releases', description: 'Which version is live, and the audit log.' },
        { name: 'routing', description: 'Backend pools, routing rules, and each model\'s traffic split (canary, shadow).' },
        { name: 'repository', description: "Triton's model repository extension." },
        { name: 'artifacts', description: 'The model file server, for workers on other hosts.' },
        { name: 'server', description: 'The server itself.' },
      ],
    },
    // Shared schemas appear under their own names in components.schemas.
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json['$id'] === 'string' ? json['$id'] : `def-${i}`) },
    transformObject: (documents) => markOptionalBodies(('openapiObject' in documents ? documents.openapiObject : {}) as OpenApiDocument),
  });
  void app.register(swaggerUi, { routePrefix: DOCS_PREFIX, uiConfig: { docExpansion: 'list', deepLinking: true } });
}

/** A body whose schema also allows null may be left out: say so (the plugin marks every body required). */
function markOptionalBodies(document: OpenApiDocument): OpenApiDocument {
  for (const operations of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(operations)) {
      const body = operation['requestBody'] as { required?: boolean; content?: Record<string, { schema?: { nullable?: boolean; type?: unknown } }> } | undefined;
      const schema = body?.content?.['application/json']?.schema;
      if (body !== undefined && (schema?.nullable === true || (Array.isArray(schema?.type) && schema.type.includes('null')))) body.required = false;
    }
  }
  return document;
}
