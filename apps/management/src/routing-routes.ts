/**
 * Routing: backend pools (`/v1/pools`), routing rules (`/v1/routes`), why a version goes where it
 * goes (`/v1/routes/explain/{model}`), and a model's traffic split (`/v1/models/{name}/traffic`).
 * Thin adapters over the registry, which validates again and owns every rule (the 409s included);
 * the explanation uses the same matcher the registry and the router use.
 */
import type { FastifyInstance } from 'fastify';
import { explainRules, versionFacts, type Registry, type RouteMatch } from '@sibyl/registry';
import { actorOf } from './actor.js';
import { nothingToExplain } from './errors.js';
import {
  CREATE_POOL_BODY,
  CREATE_RULE_BODY,
  EXPLAIN_PARAMS,
  EXPLAIN_QUERY,
  POOL_PARAMS,
  RULE_PARAMS,
  TRAFFIC_BODY,
  UPDATE_POOL_BODY,
  UPDATE_RULE_BODY,
} from './routing-schemas.js';
import { ERROR_RESPONSES, NAME_PARAMS, closed, ref } from './schemas.js';
import { toWireExplanation, toWirePool, toWireRoute, toWireTraffic } from './wire.js';

const TAGS = ['routing'];
const DELETED = { 204: { type: 'null', description: 'Deleted.' }, ...ERROR_RESPONSES };

interface PoolBody {
  name: string;
  kind: string;
  endpoints?: string[];
  discovery?: boolean;
  description?: string;
}

interface RuleBody {
  priority: number;
  pool: string;
  match?: RouteMatch;
  description?: string;
}

interface TrafficBody {
  canary_version?: number | null;
  canary_weight?: number;
  shadow_version?: number | null;
}

/** Copies the fields present (a PATCH sets only what it names). */
function present<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function registerRoutingRoutes(app: FastifyInstance, registry: Registry): void {
  // ---- pools -------------------------------------------------------------------------------------

  app.get('/v1/pools', {
    schema: {
      tags: TAGS,
      summary: 'List backend pools',
      description: 'Every pool, ordered by name: the sets of interchangeable instances routing rules send versions to.',
      response: { 200: closed({ pools: { type: 'array', items: ref('Pool') } }, ['pools']), ...ERROR_RESPONSES },
    },
    handler: async () => ({ pools: (await registry.listPools()).map(toWirePool) }),
  });

  app.post<{ Body: PoolBody }>('/v1/pools', {
    schema: {
      tags: TAGS,
      summary: 'Create a backend pool',
      description: 'Exactly one of `endpoints` (fixed instances) or `discovery: true` (the live instances registered under the pool name). 409 when the name is taken.',
      body: CREATE_POOL_BODY,
      response: { 201: ref('Pool'), ...ERROR_RESPONSES },
    },
    handler: async (request, reply) => {
      const { name, kind, endpoints, discovery, description } = request.body;
      const pool = await registry.createPool(present({ name, kind, endpoints, discovery, description }) as never, actorOf(request));
      return reply.code(201).send(toWirePool(pool));
    },
  });

  app.get<{ Params: { name: string } }>('/v1/pools/:name', {
    schema: { tags: TAGS, summary: 'Show a backend pool', params: POOL_PARAMS, response: { 200: ref('Pool'), ...ERROR_RESPONSES } },
    handler: async (request) => toWirePool(await registry.getPool(request.params.name)),
  });

  app.patch<{ Params: { name: string }; Body: Omit<PoolBody, 'name' | 'kind'> }>('/v1/pools/:name', {
    schema: {
      tags: TAGS,
      summary: 'Update a backend pool',
      description: 'Sets the fields given. `discovery: true` alone empties the endpoints; `endpoints` alone turns discovery off. The kind never changes.',
      params: POOL_PARAMS,
      body: UPDATE_POOL_BODY,
      response: { 200: ref('Pool'), ...ERROR_RESPONSES },
    },
    handler: async (request) => {
      const { endpoints, discovery, description } = request.body;
      return toWirePool(await registry.updatePool(request.params.name, present({ endpoints, discovery, description }), actorOf(request)));
    },
  });

  app.delete<{ Params: { name: string } }>('/v1/pools/:name', {
    schema: {
      tags: TAGS,
      summary: 'Delete a backend pool',
      description: '409 while a routing rule names the pool: change or delete those rules first.',
      params: POOL_PARAMS,
      response: DELETED,
    },
    handler: async (request, reply) => {
      await registry.deletePool(request.params.name, actorOf(request));
      return reply.code(204).send();
    },
  });

  // ---- routing rules -----------------------------------------------------------------------------

  app.get('/v1/routes', {
    schema: {
      tags: TAGS,
      summary: 'List routing rules',
      description: 'In the order they are tried: priority (lower first), then id. The first rule whose match fits a version names its pool.',
      response: { 200: closed({ routes: { type: 'array', items: ref('Route') } }, ['routes']), ...ERROR_RESPONSES },
    },
    handler: async () => ({ routes: (await registry.listRules()).map(toWireRoute) }),
  });

  app.post<{ Body: RuleBody }>('/v1/routes', {
    schema: {
      tags: TAGS,
      summary: 'Add a routing rule',
      description: 'Sends the versions its match fits (and no earlier rule takes) to its pool. 404 when the pool does not exist.',
      body: CREATE_RULE_BODY,
      response: { 201: ref('Route'), ...ERROR_RESPONSES },
    },
    handler: async (request, reply) => {
      const { priority, pool, match, description } = request.body;
      const rule = await registry.createRule(present({ priority, pool, match, description }) as RuleBody, actorOf(request));
      return reply.code(201).send(toWireRoute(rule));
    },
  });

  app.get<{ Params: { model: string }; Querystring: { version?: string } }>('/v1/routes/explain/:model', {
    schema: {
      tags: TAGS,
      summary: 'Explain where a version is routed',
      description:
        'Which rule routes the live version (or `version`) of the model, and for every rule whether it matches and why, field by field. ' +
        '409 when the model has no live version and none is named.',
      params: EXPLAIN_PARAMS,
      querystring: EXPLAIN_QUERY,
      response: { 200: ref('RouteExplanation'), ...ERROR_RESPONSES },
    },
    handler: async (request) => {
      const model = await registry.getModel(request.params.model);
      const number = request.query.version === undefined ? model.liveVersion : Number(request.query.version);
      if (number === null) throw nothingToExplain(model.name);
      const facts = versionFacts(model, await registry.getVersion(model.name, number));
      return toWireExplanation(facts, explainRules(await registry.listRules(), facts));
    },
  });

  app.get<{ Params: { id: string } }>('/v1/routes/:id', {
    schema: { tags: TAGS, summary: 'Show a routing rule', params: RULE_PARAMS, response: { 200: ref('Route'), ...ERROR_RESPONSES } },
    handler: async (request) => toWireRoute(await registry.getRule(Number(request.params.id))),
  });

  app.patch<{ Params: { id: string }; Body: Partial<RuleBody> }>('/v1/routes/:id', {
    schema: {
      tags: TAGS,
      summary: 'Update a routing rule',
      description:
        'Sets the fields given; `match` replaces the whole match. 409 when a live, canary or shadow version would then match no rule; the message names it.',
      params: RULE_PARAMS,
      body: UPDATE_RULE_BODY,
      response: { 200: ref('Route'), ...ERROR_RESPONSES },
    },
    handler: async (request) => {
      const { priority, pool, match, description } = request.body;
      const rule = await registry.updateRule(Number(request.params.id), present({ priority, pool, match, description }), actorOf(request));
      return toWireRoute(rule);
    },
  });

  app.delete<{ Params: { id: string } }>('/v1/routes/:id', {
    schema: {
      tags: TAGS,
      summary: 'Delete a routing rule',
      description: '409 when a live, canary or shadow version would then match no rule; the message names it.',
      params: RULE_PARAMS,
      response: DELETED,
    },
    handler: async (request, reply) => {
      await registry.deleteRule(Number(request.params.id), actorOf(request));
      return reply.code(204).send();
    },
  });

  // ---- traffic -----------------------------------------------------------------------------------

  app.get<{ Params: { name: string } }>('/v1/models/:name/traffic', {
    schema: {
      tags: TAGS,
      summary: "Show a model's traffic split",
      description: 'The live version, the canary and its weight, and the shadow.',
      params: NAME_PARAMS,
      response: { 200: ref('Traffic'), ...ERROR_RESPONSES },
    },
    handler: async (request) => toWireTraffic(await registry.getTraffic(request.params.name)),
  });

  app.put<{ Params: { name: string }; Body: TrafficBody }>('/v1/models/:name/traffic', {
    schema: {
      tags: TAGS,
      summary: "Set a model's canary and shadow",
      description:
        'Sets the fields given; null clears the canary (its weight becomes 0) or the shadow. A canary or shadow must exist, must not be retired ' +
        'or failed, must differ from the live version and must match a routing rule (409 otherwise); the model must have a live version. ' +
        'Deploying the canary promotes it.',
      params: NAME_PARAMS,
      body: TRAFFIC_BODY,
      response: { 200: ref('Traffic'), ...ERROR_RESPONSES },
    },
    handler: async (request) => {
      const body = request.body;
      const traffic = await registry.setTraffic(
        request.params.name,
        present({ canaryVersion: body.canary_version, canaryWeight: body.canary_weight, shadowVersion: body.shadow_version }),
        actorOf(request),
      );
      return toWireTraffic(traffic);
    },
  });
}
