/**
 * A worker for the backend tests: the gateway's real REST and gRPC servers on ephemeral ports, over
 * the real data plane (createLocalInferenceService on a Triton-layout repository of ONNX models).
 *
 * The data plane is the local service with a thin layer in front that the tests observe: it records
 * the context and id each infer call arrived with, and adds three test models that onnxruntime cannot
 * provide: `echo` (returns its inputs as `<name>_out`, for BF16 and non-UTF-8 BYTES, which
 * onnxruntime-node refuses), `busy` (answers UNAVAILABLE with a Retry-After) and `slow` (waits for the
 * milliseconds its request id names, or until the call is cancelled, then echoes).
 * Not part of the build (tsconfig excludes *.fixture.ts).
 */
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { createGrpcServer, SERVER_EXTENSIONS } from '@sibyl/gateway';
import { createLogger, createMetrics } from '@sibyl/observability';
import {
  SibylError,
  type InferContext,
  type InferenceService,
  type InferRequest,
  type InferResponse,
  type ModelMetadata,
} from '@sibyl/protocol';
import { createRestServer } from '@sibyl/gateway';
import { createLocalInferenceService, type LocalInferenceService } from '@sibyl/runtime';

export interface TestWorker {
  service: LocalInferenceService;
  /** Context and id of every infer call, in arrival order. */
  seen: Array<{ id: string | undefined; deadlineMs: number | undefined; traceparent: string | undefined }>;
  restUrl: string;
  grpcAddress: string;
  /** Stops both servers (the service stays up). */
  closeServers(): Promise<void>;
  close(): Promise<void>;
}

const TEST_MODELS = new Set(['echo', 'busy', 'slow']);

function testModelMetadata(name: string): ModelMetadata {
  return { name, versions: ['1'], platform: 'test', inputs: [], outputs: [] };
}

function echo(request: InferRequest): InferResponse {
  return {
    modelName: request.modelName,
    modelVersion: '1',
    outputs: request.inputs.map((t) => ({ name: `${t.name}_out`, datatype: t.datatype, shape: t.shape, data: t.data })),
  };
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

export async function startTestWorker(repository: string): Promise<TestWorker> {
  const logger = createLogger({ destination: new Writable({ write: (_c, _e, cb) => cb() }) });
  const metrics = createMetrics({ processMetrics: false });
  const service = createLocalInferenceService({ repositories: [repository], logger, metrics, serverVersion: '0.1.0', extensions: SERVER_EXTENSIONS });
  await service.load();
  const seen: TestWorker['seen'] = [];
  const plane: InferenceService = {
    serverLive: () => service.serverLive(),
    serverReady: () => service.serverReady(),
    serverMetadata: () => service.serverMetadata(),
    modelMetadata: async (name, version) => (TEST_MODELS.has(name) ? testModelMetadata(name) : service.modelMetadata(name, version)),
    modelReady: async (name, version) => TEST_MODELS.has(name) || service.modelReady(name, version),
    repositoryIndex: () => service.repositoryIndex(),
    modelConfig: (name, version) => service.modelConfig(name, version),
    async infer(request: InferRequest, context?: InferContext): Promise<InferResponse> {
      seen.push({ id: request.id, deadlineMs: context?.deadlineMs, traceparent: context?.traceparent });
      switch (request.modelName) {
        case 'echo':
          return echo(request);
        case 'busy':
          throw new SibylError('TEST_QUEUE_FULL', 'UNAVAILABLE', "model 'busy' queue is full", { retryAfterSeconds: 2 });
        case 'slow':
          await sleep(Number(request.id ?? 0), context?.signal);
          return echo(request);
        default:
          return service.infer(request, context);
      }
    },
  };
  const rest = createRestServer({ service: plane, logger });
  await rest.listen({ host: '127.0.0.1', port: 0 });
  const grpc = createGrpcServer({ service: plane, logger });
  const grpcPort = await grpc.bind('127.0.0.1', 0);
  const closeServers = async () => {
    await Promise.all([grpc.close(100), rest.close()]);
  };
  return {
    service,
    seen,
    restUrl: `http://127.0.0.1:${(rest.server.address() as AddressInfo).port}`,
    grpcAddress: `127.0.0.1:${grpcPort}`,
    closeServers,
    async close() {
      await closeServers();
      await service.close();
    },
  };
}
