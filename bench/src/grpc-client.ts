/**
 * A v2 gRPC client built from protos/inference/grpc_service.proto with @grpc/proto-loader, as any
 * outside client would build it (not from Sibyl's generated code). One client is one channel; the
 * load loop runs its concurrent calls on it.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { GRPC_PROTO, PROTO_INCLUDE } from './paths.js';

export interface GrpcInferResponse {
  model_name: string;
  outputs: Array<{ name: string; datatype: string; shape: string[] }>;
  raw_output_contents: Buffer[];
}

type UnaryCall = (request: object, callback: (err: grpc.ServiceError | null, response?: GrpcInferResponse) => void) => grpc.ClientUnaryCall;
export type InferenceClient = grpc.Client & { ModelInfer: UnaryCall };

export function createInferenceClient(address: string): InferenceClient {
  const definition = protoLoader.loadSync(GRPC_PROTO, {
    keepCase: true,
    longs: String,
    enums: String,
    arrays: true,
    oneofs: true,
    includeDirs: [PROTO_INCLUDE],
  });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    inference: { GRPCInferenceService: new (address: string, credentials: grpc.ChannelCredentials, options: grpc.ChannelOptions) => InferenceClient };
  };
  // grpc-js caps received messages at 4 MiB by default; the 16 MiB case needs more.
  return new loaded.inference.GRPCInferenceService(address, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': -1,
    'grpc.max_send_message_length': -1,
  });
}

export function modelInfer(client: InferenceClient, request: object): Promise<GrpcInferResponse> {
  return new Promise((resolve, reject) => {
    client.ModelInfer(request, (err, response) => {
      if (err !== null) reject(new Error(`gRPC ${grpc.status[err.code] ?? err.code}: ${err.details}`));
      else resolve(response!);
    });
  });
}
