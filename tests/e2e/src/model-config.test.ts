/**
 * What a model's config.json changes (Triton's model configuration, protocols.md §D.4): version
 * policy (`all`, `latest`) and execution (`execution_mode: thread`, `instance_group` count); and the
 * model configuration extension that serves the result, over REST and gRPC.
 */
import { describe, expect, it } from 'vitest';
import {
  expectGrpcError,
  expectRestError,
  flatten,
  get,
  grpc,
  grpcOutputs,
  inferResult,
  postJson,
  serveModels,
  standardModels,
} from './index.js';

const ctx = serveModels(() => standardModels().filter((m) => ['versioned', 'latest_one', 'threaded'].includes(m.name)));
const url = (path: string) => `${ctx.server.httpUrl}${path}`;

describe('version policy', () => {
  const infer = (path: string) =>
    postJson(url(path), { inputs: [{ name: 'x', datatype: 'FP32', shape: [2], data: [10, 20] }] });

  it('a model with versions 1 and 3 (policy all) answers 3 by default and 1 when asked', async () => {
    const latest = inferResult(await infer('/v2/models/versioned/infer')).json;
    expect(latest['model_version']).toBe('3');
    expect(flatten((latest['outputs'] as Array<{ data: unknown }>)[0]!.data)).toEqual([13, 23]);
    const v1 = inferResult(await infer('/v2/models/versioned/versions/1/infer')).json;
    expect(v1['model_version']).toBe('1');
    expect(flatten((v1['outputs'] as Array<{ data: unknown }>)[0]!.data)).toEqual([11, 21]);
    const v3 = inferResult(await infer('/v2/models/versioned/versions/3/infer')).json;
    expect(v3['model_version']).toBe('3');
    const meta = (await get(url('/v2/models/versioned'))).json as { versions: string[] };
    expect([...meta.versions].sort()).toEqual(['1', '3']);
  });

  it('the same over gRPC: empty model_version picks 3, "1" picks 1', async () => {
    const request = (version: string) => ({
      model_name: 'versioned',
      model_version: version,
      inputs: [{ name: 'x', datatype: 'FP32', shape: ['1'], contents: { fp32_contents: [1] } }],
    });
    const latest = await ctx.grpc.modelInfer(request(''));
    expect(latest['model_version']).toBe('3');
    expect(grpcOutputs(latest).get('y')!.values).toEqual([4]);
    const v1 = await ctx.grpc.modelInfer(request('1'));
    expect(v1['model_version']).toBe('1');
    expect(grpcOutputs(v1).get('y')!.values).toEqual([2]);
  });

  it('latest {num_versions: 1} serves only 3; version 1 is not found', async () => {
    const latest = inferResult(await infer('/v2/models/latest_one/infer')).json;
    expect(latest['model_version']).toBe('3');
    const meta = (await get(url('/v2/models/latest_one'))).json as { versions: string[] };
    expect(meta.versions).toEqual(['3']);
    expectRestError(await infer('/v2/models/latest_one/versions/1/infer'), 404, ['latest_one', '1']);
    expectRestError(await get(url('/v2/models/latest_one/versions/1')), 404, ['latest_one']);
    expect((await get(url('/v2/models/latest_one/versions/1/ready'))).status).not.toBe(200);
    await expectGrpcError(
      ctx.grpc.modelInfer({
        model_name: 'latest_one',
        model_version: '1',
        inputs: [{ name: 'x', datatype: 'FP32', shape: ['1'], contents: { fp32_contents: [1] } }],
      }),
      grpc.status.NOT_FOUND,
      ['latest_one'],
    );
  });
});

describe('execution_mode thread with two instances', () => {
  it('answers concurrent REST and gRPC requests each with its own result', async () => {
    const rows = (i: number) => [i, -i, i / 4, 1000 + i];
    const rest = Array.from({ length: 24 }, async (_, i) => {
      const { json } = inferResult(
        await postJson(url('/v2/models/threaded/infer'), {
          id: `r${i}`,
          inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: rows(i) }],
        }),
      );
      expect(json['id']).toBe(`r${i}`);
      expect(flatten((json['outputs'] as Array<{ data: unknown }>)[0]!.data)).toEqual(rows(i).map((v) => 2 * v + 1));
    });
    const viaGrpc = Array.from({ length: 16 }, async (_, k) => {
      const i = 100 + k;
      const reply = await ctx.grpc.modelInfer({
        model_name: 'threaded',
        id: `g${i}`,
        inputs: [{ name: 'x', datatype: 'FP32', shape: ['2', '4'], contents: { fp32_contents: [...rows(i), ...rows(i + 1)] } }],
      });
      expect(reply['id']).toBe(`g${i}`);
      expect(grpcOutputs(reply).get('y')!.values).toEqual([...rows(i), ...rows(i + 1)].map((v) => 2 * v + 1));
    });
    await Promise.all([...rest, ...viaGrpc]);
  });
});

describe('model configuration extension', () => {
  it('serves what config.json declares, completed from the model file, over REST', async () => {
    const threaded = await get(url('/v2/models/threaded/config'));
    expect(threaded.status).toBe(200);
    expect(threaded.json).toMatchObject({
      name: 'threaded',
      platform: 'onnxruntime_onnx',
      backend: 'onnxruntime',
      max_batch_size: 0,
      // Completed from the model file: the config declares no inputs or outputs.
      input: [{ name: 'x', data_type: 'TYPE_FP32', dims: [-1, 4] }],
      output: [{ name: 'y', data_type: 'TYPE_FP32', dims: [-1, 4] }],
      instance_group: [{ kind: 'KIND_CPU', count: 2 }],
      parameters: { execution_mode: { string_value: 'thread' } },
    });
    expect((await get(url('/v2/models/latest_one/config'))).json).toMatchObject({ version_policy: { latest: { num_versions: 1 } } });
    expect((await get(url('/v2/models/versioned/versions/1/config'))).json).toMatchObject({ name: 'versioned', version_policy: { all: {} } });
    expectRestError(await get(url('/v2/models/latest_one/versions/1/config')), 404, ['latest_one']);
    expectRestError(await get(url('/v2/models/nope/config')), 404, ['nope']);
  });

  it('serves the same over gRPC ModelConfig, and lists the extension', async () => {
    const { config } = (await ctx.grpc.modelConfig('threaded', '1')) as { config: Record<string, any> };
    expect(config).toMatchObject({ name: 'threaded', platform: 'onnxruntime_onnx', parameters: { execution_mode: { string_value: 'thread' } } });
    // 64-bit integers as this client's loader maps them (strings), enums by name.
    expect(config['input']).toMatchObject([{ name: 'x', data_type: 'TYPE_FP32', dims: ['-1', '4'] }]);
    expect(config['instance_group']).toMatchObject([{ kind: 'KIND_CPU', count: 2 }]);
    await expectGrpcError(ctx.grpc.modelConfig('nope'), grpc.status.NOT_FOUND, ['nope']);
    expect((await ctx.grpc.serverMetadata())['extensions']).toContain('model_configuration');
  });
});
