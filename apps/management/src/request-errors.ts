/**
 * How the management API answers a failure: `{"error": "<message>", "code": "SIBYL_..."}` with the
 * HTTP status of the error's category, as the inference edge does (apps/gateway/src/rest-errors.ts).
 * Schema violations become coded errors that name the field; fastify's own request errors become
 * coded 4xx errors; anything else is INTERNAL once, here, and logged.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifySchemaValidationError } from 'fastify';
import type { Logger } from '@sibyl/observability';
import { isSibylError, MODEL_NAME_RULE, toSibylError, type SibylError } from '@sibyl/protocol';
import {
  bodyTooLarge,
  contentTypeUnsupported,
  fieldInvalid,
  fieldUnknown,
  httpRequestInvalid,
  modelNameInvalid,
  routeNotFound,
} from './errors.js';

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

const WHERE: Readonly<Record<string, string>> = { body: 'body', querystring: 'query string', params: 'path', headers: 'header' };

/** Installs the error and not-found handlers on `app`. */
export function registerErrorHandling(app: FastifyInstance, logger: Logger): void {
  app.setSchemaErrorFormatter((errors, dataVar) => schemaError(errors, dataVar));
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const err = edgeError(error, request);
    if (err.category === 'INTERNAL') {
      logger.error({ reqId: request.id, method: request.method, url: request.url, err: error }, 'management request failed');
    }
    return sendError(reply, err);
  });
  app.setNotFoundHandler((request, reply) => sendError(reply, routeNotFound(request.method, request.url.split('?')[0] ?? '')));
}

export function sendError(reply: FastifyReply, err: SibylError): FastifyReply {
  return reply
    .code(err.httpStatus)
    .header('content-type', JSON_CONTENT_TYPE)
    .send(JSON.stringify({ error: err.message, code: err.code }));
}

function edgeError(error: unknown, request: FastifyRequest): SibylError {
  if (isSibylError(error)) return error;
  const fastifyError = error as Partial<FastifyError> | null;
  const status = fastifyError?.statusCode;
  if (status === 413) return bodyTooLarge(request.routeOptions.bodyLimit ?? 0);
  if (status === 415) {
    return contentTypeUnsupported(String(request.headers['content-type'] ?? ''), 'send application/json');
  }
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return httpRequestInvalid(error instanceof Error ? error.message : String(error));
  }
  return toSibylError(error);
}

/** `/labels/team` as `labels.team`; `/inputs/0` as `inputs[0]`. */
function fieldPath(instancePath: string, last?: string): string {
  const parts = instancePath.split('/').slice(1);
  if (last !== undefined) parts.push(last);
  return parts.reduce((out, part) => (/^[0-9]+$/.test(part) ? `${out}[${part}]` : out === '' ? part : `${out}.${part}`), '');
}

function show(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * The first schema violation (the validator stops at the first) as a coded error. The validator runs
 * in verbose mode, so each error carries the offending value and its schema.
 */
function schemaError(errors: FastifySchemaValidationError[], dataVar: string): SibylError {
  const where = WHERE[dataVar] ?? dataVar;
  const first = errors[0] as (FastifySchemaValidationError & { data?: unknown; parentSchema?: { properties?: object } }) | undefined;
  if (first === undefined) return fieldInvalid(where, 'is invalid');
  const params = first.params as Record<string, unknown>;
  const field = fieldPath(first.instancePath);
  switch (first.keyword) {
    case 'additionalProperties': {
      const known = Object.keys(first.parentSchema?.properties ?? {});
      return fieldUnknown(where, fieldPath(first.instancePath, String(params['additionalProperty'])), known);
    }
    case 'required':
      return fieldInvalid(where, `is missing the required field '${fieldPath(first.instancePath, String(params['missingProperty']))}'`);
    case 'pattern':
      if (params['pattern'] === MODEL_NAME_RULE) return modelNameInvalid(first.data);
      return fieldInvalid(where, `field '${field}' must match ${String(params['pattern'])}, got ${show(first.data)}`);
    case 'type':
      if (field === '') return fieldInvalid(where, `must be a JSON ${String(params['type']).replace(',null', '')}, got ${show(first.data)}`);
      return fieldInvalid(where, `field '${field}' must be ${article(String(params['type']))}, got ${show(first.data)}`);
    default:
      return fieldInvalid(where, `${field === '' ? '' : `field '${field}' `}${first.message ?? 'is invalid'}, got ${show(first.data)}`);
  }
}

function article(type: string): string {
  return type
    .split(',')
    .map((t) => (t === 'null' ? 'null' : /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`))
    .join(' or ');
}
