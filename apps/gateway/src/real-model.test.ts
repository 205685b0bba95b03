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
import { captureLogger } from './fake-inference-service.fixture.js';
import { createGrpcServer, type GrpcServerHandle } from './grpc-server.js';
import { createRestServer } from './rest-server.js';
import { SERVER_EXTENSIONS } from './server-extensions.js';

// Both edges over real sockets in front of the real data plane: an ONNX identity model run by
// onnxruntime-node from a Triton-layout repository in a temporary directory.
let dir: string;
let service: LocalInferenceService;
let rest: FastifyInstance;
let grpcServer: GrpcServerHandle;
let base: string;
let client: grpc.Client & Record<string, any>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sibyl-gateway-'));
  await writeModelRepository(dir, [
    { name: 'identity', versions: { '1': identityModel('identity', [{ name: 'INPUT0', datatype: 'FP32', shape: [-1, 4] }]) } },
  ]);
  const { logger } = captureLogger();
  const metrics = createMetrics({ processMetrics: false });
  service = createLocalInferenceService({ repositories: [dir], logger, metrics, serverVersion: '0.1.0', extensions: SERVER_EXTENSIONS });
  await service.load();
  rest = createRestServer({ service, logger, metrics });
  await rest.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(rest.server.address() as AddressInfo).port}`;
  grpcServer = createGrpcServer({ service, logger, metrics });
  const port = await grpcServer.bind('127.0.0.1', 0);
  const definitions = grpc.loadPackageDefinition(loadInferenceDefinitions()) as any;
  client = new definitions.inference.GRPCInferenceService(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}, 60_000);

afterAll(async () => {
  client?.close();
  await grpcServer?.close(1000);
  await rest?.close();
  await service?.close();
  await rm(dir, { recursive: true, force: true });
});

const values = [0.5, -1.25, 3e-7, 65504, 1, 2, 3, 4];

describe('a real ONNX model behind the gateway', () => {
  it('is ready and described over REST', async () => {
    expect((await fetch(`${base}/v2/health/ready`)).status).toBe(200);
    expect((await fetch(`${base}/v2/models/identity/ready`)).status).toBe(200);
    expect(await (await fetch(`${base}/v2/models/identity`)).json()).toMatchObject({
      name: 'identity',
      inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [-1, 4] }],
      outputs: [{ name: 'INPUT0_out', datatype: 'FP32', shape: [-1, 4] }],
    });
  });

  it('runs a JSON request over REST', async () => {
    const res = await fetch(`${base}/v2/models/identity/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'r1', inputs: [{ name: 'INPUT0', shape: [2, 4], datatype: 'FP32', data: values }] }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { outputs: unknown };
    expect(body).toMatchObject({ model_name: 'identity', model_version: '1', id: 'r1' });
    expect(body.outputs).toEqual([{ name: 'INPUT0_out', datatype: 'FP32', shape: [2, 4], data: Array.from(new Float32Array(values)) }]);
  });

  it('runs a binary request over REST, bytes returned equal to bytes sent', async () => {
    const data = Buffer.from(new Float32Array(values).buffer);
    const header = Buffer.from(
      JSON.stringify({
        inputs: [{ name: 'INPUT0', shape: [2, 4], datatype: 'FP32', parameters: { binary_data_size: data.length } }],
        parameters: { binary_data_output: true },
      }),
    );
    const res = await fetch(`${base}/v2/models/identity/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) },
      body: Buffer.concat([header, data]),
    });
    expect(res.status).toBe(200);
    const length = Number(res.headers.get('inference-header-content-length'));
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.subarray(length).equals(data)).toBe(true);
  });

  it('rejects a wrong shape over REST with the validation message', async () => {
    const res = await fetch(`${base}/v2/models/identity/infer`, {
      method: 'POST',
      body: JSON.stringify({ inputs: [{ name: 'INPUT0', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toContain("input 'INPUT0'");
  });

  it('runs raw_input_contents over gRPC', async () => {
    const data = Buffer.from(new Float32Array(values).buffer);
    const response = await new Promise<any>((resolve, reject) =>
      client.ModelInfer(
        { model_name: 'identity', inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [2, 4] }], raw_input_contents: [data] },
        (err: grpc.ServiceError | null, r: any) => (err ? reject(err) : resolve(r)),
      ),
    );
    expect(response.outputs[0]).toMatchObject({ name: 'INPUT0_out', datatype: 'FP32', shape: ['2', '4'] });
    expect(Buffer.from(response.raw_output_contents[0]).equals(data)).toBe(true);
  });
});
