/**
 * The handlers of `inference.GRPCInferenceService` and `grpc.health.v1.Health`, each a thin adapter:
 * check the model reference, call the InferenceService, encode its answer. ModelStreamInfer lives in
 * grpc-stream-infer.ts.
 */
import { performance } from 'node:perf_hooks';
import type { handleUnaryCall, ServerUnaryCall, UntypedServiceImplementation } from '@grpc/grpc-js';
import { modelConfigUnsupported, type ModelMetadata, type TensorMetadata } from '@sibyl/protocol';
import type {
  HealthCheckRequest,
  HealthCheckResponse,
  ModelInferRequestMessage,
  ModelMetadataResponse,
  ModelRef,
  RepositoryIndexRequest,
  RepositoryIndexResponse,
  ServerMetadataResponse,
} from './grpc-messages.js';
import { healthServiceUnknown } from './errors.js';
import { grpcInferContext, type GrpcCall } from './grpc-context.js';
import { edgeError, grpcStatus } from './grpc-errors.js';
import { inferMessage, type GrpcHandlerDeps } from './grpc-infer.js';
import { createModelStreamInfer } from './grpc-stream-infer.js';
import { checkModelName, checkModelVersion } from './model-ref.js';
import { edgeExtensions } from './server-extensions.js';
import { modelStatisticsResponse } from './statistics-json.js';

export const INFERENCE_SERVICE_NAME = 'inference.GRPCInferenceService';

export function createInferenceHandlers(deps: GrpcHandlerDeps): UntypedServiceImplementation {
  const { service } = deps;
  const unary = unaryAdapter(deps);
  const extensions = edgeExtensions(service);

  const ServerLive = unary('ServerLive', async () => ({ live: await service.serverLive() }));

  const ServerReady = unary('ServerReady', async () => ({ ready: await service.serverReady() }));

  const ModelReady = unary('ModelReady', async (request: ModelRef) => {
    const name = checkModelName(request.name ?? '');
    return { ready: await service.modelReady(name, checkModelVersion(request.version)) };
  });

  const ServerMetadata = unary('ServerMetadata', async (): Promise<ServerMetadataResponse> => {
    const metadata = await service.serverMetadata();
    // Extensions are what this edge serves, whatever the service behind it would offer.
    return { name: metadata.name, version: metadata.version, extensions: [...extensions] };
  });

  const ModelMetadata = unary('ModelMetadata', async (request: ModelRef): Promise<ModelMetadataResponse> => {
    const name = checkModelName(request.name ?? '');
    return modelMetadataMessage(await service.modelMetadata(name, checkModelVersion(request.version)));
  });

  const ModelInfer = unary('ModelInfer', async (message: ModelInferRequestMessage, call: GrpcCall) =>
    inferMessage(service, message, grpcInferContext(call)),
  );

  const RepositoryIndex = unary('RepositoryIndex', async (request: RepositoryIndexRequest): Promise<RepositoryIndexResponse> => {
    // repository_name is ignored, as Triton's RepositoryIndex ignores it: there is one repository view.
    const entries = await service.repositoryIndex();
    const readyOnly = request.ready === true;
    return {
      models: entries
        .filter((e) => !readyOnly || e.state === 'READY')
        .map((e) => ({ name: e.name, version: e.version ?? '', state: e.state, reason: e.reason })),
    };
  });

  // Empty name: every model (the version is then ignored); empty version: every version of the model.
  const ModelStatistics = unary('ModelStatistics', async (request: ModelRef) => {
    const name = request.name ?? '';
    if (name === '') return modelStatisticsResponse(service, undefined, undefined);
    return modelStatisticsResponse(service, checkModelName(name), checkModelVersion(request.version));
  });

  // Triton's model configuration extension: the service's JSON form is the message's (enum names as
  // strings, numbers where the proto has 64-bit integers, which the encoder accepts).
  const ModelConfig = unary('ModelConfig', async (request: ModelRef) => {
    const name = checkModelName(request.name ?? '');
    const version = checkModelVersion(request.version);
    if (service.modelConfig === undefined) throw modelConfigUnsupported(name);
    return { config: await service.modelConfig(name, version) };
  });

  const ModelStreamInfer = createModelStreamInfer(deps);

  return { ServerLive, ServerReady, ModelReady, ServerMetadata, ModelMetadata, ModelInfer, ModelStreamInfer, RepositoryIndex, ModelStatistics, ModelConfig };
}

/** `grpc.health.v1.Health/Check`: SERVING while the server is ready, for the whole server or the inference service. */
export function createHealthHandlers(deps: GrpcHandlerDeps): UntypedServiceImplementation {
  const Check = unaryAdapter(deps)('Check', async (request: HealthCheckRequest): Promise<HealthCheckResponse> => {
    const name = request.service ?? '';
    if (name !== '' && name !== INFERENCE_SERVICE_NAME) throw healthServiceUnknown(name);
    return { status: (await deps.service.serverReady()) ? 'SERVING' : 'NOT_SERVING' };
  });
  return { Check };
}

function modelMetadataMessage(metadata: ModelMetadata): ModelMetadataResponse {
  const tensor = (t: TensorMetadata) => ({ name: t.name, datatype: t.datatype, shape: t.shape });
  return {
    name: metadata.name,
    versions: metadata.versions,
    platform: metadata.platform,
    inputs: metadata.inputs.map(tensor),
    outputs: metadata.outputs.map(tensor),
  };
}

/**
 * Wraps a promise-returning handler as a grpc-js unary handler: errors become gRPC statuses (logged
 * once when INTERNAL) and, with metrics, the call's time is observed for protocol "grpc".
 */
function unaryAdapter(deps: GrpcHandlerDeps) {
  const { logger, metrics } = deps;
  return <Req, Res>(rpc: string, run: (request: Req, call: GrpcCall) => Promise<Res>): handleUnaryCall<Req, Res> =>
    (call: ServerUnaryCall<Req, Res>, callback) => {
      const started = metrics === undefined ? 0 : performance.now();
      const observe = () => metrics?.observeTransport('grpc', (performance.now() - started) / 1000);
      run(call.request, call).then(
        (response) => {
          callback(null, response);
          observe();
        },
        (error: unknown) => {
          callback(grpcStatus(edgeError(error, logger, call, rpc)));
          observe();
        },
      );
    };
}
