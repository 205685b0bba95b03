import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '@sibyl/observability';
import { loadInferenceDefinitions } from '@sibyl/protocol';
import { createLocalInferenceService, type LocalInferenceService } from '@sibyl/runtime';
import { identityModel, writeModelRepository } from '@sibyl/testkit';
import { captureLogger, FakeInferenceService } from './fake-inference-service.fixture.js';
import { createGrpcServer, type GrpcServerHandle } from './grpc-server.js';
import { createRestServer } from './rest-server.js';
import { MODEL_CONFIGURATION_EXTENSION, SERVER_EXTENSIONS, STATISTICS_EXTENSION } from './server-extensions.js';

// The statistics extension through the real REST and gRPC servers over the real data plane, and the
// 501 / UNIMPLEMENTED of an edge whose data plane keeps no statistics (the split gateway's).
type Client = grpc.Client & Record<string, any>;
const definitions = grpc.loadPackageDefinition(loadInferenceDefinitions()) as any;

let dir: string;
let service: LocalInferenceService;
let rest: FastifyInstance;
let base: string;
let grpcHandle: GrpcServerHandle;
let inference: Client;
let bare: { rest: FastifyInstance; base: string; grpc: GrpcServerHandle; inference: Client };

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

async function grpcClient(handle: GrpcServerHandle): Promise<Client> {
  const port = await handle.bind('127.0.0.1', 0);
  return new definitions.inference.GRPCInferenceService(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sibyl-gateway-stats-'));
  const model = (name: string) => identityModel(name, [{ name: 'x', datatype: 'FP32', shape: [-1, 2] }]);
  await writeModelRepository(dir, [{ name: 'echo', versions: { '1': model('echo') }, config: { max_batch_size: 8 } }]);
  const { logger } = captureLogger();
  const metrics = createMetrics({ processMetrics: false });
  service = createLocalInferenceService({ repositories: [dir], logger, metrics, serverVersion: '0.1.0', extensions: SERVER_EXTENSIONS });
  await service.load();
  rest = createRestServer({ service, logger, metrics });
  base = await listen(rest);
  grpcHandle = createGrpcServer({ service, logger, metrics });
  inference = await grpcClient(grpcHandle);

  const fake = new FakeInferenceService();
  const bareRest = createRestServer({ service: fake, logger, metrics });
  const bareGrpc = createGrpcServer({ service: fake, logger, metrics });
  bare = { rest: bareRest, base: await listen(bareRest), grpc: bareGrpc, inference: await grpcClient(bareGrpc) };
}, 60_000);

afterAll(async () => {
  inference?.close();
  bare?.inference.close();
  await Promise.all([rest?.close(), bare?.rest.close(), grpcHandle?.close(1000), bare?.grpc.close(1000)]);
  await service?.close();
  await rm(dir, { recursive: true, force: true });
});

function unary<T = any>(client: Client, method: string, request: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    client[method](request, (err: grpc.ServiceError | null, response: T) => (err ? reject(err) : resolve(response)));
  });
}

const infer = (rows: number) =>
  fetch(`${base}/v2/models/echo/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [rows, 2], data: new Array(rows * 2).fill(1) }] }),
  });

const DURATION = { count: expect.any(Number), ns: expect.any(Number) };

describe('REST statistics', () => {
  it('reports the extension where the data plane keeps statistics, and not where it does not', async () => {
    // The runtime also tells model configurations (model_configuration); the fake service does neither.
    expect((await (await fetch(`${base}/v2`)).json()).extensions).toEqual([...SERVER_EXTENSIONS, STATISTICS_EXTENSION, MODEL_CONFIGURATION_EXTENSION]);
    expect((await (await fetch(`${bare.base}/v2`)).json()).extensions).toEqual([...SERVER_EXTENSIONS]);
  });

  it("answers Triton's model_stats with numbers", async () => {
    expect((await infer(2)).status).toBe(200);
    expect((await infer(1)).status).toBe(200);
    const res = await fetch(`${base}/v2/models/echo/versions/1/stats`);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toEqual({
      model_stats: [
        {
          name: 'echo',
          version: '1',
          last_inference: expect.any(Number),
          inference_count: 3,
          execution_count: 2,
          inference_stats: {
            success: { count: 2, ns: expect.any(Number) },
            fail: { count: 0, ns: 0 },
            queue: { count: 2, ns: expect.any(Number) },
            compute_input: { count: 2, ns: expect.any(Number) },
            compute_infer: { count: 2, ns: expect.any(Number) },
            compute_output: { count: 2, ns: expect.any(Number) },
            cache_hit: { count: 0, ns: 0 },
            cache_miss: { count: 0, ns: 0 },
          },
          response_stats: {},
          batch_stats: [
            { batch_size: 1, compute_input: { count: 1, ns: expect.any(Number) }, compute_infer: DURATION, compute_output: DURATION },
            { batch_size: 2, compute_input: { count: 1, ns: expect.any(Number) }, compute_infer: DURATION, compute_output: DURATION },
          ],
          memory_usage: [],
        },
      ],
    });
    expect(body.model_stats[0].inference_stats.success.ns).toBeGreaterThan(0);
    expect(await (await fetch(`${base}/v2/models/echo/stats`)).json()).toEqual(body);
    expect(await (await fetch(`${base}/v2/models/stats`)).json()).toEqual(body);
  });

  it('answers 404 for an unknown model or version, 400 for an invalid one', async () => {
    const missing = await fetch(`${base}/v2/models/nope/stats`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual(await (await fetch(`${base}/v2/models/nope`)).json());
    expect((await fetch(`${base}/v2/models/echo/versions/7/stats`)).status).toBe(404);
    expect((await fetch(`${base}/v2/models/echo/versions/x/stats`)).status).toBe(400);
  });

  it('answers 501 when the data plane keeps no statistics', async () => {
    const res = await fetch(`${bare.base}/v2/models/stats`);
    expect(res.status).toBe(501);
    expect((await res.json()).error).toMatch(/statistics/);
    expect((await fetch(`${bare.base}/v2/models/echo/stats`)).status).toBe(501);
  });
});

describe('gRPC ModelStatistics', () => {
  it('answers the same statistics, uint64 as strings on the wire (proto-loader longs=String)', async () => {
    const response = await unary(inference, 'ModelStatistics', { name: 'echo', version: '1' });
    const rest = (await (await fetch(`${base}/v2/models/echo/versions/1/stats`)).json()).model_stats[0];
    const stats = response.model_stats[0];
    expect(stats.name).toBe('echo');
    expect(stats.version).toBe('1');
    expect(Number(stats.inference_count)).toBe(rest.inference_count);
    expect(Number(stats.execution_count)).toBe(rest.execution_count);
    expect(Number(stats.last_inference)).toBe(rest.last_inference);
    expect(Number(stats.inference_stats.success.count)).toBe(rest.inference_stats.success.count);
    expect(Number(stats.inference_stats.success.ns)).toBe(rest.inference_stats.success.ns);
    expect(stats.batch_stats.map((b: { batch_size: string }) => Number(b.batch_size))).toEqual([1, 2]);
    expect((await unary(inference, 'ModelStatistics', {})).model_stats).toHaveLength(1);
    expect((await unary(inference, 'ServerMetadata', {})).extensions).toContain(STATISTICS_EXTENSION);
  });

  it('answers NOT_FOUND for an unknown model and UNIMPLEMENTED without statistics', async () => {
    const missing = await unary(inference, 'ModelStatistics', { name: 'nope' }).catch((err: grpc.ServiceError) => err);
    expect((missing as grpc.ServiceError).code).toBe(grpc.status.NOT_FOUND);
    const none = await unary(bare.inference, 'ModelStatistics', {}).catch((err: grpc.ServiceError) => err);
    expect((none as grpc.ServiceError).code).toBe(grpc.status.UNIMPLEMENTED);
    expect((none as grpc.ServiceError).metadata.get('sibyl-error-code')).toEqual(['SIBYL_GATEWAY_STATISTICS_UNSUPPORTED']);
  });
});
