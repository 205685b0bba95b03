/**
 * A Backend over the v2 REST API (spec §A) of a Sibyl worker or a Triton server.
 *
 * Inference always uses the binary tensor data extension both ways (rest-client-codec in
 * @sibyl/protocol): the JSON header and each tensor's bytes are written to the socket one after
 * another (joined only below 64 KiB), and the answer's binary outputs decode as views of its body.
 * Connections are kept alive in one undici Pool per backend.
 *
 * `forwardRestInfer` is the gateway's pass-through: a client's REST body sent on as it came (JSON or
 * binary), and the worker's answer relayed as it came, with neither decoded here.
 */
import {
  decodeRestInferResponse,
  encodeRestInferRequest,
  HTTP_STATUS,
  isDatatype,
  type InferContext,
  type InferRequest,
  type InferResponse,
  type ModelConfiguration,
  type ModelIndexEntry,
  type ModelMetadata,
  type RestInferAnswer,
  type RestInferBody,
  type ServerMetadata,
  type SibylError,
  type TensorMetadata,
} from '@sibyl/protocol';
import type { Pool } from 'undici';
import { createRequire } from 'node:module';
import type { Backend } from './backend.js';
import { backendAddressInvalid, backendResponseInvalid } from './errors.js';
import { exchange, type HttpAnswer } from './http-exchange.js';
import { categoryOfHttpStatus, codeOrUndefined, parseRetryAfter, rebuildAnswered } from './remote-error.js';

export interface HttpBackendOptions {
  /** `http://host:port` of a v2 REST server. */
  url: string;
  /** Most connections open to this backend at once; more requests wait for one. Default 64. */
  maxSockets?: number;
  /**
   * Longest wait for an answer, milliseconds, when the call's context has no earlier deadline (and for
   * the calls that take no context). Default 30000.
   */
  timeoutMs?: number;
}

export const DEFAULT_HTTP_MAX_SOCKETS = 64;
export const DEFAULT_BACKEND_TIMEOUT_MS = 30_000;

// undici is loaded with the first remote backend: a process serving only its own models never
// holds it in memory.
const require = createRequire(import.meta.url);
let PoolClass: typeof Pool | undefined;

const MODEL_STATES: ReadonlySet<string> = new Set(['READY', 'UNAVAILABLE', 'LOADING', 'UNLOADING']);

export function createHttpBackend(options: HttpBackendOptions): Backend {
  const url = parseHttpUrl(options.url);
  const maxSockets = positive('maxSockets', options.maxSockets, DEFAULT_HTTP_MAX_SOCKETS);
  const timeoutMs = positive('timeoutMs', options.timeoutMs, DEFAULT_BACKEND_TIMEOUT_MS);
  const target = `http://${url.host}`;
  PoolClass ??= (require('undici') as typeof import('undici')).Pool;
  const pool = new PoolClass(target, { connections: maxSockets, pipelining: 1 });
  let inflight = 0;
  let closed = false;

  async function call(
    method: 'GET' | 'POST',
    path: string,
    headers: Record<string, string>,
    chunks: readonly Buffer[] | undefined,
    context: InferContext | undefined,
  ): Promise<HttpAnswer> {
    const limit = Date.now() + timeoutMs;
    const deadlineMs = context?.deadlineMs === undefined ? limit : Math.min(context.deadlineMs, limit);
    inflight++;
    try {
      return await exchange({ target, pool, method, path, headers, chunks, deadlineMs, context });
    } finally {
      inflight--;
    }
  }

  const get = (path: string) => call('GET', path, {}, undefined, undefined);

  /** A JSON answer of a control endpoint: its parsed body on 200, else the error it carries. */
  async function getJson(path: string): Promise<Record<string, unknown>> {
    const answer = await get(path);
    if (answer.status !== 200) throw answeredError(answer);
    return jsonObject(target, answer.body);
  }

  /** Health and readiness: 200 true, 400 without an error body false (Triton and Sibyl alike). */
  async function flag(path: string): Promise<boolean> {
    const answer = await get(path);
    if (answer.status === 200) return true;
    if (answer.status === 400 && errorText(answer.body) === undefined) return false;
    throw answeredError(answer);
  }

  return {
    target,
    transport: 'http',
    get inflight() {
      return inflight;
    },

    serverLive: () => flag('/v2/health/live'),
    serverReady: () => flag('/v2/health/ready'),

    async serverMetadata(): Promise<ServerMetadata> {
      const body = await getJson('/v2');
      const extensions = Array.isArray(body['extensions']) ? body['extensions'].filter((e): e is string => typeof e === 'string') : [];
      return { name: stringField(target, body, 'name'), version: stringField(target, body, 'version'), extensions };
    },

    async modelMetadata(name: string, version?: string): Promise<ModelMetadata> {
      const body = await getJson(modelPath(name, version));
      return {
        name: stringField(target, body, 'name'),
        versions: Array.isArray(body['versions']) ? body['versions'].map(String) : [],
        platform: typeof body['platform'] === 'string' ? body['platform'] : '',
        inputs: tensorList(target, body['inputs'], 'inputs'),
        outputs: tensorList(target, body['outputs'], 'outputs'),
      };
    },

    modelReady: (name: string, version?: string) => flag(`${modelPath(name, version)}/ready`),

    async modelConfig(name: string, version?: string): Promise<ModelConfiguration> {
      // Passed on as the backend wrote it (Triton's fields are Triton's), once it names a model.
      const body = await getJson(`${modelPath(name, version)}/config`);
      stringField(target, body, 'name');
      return body as unknown as ModelConfiguration;
    },

    async infer(request: InferRequest, context?: InferContext): Promise<InferResponse> {
      const body = encodeRestInferRequest(request);
      const headers: Record<string, string> = {
        'content-type': 'application/octet-stream',
        'content-length': String(body.byteLength),
        'inference-header-content-length': String(body.headerLength),
      };
      const answer = await call('POST', `${modelPath(request.modelName, request.modelVersion)}/infer`, headers, body.chunks, context);
      if (answer.status !== 200) throw answeredError(answer);
      const header = answer.headers['inference-header-content-length'];
      try {
        return withoutHopParameters(decodeRestInferResponse(answer.body, header === undefined ? undefined : Number(header)), request);
      } catch (err) {
        throw backendResponseInvalid(target, (err as Error).message);
      }
    },

    // The gateway's pass-through (InferenceService.forwardRestInfer): the client's body as it came,
    // its answer as it comes; an error answer is rebuilt as infer() rebuilds it.
    async forwardRestInfer(request: RestInferBody, context?: InferContext): Promise<RestInferAnswer> {
      const headers: Record<string, string> = {
        'content-type': request.contentType ?? (request.headerLength === undefined ? 'application/json' : 'application/octet-stream'),
        'content-length': String(request.body.byteLength),
      };
      if (request.headerLength !== undefined) headers['inference-header-content-length'] = request.headerLength;
      const answer = await call('POST', `${modelPath(request.modelName, request.modelVersion)}/infer`, headers, [request.body], context);
      if (answer.status !== 200) throw answeredError(answer);
      const contentType = answer.headers['content-type'];
      const headerLength = answer.headers['inference-header-content-length'];
      return {
        contentType: typeof contentType === 'string' ? contentType : 'application/json',
        ...(typeof headerLength === 'string' ? { headerLength } : {}),
        body: answer.body,
      };
    },

    async repositoryIndex(): Promise<ModelIndexEntry[]> {
      const answer = await call('POST', '/v2/repository/index', { 'content-type': 'application/json', 'content-length': '2' }, [EMPTY_OBJECT], undefined);
      if (answer.status !== 200) throw answeredError(answer);
      const entries = parseJsonBody(target, answer.body);
      if (!Array.isArray(entries)) throw backendResponseInvalid(target, 'the repository index is not a JSON array');
      return entries.map((entry: unknown) => indexEntry(target, entry));
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await pool.destroy();
    },
  };
}

const EMPTY_OBJECT = Buffer.from('{}');

function modelPath(name: string, version: string | undefined): string {
  const base = `/v2/models/${encodeURIComponent(name)}`;
  return version === undefined || version === '' ? base : `${base}/versions/${encodeURIComponent(version)}`;
}

/**
 * An error answer: `{"error": "...", "code": "SIBYL_..."}` from Sibyl, `{"error": "..."}` from Triton
 * and KServe (spec §A.10); anything else keeps its status and a message saying what came.
 */
function answeredError(answer: HttpAnswer): SibylError {
  const status = answer.status;
  let message = errorText(answer.body);
  let code: string | undefined;
  if (message !== undefined) code = codeOrUndefined((safeParse(answer.body) as { code?: unknown }).code);
  message ??= `HTTP ${status}${answer.body.length > 0 ? `: ${answer.body.toString('utf8', 0, Math.min(answer.body.length, 200))}` : ''}`;
  const retryAfter = answer.headers['retry-after'];
  return rebuildAnswered({
    category: categoryOfHttpStatus(status),
    code,
    message,
    retryAfterSeconds: parseRetryAfter(typeof retryAfter === 'string' ? retryAfter : undefined),
    statusOf: (category) => HTTP_STATUS[category] === status,
  });
}

/** The `error` string of a v2 error body, if the body is one. */
function errorText(body: Buffer): string | undefined {
  if (body.length === 0) return undefined;
  const parsed = safeParse(body) as { error?: unknown } | undefined;
  return typeof parsed?.error === 'string' ? parsed.error : undefined;
}

function safeParse(body: Buffer): unknown {
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    return typeof value === 'object' && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}

function parseJsonBody(target: string, body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw backendResponseInvalid(target, `malformed JSON: ${(err as Error).message}`);
  }
}

function jsonObject(target: string, body: Buffer): Record<string, unknown> {
  const value = parseJsonBody(target, body);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw backendResponseInvalid(target, 'the body is not a JSON object');
  return value as Record<string, unknown>;
}

function stringField(target: string, object: Record<string, unknown>, key: string): string {
  const value = object[key];
  if (typeof value !== 'string') throw backendResponseInvalid(target, `'${key}' is not a string`);
  return value;
}

function tensorList(target: string, value: unknown, field: string): TensorMetadata[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw backendResponseInvalid(target, `'${field}' is not an array`);
  return value.map((item: unknown, i) => {
    const t = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    const shape = t['shape'];
    if (typeof t['name'] !== 'string' || !isDatatype(t['datatype']) || !Array.isArray(shape) || !shape.every(Number.isSafeInteger)) {
      throw backendResponseInvalid(target, `${field}[${i}] is not a tensor description (name, v2 datatype, integer shape)`);
    }
    return { name: t['name'], datatype: t['datatype'], shape: shape as number[] };
  });
}

function indexEntry(target: string, value: unknown): ModelIndexEntry {
  const e = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  if (typeof e['name'] !== 'string') throw backendResponseInvalid(target, 'a repository index entry has no name');
  // Triton lists a model it never loaded with its name alone.
  const state = typeof e['state'] === 'string' && MODEL_STATES.has(e['state']) ? (e['state'] as ModelIndexEntry['state']) : 'UNAVAILABLE';
  const entry: ModelIndexEntry = { name: e['name'], state, reason: typeof e['reason'] === 'string' ? e['reason'] : '' };
  if (typeof e['version'] === 'string' && e['version'] !== '') entry.version = e['version'];
  return entry;
}

function parseHttpUrl(text: string): { hostname: string; port: number; host: string } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw backendAddressInvalid(text);
  }
  if (url.protocol !== 'http:' || url.port === '' || (url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.username !== '') {
    throw backendAddressInvalid(text);
  }
  // URL keeps IPv6 literals bracketed; the socket wants them bare.
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { hostname, port: Number(url.port), host: url.host };
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${String(value)}`);
  return value;
}

/**
 * The response as the caller's request asked for it: this hop asks for binary outputs with the
 * request parameter `binary_data_output`, which a v2 server echoes back among the response's
 * parameters; the caller did not send it, so it must not see it.
 */
function withoutHopParameters(response: InferResponse, request: InferRequest): InferResponse {
  const parameters = response.parameters;
  if (parameters === undefined || !('binary_data_output' in parameters) || request.parameters?.['binary_data_output'] !== undefined) return response;
  const { binary_data_output: _hop, ...rest } = parameters;
  if (Object.keys(rest).length === 0) delete response.parameters;
  else response.parameters = rest;
  return response;
}
