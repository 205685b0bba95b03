/**
 * A promisified client of inference.GRPCInferenceService, built from protos/ with the shared loader
 * options (keepCase, longs as strings, bytes as Buffer). Messages are plain objects in the proto's
 * field names, so the tests write exactly what goes on the wire.
 */
import * as grpc from '@grpc/grpc-js';
import { loadInferenceDefinitions } from '@sibyl/protocol';

/** A message as proto-loader gives it: field names as in the proto, int64 as decimal strings. */
export type Message = Record<string, any>;

type UnaryMethod = (
  request: Message,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (err: grpc.ServiceError | null, response: Message) => void,
) => grpc.ClientUnaryCall;

interface RawClient extends grpc.Client {
  [method: string]: unknown;
}

export interface CallOptions {
  /** Milliseconds from now. */
  timeoutMs?: number;
  metadata?: Record<string, string>;
}

export interface StreamExchange {
  /** Every response, in the order received. */
  responses: Message[];
  /** The status the stream ended with. */
  status: grpc.StatusObject;
}

export interface InferenceClient {
  serverLive(): Promise<Message>;
  serverReady(): Promise<Message>;
  modelReady(name: string, version?: string): Promise<Message>;
  serverMetadata(): Promise<Message>;
  modelMetadata(name: string, version?: string): Promise<Message>;
  modelInfer(request: Message, options?: CallOptions): Promise<Message>;
  repositoryIndex(request?: Message): Promise<Message>;
  modelConfig(name: string, version?: string): Promise<Message>;
  /** Writes every request on one ModelStreamInfer stream, half-closes, collects responses until the end. */
  streamInfer(requests: readonly Message[]): Promise<StreamExchange>;
  close(): void;
}

let serviceCtor: grpc.ServiceClientConstructor | undefined;

function clientConstructor(): grpc.ServiceClientConstructor {
  if (serviceCtor === undefined) {
    const loaded = grpc.loadPackageDefinition(loadInferenceDefinitions()) as unknown as {
      inference: { GRPCInferenceService: grpc.ServiceClientConstructor };
    };
    serviceCtor = loaded.inference.GRPCInferenceService;
  }
  return serviceCtor;
}

export function createInferenceClient(address: string, channelOptions: grpc.ChannelOptions = {}): InferenceClient {
  const Ctor = clientConstructor();
  const client = new Ctor(address, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': 256 * 1024 * 1024,
    'grpc.max_send_message_length': 256 * 1024 * 1024,
    ...channelOptions,
  }) as unknown as RawClient;

  const unary = (method: string, request: Message, options: CallOptions = {}): Promise<Message> =>
    new Promise((resolve, reject) => {
      const metadata = new grpc.Metadata();
      for (const [k, v] of Object.entries(options.metadata ?? {})) metadata.set(k, v);
      const callOptions: grpc.CallOptions = options.timeoutMs === undefined ? {} : { deadline: Date.now() + options.timeoutMs };
      (client[method] as UnaryMethod).call(client, request, metadata, callOptions, (err, response) => {
        if (err) reject(err);
        else resolve(response);
      });
    });

  return {
    serverLive: () => unary('ServerLive', {}),
    serverReady: () => unary('ServerReady', {}),
    modelReady: (name, version = '') => unary('ModelReady', { name, version }),
    serverMetadata: () => unary('ServerMetadata', {}),
    modelMetadata: (name, version = '') => unary('ModelMetadata', { name, version }),
    modelInfer: (request, options) => unary('ModelInfer', request, options),
    repositoryIndex: (request = {}) => unary('RepositoryIndex', request),
    modelConfig: (name, version = '') => unary('ModelConfig', { name, version }),
    streamInfer: (requests) =>
      new Promise((resolve, reject) => {
        const call = (client['ModelStreamInfer'] as (md?: grpc.Metadata) => grpc.ClientDuplexStream<Message, Message>).call(client);
        const responses: Message[] = [];
        let status: grpc.StatusObject | undefined;
        let ended = false;
        const finish = () => {
          if (status !== undefined && ended) resolve({ responses, status });
        };
        call.on('data', (m: Message) => responses.push(m));
        call.on('status', (s: grpc.StatusObject) => {
          status = s;
          finish();
        });
        call.on('end', () => {
          ended = true;
          finish();
        });
        // A non-OK status also arrives as an 'error' event; the status handler above records it.
        call.on('error', (err: grpc.ServiceError) => {
          if (status === undefined) status = { code: err.code, details: err.details, metadata: err.metadata };
          ended = true;
          finish();
        });
        for (const r of requests) call.write(r);
        call.end();
        void reject;
      }),
    close: () => client.close(),
  };
}

/** Awaits `promise`, expecting it to fail with a gRPC error; returns that error. */
export async function grpcError(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await promise;
  } catch (err) {
    if (typeof (err as grpc.ServiceError).code === 'number') return err as grpc.ServiceError;
    throw err;
  }
  throw new Error('expected the call to fail with a gRPC status, but it succeeded');
}

export { grpc };
