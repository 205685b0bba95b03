/**
 * A Backend over `inference.GRPCInferenceService` (spec §C) of a Sibyl worker or a Triton server.
 *
 * Inference sends raw_input_contents (the tensors' own memory) and so gets raw_output_contents back
 * (grpc-codec in @sibyl/protocol). The call's deadline is the gRPC deadline, its traceparent travels
 * as metadata, and the caller's abort cancels the call. Errors keep the `sibyl-error-code` trailer.
 */
import { Client, credentials, Metadata, type CallOptions, type ServiceError } from '@grpc/grpc-js';
import type { MethodDefinition, ServiceDefinition } from '@grpc/proto-loader';
import {
  decodeGrpcInferResponse,
  encodeGrpcInferRequest,
  GRPC_STATUS,
  GrpcCode,
  isDatatype,
  loadInferenceDefinitions,
  modelConfigFromGrpc,
  type InferContext,
  type InferRequest,
  type InferResponse,
  type ModelConfiguration,
  type ModelIndexEntry,
  type ModelMetadata,
  type SibylError,
  type TensorMetadata,
} from '@sibyl/protocol';
import type { Backend } from './backend.js';
import { backendAddressInvalid, backendCancelled, backendResponseInvalid, backendUnreachable } from './errors.js';
import { DEFAULT_BACKEND_TIMEOUT_MS } from './http-backend.js';
import { categoryOfGrpcCode, codeOrUndefined, markNotDelivered, parseRetryAfter, rebuildAnswered } from './remote-error.js';

export interface GrpcBackendOptions {
  /** `host:port` of a v2 gRPC server. */
  address: string;
  /** Largest message sent or received, bytes. Default 64 MiB, as the servers' --max-request-bytes default. */
  maxMessageBytes?: number;
  /** Deadline of a call whose context has none (and of the calls that take no context), milliseconds. Default 30000. */
  timeoutMs?: number;
}

export const DEFAULT_GRPC_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

type InferRequestMessage = ReturnType<typeof encodeGrpcInferRequest>;
type InferResponseMessage = Parameters<typeof decodeGrpcInferResponse>[0];
type Shape = Array<string | number>;
interface TensorMessage {
  name?: string;
  datatype?: string;
  shape?: Shape;
}
interface ModelMetadataMessage {
  name?: string;
  versions?: string[];
  platform?: string;
  inputs?: TensorMessage[];
  outputs?: TensorMessage[];
}
interface IndexMessage {
  models?: Array<{ name?: string; version?: string; state?: string; reason?: string }>;
}

const MODEL_STATES: ReadonlySet<string> = new Set(['READY', 'UNAVAILABLE', 'LOADING', 'UNLOADING']);

let methods: ServiceDefinition | undefined;

/** Parsing the protos takes tens of milliseconds: once per process. */
function inferenceMethods(): ServiceDefinition {
  methods ??= loadInferenceDefinitions()['inference.GRPCInferenceService'] as ServiceDefinition;
  return methods;
}

export function createGrpcBackend(options: GrpcBackendOptions): Backend {
  const address = options.address;
  if (!/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(address)) throw backendAddressInvalid(address);
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_GRPC_MAX_MESSAGE_BYTES;
  if (!Number.isSafeInteger(maxMessageBytes) || maxMessageBytes <= 0 || maxMessageBytes > 2 ** 31 - 1) {
    throw new RangeError(`maxMessageBytes must be a positive 32-bit integer, got ${maxMessageBytes}`);
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_BACKEND_TIMEOUT_MS;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1) throw new RangeError(`timeoutMs must be a positive integer, got ${timeoutMs}`);
  const target = `grpc://${address}`;
  const definition = inferenceMethods();
  const client = new Client(address, credentials.createInsecure(), {
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.max_send_message_length': maxMessageBytes,
  });
  let inflight = 0;
  let closed = false;

  function unary<Req, Res>(rpc: string, request: Req, context?: InferContext): Promise<Res> {
    const method = definition[rpc] as unknown as MethodDefinition<Req, unknown, unknown, Res>;
    const signal = context?.signal;
    if (signal?.aborted) return Promise.reject(backendCancelled(target));
    const metadata = new Metadata();
    if (context?.traceparent !== undefined) metadata.set('traceparent', context.traceparent);
    const limit = Date.now() + timeoutMs;
    const callOptions: CallOptions = { deadline: context?.deadlineMs === undefined ? limit : Math.min(context.deadlineMs, limit) };
    inflight++;
    return new Promise<Res>((resolve, reject) => {
      let cancelled = false;
      const onAbort = () => {
        cancelled = true;
        call.cancel();
      };
      const call = client.makeUnaryRequest<Req, Res>(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        request,
        metadata,
        callOptions,
        (err, response) => {
          inflight--;
          signal?.removeEventListener('abort', onAbort);
          if (err) reject(cancelled ? backendCancelled(target) : grpcError(target, err));
          else resolve(response!);
        },
      );
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  return {
    target,
    transport: 'grpc',
    get inflight() {
      return inflight;
    },

    serverLive: async () => (await unary<object, { live?: boolean }>('ServerLive', {})).live === true,
    serverReady: async () => (await unary<object, { ready?: boolean }>('ServerReady', {})).ready === true,

    async serverMetadata() {
      const m = await unary<object, { name?: string; version?: string; extensions?: string[] }>('ServerMetadata', {});
      return { name: m.name ?? '', version: m.version ?? '', extensions: m.extensions ?? [] };
    },

    async modelMetadata(name: string, version?: string): Promise<ModelMetadata> {
      const m = await unary<object, ModelMetadataMessage>('ModelMetadata', { name, version: version ?? '' });
      return {
        name: m.name ?? '',
        versions: m.versions ?? [],
        platform: m.platform ?? '',
        inputs: (m.inputs ?? []).map((t, i) => tensorMetadata(target, t, `inputs[${i}]`)),
        outputs: (m.outputs ?? []).map((t, i) => tensorMetadata(target, t, `outputs[${i}]`)),
      };
    },

    async modelConfig(name: string, version?: string): Promise<ModelConfiguration> {
      const answer = await unary<object, { config?: unknown }>('ModelConfig', { name, version: version ?? '' });
      try {
        return modelConfigFromGrpc(answer.config ?? {});
      } catch (err) {
        throw backendResponseInvalid(target, (err as Error).message);
      }
    },

    modelReady: async (name: string, version?: string) =>
      (await unary<object, { ready?: boolean }>('ModelReady', { name, version: version ?? '' })).ready === true,

    async infer(request: InferRequest, context?: InferContext): Promise<InferResponse> {
      const message = encodeGrpcInferRequest(request, { raw: true });
      const answer = await unary<InferRequestMessage, InferResponseMessage>('ModelInfer', message, context);
      try {
        return decodeGrpcInferResponse(answer);
      } catch (err) {
        throw backendResponseInvalid(target, (err as Error).message);
      }
    },

    async repositoryIndex(): Promise<ModelIndexEntry[]> {
      const m = await unary<object, IndexMessage>('RepositoryIndex', { repository_name: '', ready: false });
      return (m.models ?? []).map((e) => {
        const state = e.state !== undefined && MODEL_STATES.has(e.state) ? (e.state as ModelIndexEntry['state']) : 'UNAVAILABLE';
        const entry: ModelIndexEntry = { name: e.name ?? '', state, reason: e.reason ?? '' };
        if (e.version) entry.version = e.version;
        return entry;
      });
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      client.close();
    },
  };
}

/**
 * grpc-js reports a call that never left this process as UNAVAILABLE with these details: no
 * connection to pick (`No connection established. Last error: ...`, from its load balancers) or a
 * stream the server refused before reading it (HTTP/2 REFUSED_STREAM). Nothing else is taken as undelivered.
 */
const UNDELIVERED_DETAILS = /^(?:[a-z_]+: )?No connection established|^Stream refused by server$/;

function grpcError(target: string, err: ServiceError): SibylError {
  const trailer = (key: string) => {
    const value = err.metadata?.get(key)[0];
    return typeof value === 'string' ? value : undefined;
  };
  const code = codeOrUndefined(trailer('sibyl-error-code'));
  const details = err.details ?? err.message;
  if (code === undefined && err.code === GrpcCode.UNAVAILABLE && UNDELIVERED_DETAILS.test(details)) {
    return markNotDelivered(backendUnreachable(target, details));
  }
  return rebuildAnswered({
    category: categoryOfGrpcCode(err.code),
    code,
    message: details,
    retryAfterSeconds: parseRetryAfter(trailer('retry-after')),
    statusOf: (category) => GRPC_STATUS[category] === err.code,
  });
}

function tensorMetadata(target: string, t: TensorMessage, where: string): TensorMetadata {
  const shape = (t.shape ?? []).map(Number);
  if (t.name === undefined || !isDatatype(t.datatype) || !shape.every(Number.isSafeInteger)) {
    throw backendResponseInvalid(target, `${where} is not a tensor description (name, v2 datatype, integer shape)`);
  }
  return { name: t.name, datatype: t.datatype, shape };
}
