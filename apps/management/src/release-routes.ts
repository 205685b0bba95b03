/**
 * Releases: deploy, rollback, undeploy, and the audit log. The registry serializes the changes of one
 * model (row lock) and audits each with who, from and to; serving follows the live pointer through
 * the registry's notifications.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from '@sibyl/observability';
import type { Model, Registry } from '@sibyl/registry';
import { actorOf } from './actor.js';
import { DEPLOY_BODY, ERROR_RESPONSES, EVENTS_QUERY, NAME_PARAMS, closed, optionalBody, ref } from './schemas.js';
import { toWireEvent, toWireRelease } from './wire.js';

interface NameParams {
  name: string;
}

const TAGS = ['releases'];
const RELEASE_RESPONSES = { 200: ref('Release'), ...ERROR_RESPONSES };

export function registerReleaseRoutes(app: FastifyInstance, registry: Registry, logger: Logger): void {
  /** Logs a release (the audit log has the exact from and to) and answers it. */
  const released = (action: string, after: Model, actor: string) => {
    logger.info(
      { model: after.name, action, live: after.liveVersion, previous: after.previousVersion, actor },
      `model '${after.name}': ${action} by ${actor}; live version ${after.liveVersion ?? 'none'}, previous ${after.previousVersion ?? 'none'}`,
    );
    return toWireRelease(after);
  };

  app.post<{ Params: NameParams; Body: { version: number } }>('/v1/models/:name/deploy', {
    schema: {
      tags: TAGS,
      summary: 'Make a version live',
      description:
        'Requests without a version reach it from now on; the version live before becomes the previous one (where a rollback goes). ' +
        'Deploying the live version changes nothing. 409 for a retired or failed version.',
      params: NAME_PARAMS,
      body: DEPLOY_BODY,
      response: RELEASE_RESPONSES,
    },
    handler: async (request) => {
      const actor = actorOf(request);
      return released('deploy', await registry.deploy(request.params.name, request.body.version, actor), actor);
    },
  });

  app.post<{ Params: NameParams }>('/v1/models/:name/rollback', {
    schema: {
      tags: TAGS,
      summary: 'Return to the previous version',
      description:
        'Swaps the live and previous versions, so a second rollback undoes the first. 409 when there is no previous version, ' +
        'or it was retired or failed since. The body is empty.',
      params: NAME_PARAMS,
      body: optionalBody({}),
      response: RELEASE_RESPONSES,
    },
    handler: async (request) => {
      const actor = actorOf(request);
      return released('rollback', await registry.rollback(request.params.name, actor), actor);
    },
  });

  app.post<{ Params: NameParams }>('/v1/models/:name/undeploy', {
    schema: {
      tags: TAGS,
      summary: 'Stop serving the model',
      description:
        'Nothing is live any more (requests without a version fail); the version that was live becomes the previous one, so a rollback ' +
        'serves it again. A model must be undeployed before it can be deleted. The body is empty.',
      params: NAME_PARAMS,
      body: optionalBody({}),
      response: RELEASE_RESPONSES,
    },
    handler: async (request) => {
      const actor = actorOf(request);
      return released('undeploy', await registry.undeploy(request.params.name, actor), actor);
    },
  });

  app.get<{ Params: NameParams; Querystring: { limit?: string; before?: string } }>('/v1/models/:name/events', {
    schema: {
      tags: TAGS,
      summary: "A model's audit log",
      description:
        'Every change to the model, newest first: who, when, what, from and to. It outlives the model. ' +
        'Pages: pass the last id of one page as `before` to get the next.',
      params: NAME_PARAMS,
      querystring: EVENTS_QUERY,
      response: {
        200: closed({ events: { type: 'array', items: ref('Event') } }, ['events']),
        ...ERROR_RESPONSES,
      },
    },
    handler: async (request) => {
      const { limit, before } = request.query;
      const events = await registry.events(request.params.name, {
        ...(limit === undefined ? {} : { limit: Number(limit) }),
        ...(before === undefined ? {} : { before: Number(before) }),
      });
      return { events: events.map(toWireEvent) };
    },
  });
}
