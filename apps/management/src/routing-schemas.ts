/**
 * JSON schemas of the routing endpoints (pools, routing rules, explain, traffic), in the style of
 * schemas.ts: closed objects, so an unknown field is a 400 that names it. The shared shapes are added
 * by `$id` (`addRoutingSchemas`) and appear under their names in the OpenAPI document.
 */
import type { FastifyInstance } from 'fastify';
import { MODEL_NAME_RULE } from '@sibyl/protocol';
import { POOL_KINDS } from '@sibyl/registry';
import { closed, MODEL_NAME, VERSION_TEXT } from './schemas.js';

const nullable = (type: string) => ({ type: [type, 'null'] });
const GLOB = { type: 'string', minLength: 1, description: 'A glob: `*` any run of characters, `?` one; case-sensitive, whole value.' } as const;
const ENDPOINT = {
  type: 'string',
  pattern: '^(http|grpc)://',
  description: '`http://host:port` or `grpc://host:port`.',
} as const;
export const POOL_NAME = { type: 'string', pattern: MODEL_NAME_RULE, description: `A pool name; matches ${MODEL_NAME_RULE}.` } as const;
export const RULE_ID_TEXT = { type: 'string', pattern: '^[0-9]{1,10}$', description: 'A routing rule id.' } as const;

const MATCH = {
  $id: 'RouteMatch',
  type: 'object',
  additionalProperties: false,
  description: 'Every field given must match (AND); an empty match matches every version.',
  properties: {
    platform: { ...GLOB, description: "The version's platform, e.g. 'onnxruntime_onnx', 'tensorflowjs_*'." },
    algorithm: { ...GLOB, description: "The model's algorithm; a model without one never matches." },
    name: { ...GLOB, description: 'The model name.' },
    tenant: { ...GLOB, description: "The model's tenant." },
    labels: { type: 'object', additionalProperties: { type: 'string' }, description: 'Each key must be present with a value matching its glob.' },
  },
} as const;

const POOL = {
  $id: 'Pool',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'kind', 'endpoints', 'discovery', 'description', 'created_at', 'updated_at'],
  properties: {
    name: { type: 'string' },
    kind: { type: 'string', enum: [...POOL_KINDS] },
    endpoints: { type: 'array', items: { type: 'string' }, description: 'Fixed endpoints; empty when discovery is on.' },
    discovery: { type: 'boolean', description: 'Instances are the live ones registered under this pool name.' },
    description: { type: 'string' },
    created_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
  },
} as const;

const RULE = {
  $id: 'Route',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'priority', 'description', 'match', 'pool', 'created_at', 'updated_at'],
  properties: {
    id: { type: 'integer' },
    priority: { type: 'integer', description: 'Lower is tried first; equal priorities by id.' },
    description: { type: 'string' },
    match: { $ref: 'RouteMatch#' },
    pool: { type: 'string' },
    created_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
  },
} as const;

const TRAFFIC = {
  $id: 'Traffic',
  type: 'object',
  additionalProperties: false,
  required: ['model', 'live_version', 'canary_version', 'canary_weight', 'shadow_version'],
  properties: {
    model: { type: 'string' },
    live_version: nullable('integer'),
    canary_version: { ...nullable('integer'), description: 'Gets canary_weight of the requests without a version.' },
    canary_weight: { type: 'number', minimum: 0, maximum: 1 },
    shadow_version: { ...nullable('integer'), description: 'Gets a copy of each request without a version; its answer is discarded.' },
  },
} as const;

const EXPLANATION = {
  $id: 'RouteExplanation',
  type: 'object',
  additionalProperties: false,
  required: ['model', 'version', 'facts', 'route', 'pool', 'rules'],
  properties: {
    model: { type: 'string' },
    version: { type: 'integer' },
    facts: closed(
      {
        name: { type: 'string' },
        version: { type: 'integer' },
        platform: { type: 'string' },
        algorithm: nullable('string'),
        tenant: { type: 'string' },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
      },
      ['name', 'version', 'platform', 'algorithm', 'tenant', 'labels'],
    ),
    route: { anyOf: [{ $ref: 'Route#' }, { type: 'null' }], description: 'The rule that routes the version; null when none does.' },
    pool: { ...nullable('string'), description: "That rule's pool." },
    rules: {
      type: 'array',
      description: 'Every rule in the order they are tried, whether it matches and why; the first match wins.',
      items: closed({ route: { $ref: 'Route#' }, matched: { type: 'boolean' }, reasons: { type: 'array', items: { type: 'string' } } }, [
        'route',
        'matched',
        'reasons',
      ]),
    },
  },
} as const;

export function addRoutingSchemas(app: FastifyInstance): void {
  for (const schema of [MATCH, POOL, RULE, TRAFFIC, EXPLANATION]) app.addSchema(schema);
}

export const POOL_PARAMS = closed({ name: POOL_NAME }, ['name']);
export const RULE_PARAMS = closed({ id: RULE_ID_TEXT }, ['id']);
export const EXPLAIN_PARAMS = closed({ model: MODEL_NAME }, ['model']);
export const EXPLAIN_QUERY = closed({ version: { ...VERSION_TEXT, description: 'The version to explain; default: the live one.' } });

const POOL_FIELDS = {
  endpoints: { type: 'array', items: ENDPOINT, description: 'Fixed endpoints. Exactly one of endpoints (non-empty) or discovery.' },
  discovery: { type: 'boolean', description: 'Find instances in coordination under the pool name.' },
  description: { type: 'string' },
};

export const CREATE_POOL_BODY = closed({ name: POOL_NAME, kind: { type: 'string', enum: [...POOL_KINDS] }, ...POOL_FIELDS }, ['name', 'kind']);
export const UPDATE_POOL_BODY = closed(POOL_FIELDS);

const RULE_FIELDS = {
  priority: { type: 'integer', minimum: -2147483648, maximum: 2147483647, description: 'Lower is tried first.' },
  pool: POOL_NAME,
  match: { $ref: 'RouteMatch#' },
  description: { type: 'string' },
};

export const CREATE_RULE_BODY = closed(RULE_FIELDS, ['priority', 'pool']);
export const UPDATE_RULE_BODY = closed(RULE_FIELDS);

export const TRAFFIC_BODY = closed({
  canary_version: { ...nullable('integer'), minimum: 1, description: 'The canary; null clears it (and its weight).' },
  canary_weight: { type: 'number', minimum: 0, maximum: 1, description: 'Share of requests without a version the canary gets.' },
  shadow_version: { ...nullable('integer'), minimum: 1, description: 'The shadow; null clears it.' },
});
