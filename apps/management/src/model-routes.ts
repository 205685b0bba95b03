/**
 * `/v1/models`: create, list, read, update (description, labels) and delete models. Thin adapters
 * over the registry, which checks everything again and owns every rule (409s included).
 */
import type { FastifyInstance } from 'fastify';
import type { CreateModelInput, Registry, UpdateModelInput } from '@sibyl/registry';
import { actorOf } from './actor.js';
import { CREATE_MODEL_BODY, ERROR_RESPONSES, NAME_PARAMS, UPDATE_MODEL_BODY, ref } from './schemas.js';
import { toWireModel } from './wire.js';

interface NameParams {
  name: string;
}

const TAGS = ['models'];

export function registerModelRoutes(app: FastifyInstance, registry: Registry): void {
  app.post<{ Body: CreateModelInput }>('/v1/models', {
    schema: {
      tags: TAGS,
      summary: 'Register a model',
      description: 'Creates a model without versions; upload versions with POST /v1/models/{name}/versions. 409 when the name is taken.',
      body: CREATE_MODEL_BODY,
      response: { 201: ref('Model'), ...ERROR_RESPONSES },
    },
    handler: async (request, reply) => {
      const model = await registry.createModel(request.body, actorOf(request));
      return reply.code(201).send(toWireModel(model));
    },
  });

  app.get('/v1/models', {
    schema: {
      tags: TAGS,
      summary: 'List models',
      description: 'Every model, ordered by name, with its live and previous versions.',
      response: {
        200: { type: 'object', additionalProperties: false, required: ['models'], properties: { models: { type: 'array', items: ref('Model') } } },
        ...ERROR_RESPONSES,
      },
    },
    handler: async () => ({ models: (await registry.listModels()).map(toWireModel) }),
  });

  app.get<{ Params: NameParams }>('/v1/models/:name', {
    schema: { tags: TAGS, summary: 'Show a model', params: NAME_PARAMS, response: { 200: ref('Model'), ...ERROR_RESPONSES } },
    handler: async (request) => toWireModel(await registry.getModel(request.params.name)),
  });

  app.patch<{ Params: NameParams; Body: UpdateModelInput }>('/v1/models/:name', {
    schema: {
      tags: TAGS,
      summary: 'Update a model',
      description: 'Sets the fields given; `labels` replaces the whole map.',
      params: NAME_PARAMS,
      body: UPDATE_MODEL_BODY,
      response: { 200: ref('Model'), ...ERROR_RESPONSES },
    },
    handler: async (request) => toWireModel(await registry.updateModel(request.params.name, request.body, actorOf(request))),
  });

  app.delete<{ Params: NameParams }>('/v1/models/:name', {
    schema: {
      tags: TAGS,
      summary: 'Delete a model',
      description:
        'Deletes the model and its versions; its audit events stay readable. 409 while a version is live: roll it out first. ' +
        'Artifacts are not deleted: other versions may share them.',
      params: NAME_PARAMS,
      response: { 204: { type: 'null', description: 'Deleted.' }, ...ERROR_RESPONSES },
    },
    handler: async (request, reply) => {
      await registry.deleteModel(request.params.name, actorOf(request));
      return reply.code(204).send();
    },
  });
}
