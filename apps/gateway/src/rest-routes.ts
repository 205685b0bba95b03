/**
 * The Open Inference Protocol REST endpoints (protocols.md §A.1) and Triton's repository index
 * (§D.2), each a thin adapter: check the path, call the InferenceService, encode its answer.
 *
 * Health and readiness answer 200 when true and 400 when false, as Triton does: the status code is
 * the signal; the JSON body repeats it for people reading with curl.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SibylMetrics } from '@sibyl/observability';
import {
  decodeRestInferRequest,
  isRawRequest,
  encodeRestInferResponse,
  modelConfigUnsupported,
  rawInputOf,
  type InferenceService,
  type ModelIndexEntry,
  type RestInferBody,
  type TensorMetadata,
} from '@sibyl/protocol';
import { repositoryIndexBodyInvalid } from './errors.js';
import { checkModelName, checkModelVersion } from './model-ref.js';
import { restInferContext } from './rest-context.js';
import { methodNotAllowed } from './rest-errors.js';
import { edgeHandler, type RouteHandler } from './rest-handler.js';
import { edgeExtensions } from './server-extensions.js';
import { modelStatisticsResponse } from './statistics-json.js';

interface ModelParams {
  name: string;
  version?: string;
}
type ModelRequest = FastifyRequest<{ Params: ModelParams }>;

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;
const MODEL = '/v2/models/:name';
const VERSIONED = '/v2/models/:name/versions/:version';
const EMPTY_BODY = Buffer.alloc(0);
/** Binary responses from this size up are streamed chunk by chunk instead of joined. */
const STREAM_FROM_BYTES = 64 * 1024;

export function registerRestRoutes(app: FastifyInstance, service: InferenceService, metrics: SibylMetrics | undefined): void {
  const extensions = edgeExtensions(service);
  const route = <R extends FastifyRequest>(method: 'GET' | 'POST', urls: string[], handler: RouteHandler<R>) => {
    const wrapped = edgeHandler(handler, metrics) as RouteHandler<FastifyRequest>;
    // HEAD is served wherever GET is (fastify answers it from the GET handler).
    const allowed = method === 'GET' ? ['GET', 'HEAD'] : [method];
    const others = METHODS.filter((m) => !allowed.includes(m));
    for (const url of urls) {
      app.route({ method, url, handler: wrapped });
      app.route({ method: others, url, handler: methodNotAllowed(allowed) });
    }
  };

  route('GET', ['/v2/health/live'], async (_request: FastifyRequest, reply: FastifyReply) => {
    const live = await service.serverLive();
    return reply.code(live ? 200 : 400).send({ live });
  });

  route('GET', ['/v2/health/ready'], async (_request: FastifyRequest, reply: FastifyReply) => {
    const ready = await service.serverReady();
    return reply.code(ready ? 200 : 400).send({ ready });
  });

  route('GET', ['/v2'], async (_request: FastifyRequest, reply: FastifyReply) => {
    const metadata = await service.serverMetadata();
    // Extensions are what this edge serves, whatever the service behind it would offer.
    return reply.send({ name: metadata.name, version: metadata.version, extensions, ...(metadata.runtimes === undefined ? {} : { runtimes: metadata.runtimes }) });
  });

  route('GET', [MODEL, VERSIONED], async (request: ModelRequest, reply: FastifyReply) => {
    const name = checkModelName(request.params.name);
    const metadata = await service.modelMetadata(name, checkModelVersion(request.params.version));
    return reply.send({
      name: metadata.name,
      versions: metadata.versions,
      platform: metadata.platform,
      inputs: metadata.inputs.map(tensorMetadataJson),
      outputs: metadata.outputs.map(tensorMetadataJson),
    });
  });

  // Triton's statistics extension. `/v2/models/stats` is every model's, as in Triton: its exact path
  // wins over the metadata of a model named `stats`.
  route('GET', ['/v2/models/stats'], async (_request: FastifyRequest, reply: FastifyReply) =>
    reply.send(await modelStatisticsResponse(service, undefined, undefined)),
  );

  route('GET', [`${MODEL}/stats`, `${VERSIONED}/stats`], async (request: ModelRequest, reply: FastifyReply) => {
    const name = checkModelName(request.params.name);
    return reply.send(await modelStatisticsResponse(service, name, checkModelVersion(request.params.version)));
  });

  // Triton's model configuration extension (protocols.md §D.4).
  route('GET', [`${MODEL}/config`, `${VERSIONED}/config`], async (request: ModelRequest, reply: FastifyReply) => {
    const name = checkModelName(request.params.name);
    const version = checkModelVersion(request.params.version);
    if (service.modelConfig === undefined) throw modelConfigUnsupported(name);
    return reply.send(await service.modelConfig(name, version));
  });

  route('GET', [`${MODEL}/ready`, `${VERSIONED}/ready`], async (request: ModelRequest, reply: FastifyReply) => {
    const name = checkModelName(request.params.name);
    const ready = await service.modelReady(name, checkModelVersion(request.params.version));
    return reply.code(ready ? 200 : 400).send({ name, ready });
  });

  route('POST', [`${MODEL}/infer`, `${VERSIONED}/infer`], async (request: ModelRequest, reply: FastifyReply) => {
    const modelName = checkModelName(request.params.name);
    const modelVersion = checkModelVersion(request.params.version);
    const body = (request.body as Buffer | undefined) ?? EMPTY_BODY;
    const header = request.headers['inference-header-content-length'];
    const headerLength = typeof header === 'string' ? header : undefined;
    const context = restInferContext(request);
    if (service.forwardRestInfer !== undefined) {
      // Sent on undecoded when the service can (a gateway whose backend is a Sibyl worker): the
      // worker decodes and validates exactly as this code would, and its answer is relayed as it is.
      const contentType = request.headers['content-type'];
      const forward: RestInferBody = { modelName, modelVersion, body, contentType, headerLength };
      const answer = await service.forwardRestInfer(forward, context);
      if (answer !== undefined) {
        reply.header('content-type', answer.contentType);
        if (answer.headerLength !== undefined) reply.header('inference-header-content-length', answer.headerLength);
        return reply.send(answer.body);
      }
    }
    // A raw request (header 0) carries only bytes; the model's metadata says what tensor they are.
    const rawInput = isRawRequest(headerLength) ? rawInputOf(await service.modelMetadata(modelName, modelVersion)) : undefined;
    const inferRequest = decodeRestInferRequest(body, { modelName, modelVersion, headerLength, rawInput });
    const response = await service.infer(inferRequest, context);
    const encoded = encodeRestInferResponse(response, inferRequest);
    reply.header('content-type', encoded.contentType);
    if (encoded.headerLength !== undefined) reply.header('inference-header-content-length', encoded.headerLength);
    if (encoded.chunks.length === 1) return reply.send(encoded.chunks[0]);
    // Small bodies are joined: a copy of a few KiB costs less than a stream per response (measured:
    // iris over the binary extension took ~95 us of server CPU per request streamed, ~40 joined).
    // Large ones go to the socket as they are, after the JSON header, so a 16 MiB output is not
    // copied into one body buffer first.
    if (encoded.byteLength < STREAM_FROM_BYTES) {
      return reply.send(Buffer.concat(encoded.chunks as Buffer[], encoded.byteLength));
    }
    reply.header('content-length', encoded.byteLength);
    return reply.send(Readable.from(encoded.chunks, { objectMode: false }));
  });

  route('POST', ['/v2/repository/index'], async (request: FastifyRequest, reply: FastifyReply) => {
    const readyOnly = parseIndexRequest(request.body as Buffer | undefined);
    const entries = await service.repositoryIndex();
    return reply.send(entries.filter((e) => !readyOnly || e.state === 'READY').map(indexEntryJson));
  });
}

function tensorMetadataJson(t: TensorMetadata) {
  return { name: t.name, datatype: t.datatype, shape: t.shape };
}

function indexEntryJson(e: ModelIndexEntry) {
  return e.version === undefined
    ? { name: e.name, state: e.state, reason: e.reason }
    : { name: e.name, version: e.version, state: e.state, reason: e.reason };
}

/** Triton's body: empty, or `{"ready": bool}` (default false: every model). */
function parseIndexRequest(body: Buffer | undefined): boolean {
  if (body === undefined) return false;
  const text = body.toString('utf8').trim();
  if (text === '') return false;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw repositoryIndexBodyInvalid(`body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw repositoryIndexBodyInvalid('body must be a JSON object');
  }
  const ready = (parsed as { ready?: unknown }).ready;
  if (ready === undefined) return false;
  if (typeof ready !== 'boolean') throw repositoryIndexBodyInvalid(`'ready' must be a boolean, got ${JSON.stringify(ready)}`);
  return ready;
}
