/**
 * JSON schemas of the management API: fastify validates requests with them (every object closed with
 * `additionalProperties: false`, so an unknown field is a 400 that names it) and serializes
 * responses with them, and @fastify/swagger publishes them at /docs/json. Shared shapes are added
 * once by `$id` (`addSharedSchemas`) and referenced as `Model#`, `Version#`, ...
 *
 * Path and query values are strings with a pattern: the validator never coerces types, so a JSON
 * body's `"version": "1"` is refused rather than guessed at.
 */
import type { FastifyInstance } from 'fastify';
import { DATATYPES, MODEL_NAME_RULE } from '@sibyl/protocol';
import { VERSION_STATES } from '@sibyl/registry';

const nullable = (type: string) => ({ type: [type, 'null'] });

export const MODEL_NAME = { type: 'string', pattern: MODEL_NAME_RULE, description: `Matches ${MODEL_NAME_RULE}.` } as const;
export const SHA256_HEX = { type: 'string', pattern: '^[0-9a-fA-F]{64}$', description: '64 hexadecimal digits.' } as const;
/** A version number in a path or query string. */
export const VERSION_TEXT = { type: 'string', pattern: '^[0-9]{1,10}$', description: 'A version number.' } as const;

const LABELS = {
  type: 'object',
  additionalProperties: { type: 'string' },
  description: 'Free-form key/value labels (at most 64); a PATCH replaces them as a whole.',
} as const;

const TENSOR = {
  $id: 'Tensor',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'datatype', 'shape'],
  properties: {
    name: { type: 'string' },
    datatype: { type: 'string', enum: [...DATATYPES] },
    shape: { type: 'array', items: { type: 'integer' }, description: '-1 marks a variable dimension.' },
  },
} as const;

const SIGNATURE = {
  $id: 'Signature',
  type: 'object',
  additionalProperties: false,
  required: ['platform', 'inputs', 'outputs'],
  properties: {
    platform: { type: 'string', description: "Triton platform string, e.g. 'onnxruntime_onnx'." },
    inputs: { type: 'array', items: { $ref: 'Tensor#' } },
    outputs: { type: 'array', items: { $ref: 'Tensor#' } },
    max_batch_size: { type: 'integer', description: '0 when the model does not batch.' },
  },
} as const;

const MODEL = {
  $id: 'Model',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'tenant', 'platform', 'algorithm', 'description', 'labels', 'live_version', 'previous_version', 'created_at', 'updated_at'],
  properties: {
    name: { type: 'string' },
    tenant: { type: 'string' },
    platform: nullable('string'),
    algorithm: nullable('string'),
    description: { type: 'string' },
    labels: LABELS,
    live_version: { ...nullable('integer'), description: 'The version requests without a version reach.' },
    previous_version: { ...nullable('integer'), description: 'Where a rollback goes.' },
    created_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
  },
} as const;

const VERSION = {
  $id: 'Version',
  type: 'object',
  additionalProperties: false,
  required: ['model', 'version', 'sha256', 'size', 'filename', 'format', 'state', 'state_reason', 'signature', 'config', 'created_by', 'created_at'],
  properties: {
    model: { type: 'string' },
    version: { type: 'integer' },
    sha256: { type: 'string' },
    size: { type: 'integer', description: 'Bytes, as uploaded.' },
    filename: { type: 'string' },
    format: { type: 'string', enum: ['onnx-file', 'tar.gz'] },
    state: { type: 'string', enum: [...VERSION_STATES] },
    state_reason: { type: 'string' },
    signature: { $ref: 'Signature#' },
    config: { ...nullable('object'), additionalProperties: true, description: 'The model config given with the version, if any.' },
    created_by: { type: 'string' },
    created_at: { type: 'string', format: 'date-time' },
  },
} as const;

const RELEASE = {
  $id: 'Release',
  type: 'object',
  additionalProperties: false,
  required: ['model', 'live_version', 'previous_version'],
  properties: {
    model: { type: 'string' },
    live_version: nullable('integer'),
    previous_version: nullable('integer'),
  },
} as const;

const EVENT = {
  $id: 'Event',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'at', 'actor', 'action', 'model', 'from', 'to', 'detail'],
  properties: {
    id: { type: 'integer' },
    at: { type: 'string', format: 'date-time' },
    actor: { type: 'string' },
    action: { type: 'string' },
    model: { type: 'string' },
    from: nullable('string'),
    to: nullable('string'),
    detail: { type: 'object', additionalProperties: true },
  },
} as const;

const ERROR = {
  $id: 'Error',
  type: 'object',
  additionalProperties: false,
  required: ['error'],
  properties: {
    error: { type: 'string', description: 'What was wrong, naming the field, model or version.' },
    code: { type: 'string', description: 'Stable SIBYL_* code (docs/api.md#errors).' },
  },
} as const;

const REPOSITORY_ENTRY = {
  $id: 'RepositoryIndexEntry',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'state', 'reason'],
  properties: {
    name: { type: 'string' },
    version: { type: 'string' },
    state: { type: 'string', description: 'READY, LOADING, UNAVAILABLE, UNLOADING or UNKNOWN.' },
    reason: { type: 'string' },
  },
} as const;

export function addSharedSchemas(app: FastifyInstance): void {
  for (const schema of [TENSOR, SIGNATURE, MODEL, VERSION, RELEASE, EVENT, ERROR, REPOSITORY_ENTRY]) app.addSchema(schema);
}

export const ref = (id: string) => ({ $ref: `${id}#` });

/** Error answers every route may give, for the document. */
export const ERROR_RESPONSES = {
  '4xx': { description: 'Refused: the message names the field, model or version; the code is stable.', ...ref('Error') },
  '5xx': { description: 'The server or a system behind it failed, or is not available.', ...ref('Error') },
} as const;

export const closed = (properties: Record<string, unknown>, required: readonly string[] = []) => ({
  type: 'object',
  additionalProperties: false,
  properties,
  ...(required.length > 0 ? { required: [...required] } : {}),
});

/** An optional JSON body: absent (validated as null) or this object. */
export const optionalBody = (properties: Record<string, unknown>) => ({
  ...closed(properties),
  type: ['object', 'null'],
});

export const NAME_PARAMS = closed({ name: MODEL_NAME }, ['name']);
export const VERSION_PARAMS = closed({ name: MODEL_NAME, version: VERSION_TEXT }, ['name', 'version']);

export const CREATE_MODEL_BODY = closed(
  {
    name: MODEL_NAME,
    description: { type: 'string' },
    labels: LABELS,
    platform: { type: 'string', description: "Framework or runtime, e.g. 'onnxruntime_onnx'." },
    algorithm: { type: 'string' },
    tenant: { type: 'string', description: "Owning tenant; default 'default'." },
  },
  ['name'],
);

export const UPDATE_MODEL_BODY = closed({ description: { type: 'string' }, labels: LABELS });

export const UPLOAD_QUERY = closed(
  {
    filename: {
      type: 'string',
      minLength: 1,
      description: "The file's name: '*.tar.gz' or '*.tgz' is a directory model, anything else one model file.",
    },
    sha256: { ...SHA256_HEX, description: 'The sha256 the bytes must have; the upload is refused when they differ.' },
  },
  ['filename'],
);

export const DEPLOY_BODY = closed({ version: { type: 'integer', minimum: 1, description: 'The version to make live.' } }, ['version']);

export const EVENTS_QUERY = closed({
  limit: { type: 'string', pattern: '^[0-9]{1,4}$', description: 'Most events returned, newest first (1 to 1000; default 100).' },
  before: { type: 'string', pattern: '^[0-9]{1,18}$', description: 'Only events with a smaller id: the last id of a page gives the next.' },
});
