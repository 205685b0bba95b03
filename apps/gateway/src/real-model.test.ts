import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '@sibyl/observability';
import { loadInferenceDefinitions, modelConfigFromGrpc } from '@sibyl/protocol';
import { createLocalInferenceService, type LocalInferenceService } from '@sibyl/runtime';
import { identityModel, writeModelRepository } from '@sibyl/testkit';
import { captureLogger } from './fake-inference-service.fixture.js';
import { createGrpcServer, type GrpcServerHandle } from './grpc-server.js';
import { createRestServer } from './rest-server.js';
import { MODEL_CONFIGURATION_EXTENSION, SERVER_EXTENSIONS } from './server-extensions.js';

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

  describe('model configuration extension', () => {
    const grpcConfig = (name: string, version = '') =>
      new Promise<any>((resolve, reject) =>
        client.ModelConfig({ name, version }, (err: grpc.ServiceError | null, r: any) => (err ? reject(err) : resolve(r))),
      );

    it('is listed in the server metadata of both edges', async () => {
      expect(((await (await fetch(`${base}/v2`)).json()) as { extensions: string[] }).extensions).toContain(MODEL_CONFIGURATION_EXTENSION);
      const metadata = await new Promise<any>((resolve, reject) => client.ServerMetadata({}, (err: grpc.ServiceError | null, r: any) => (err ? reject(err) : resolve(r))));
      expect(metadata.extensions).toContain(MODEL_CONFIGURATION_EXTENSION);
    });

    it('serves the configuration over REST, completed from the model file, as the runtime has it', async () => {
      const res = await fetch(`${base}/v2/models/identity/config`);
      expect(res.status).toBe(200);
      const config = await res.json();
      expect(config).toEqual(await service.modelConfig('identity'));
      expect(config).toMatchObject({
        name: 'identity',
        platform: 'onnxruntime_onnx',
        backend: 'onnxruntime',
        input: [{ name: 'INPUT0', data_type: 'TYPE_FP32' }],
        output: [{ name: 'INPUT0_out', data_type: 'TYPE_FP32' }],
        instance_group: [{ kind: 'KIND_CPU', count: 1 }],
      });
      expect(await (await fetch(`${base}/v2/models/identity/versions/1/config`)).json()).toEqual(config);
    });

    it('answers an unknown model or version with NOT_FOUND on both edges', async () => {
      const unknown = await fetch(`${base}/v2/models/nope/config`);
      expect(unknown.status).toBe(404);
      expect(await unknown.json()).toMatchObject({ code: 'SIBYL_MODEL_NOT_FOUND' });
      const version = await fetch(`${base}/v2/models/identity/versions/7/config`);
      expect(version.status).toBe(404);
      expect(await version.json()).toMatchObject({ code: 'SIBYL_MODEL_VERSION_NOT_FOUND' });
      await expect(grpcConfig('nope')).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
      await expect(grpcConfig('identity', '7')).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    });

    it('serves the same configuration over gRPC ModelConfig, field numbers as Triton', async () => {
      const rest = (await (await fetch(`${base}/v2/models/identity/config`)).json()) as Record<string, unknown>;
      const response = await grpcConfig('identity', '1');
      // As any Triton client reads it: enum names, 64-bit integers as the loader gives them (strings).
      expect(response.config).toMatchObject({ name: 'identity', platform: 'onnxruntime_onnx', backend: 'onnxruntime' });
      expect(response.config.input[0]).toMatchObject({ name: 'INPUT0', data_type: 'TYPE_FP32' });
      // Back in the REST form, every field the proto declares carries the same value (proto3 leaves
      // default values out: compare what the gRPC answer has).
      const fromGrpc = modelConfigFromGrpc(response.config) as unknown as Record<string, unknown>;
      for (const [key, value] of Object.entries(fromGrpc)) expect([key, value]).toEqual([key, withoutDefaults(rest[key])]);
      expect(Object.keys(fromGrpc)).toEqual(expect.arrayContaining(['name', 'platform', 'backend', 'version_policy', 'input', 'output', 'instance_group', 'default_model_filename']));
    });
  });
});

/** What proto3 leaves out of a message: zeros, false, empty strings and lists, recursively. */
function withoutDefaults(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutDefaults);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === 0 || v === false || v === '' || (Array.isArray(v) && v.length === 0)) continue;
    out[k] = withoutDefaults(v);
  }
  return out;
}
