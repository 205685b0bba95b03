/**
 * Probes for orchestrators: `GET /v1/health/live` (the process answers) and `GET /v1/health/ready`
 * (it takes requests: not draining). Readiness does not depend on PostgreSQL: with the database
 * down, registry calls answer 503 with the database error, but the artifact file server still
 * serves workers, so the instance must stay in its Service. The answer says whether the registry
 * answered (`registry: up|down`) for operators.
 */
import type { FastifyInstance } from 'fastify';
import { toSibylError } from '@sibyl/protocol';
import type { Registry } from '@sibyl/registry';
import { closed, ERROR_RESPONSES } from './schemas.js';
import type { ManagementServing } from './server-options.js';

export function registerHealthRoutes(app: FastifyInstance, registry: Registry, serving: ManagementServing | undefined): void {
  const body = closed(
    {
      live: { type: 'boolean' },
      ready: { type: 'boolean' },
      registry: { type: 'string', enum: ['up', 'down'] },
      reason: { type: 'string', description: 'Why the registry is down, or why the server is not ready.' },
    },
    [],
  );
  app.get('/v1/health/live', {
    schema: { tags: ['server'], summary: 'Liveness probe', description: '200 while the process answers; it reads nothing.', response: { 200: body, ...ERROR_RESPONSES } },
    handler: async () => ({ live: true }),
  });
  app.get('/v1/health/ready', {
    schema: {
      tags: ['server'],
      summary: 'Readiness probe',
      description:
        '200 while the server takes requests, 503 while it drains. `registry` says whether PostgreSQL answered; a registry that is down does not make the server unready (the artifact file server keeps serving workers).',
      response: { ...ERROR_RESPONSES, 200: body, 503: body },
    },
    handler: async (_request, reply) => {
      let registryState: 'up' | 'down' = 'up';
      let reason: string | undefined;
      try {
        await registry.listPools();
      } catch (err) {
        registryState = 'down';
        reason = toSibylError(err).message;
      }
      const ready = serving?.ready === undefined ? true : await serving.ready();
      const answer = { ready, registry: registryState, ...(reason === undefined ? {} : { reason }) };
      return ready ? answer : reply.code(503).send({ ...answer, reason: reason ?? 'draining' });
    },
  });
}
