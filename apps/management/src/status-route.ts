/**
 * `GET /v1/status`: the server's own summary for `sibyl status`. It reads the registry, so an
 * unreachable database answers 503 with the registry's error rather than a made-up count.
 */
import type { FastifyInstance } from 'fastify';
import { isSibylError } from '@sibyl/protocol';
import type { ModelVersion, Registry } from '@sibyl/registry';
import { ERROR_RESPONSES, closed } from './schemas.js';
import type { ManagementServing } from './server-options.js';

export function registerStatusRoute(app: FastifyInstance, registry: Registry, serving: ManagementServing | undefined, version: string): void {
  app.get('/v1/status', {
    schema: {
      tags: ['server'],
      summary: 'Server status',
      description: '`ready` is false while the serving side says it is not ready; `versions_ready` counts versions in state ready.',
      response: {
        200: closed(
          {
            name: { type: 'string', enum: ['sibyl'] },
            version: { type: 'string' },
            ready: { type: 'boolean' },
            models: { type: 'integer', description: 'Registered models.' },
            versions_ready: { type: 'integer', description: 'Versions in state ready, over every model.' },
          },
          ['name', 'version', 'ready', 'models', 'versions_ready'],
        ),
        ...ERROR_RESPONSES,
      },
    },
    handler: async () => {
      const models = await registry.listModels();
      let versionsReady = 0;
      for (const model of models) {
        versionsReady += (await versionsOf(registry, model.name)).filter((v) => v.state === 'ready').length;
      }
      const ready = serving?.ready === undefined ? true : await serving.ready();
      return { name: 'sibyl', version, ready, models: models.length, versions_ready: versionsReady };
    },
  });
}

/** A model deleted since it was listed has no versions. */
async function versionsOf(registry: Registry, model: string): Promise<ModelVersion[]> {
  try {
    return await registry.listVersions(model);
  } catch (err) {
    if (isSibylError(err) && err.category === 'NOT_FOUND') return [];
    throw err;
  }
}
