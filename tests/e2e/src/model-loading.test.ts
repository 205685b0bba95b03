/**
 * A model that fails to load is reported (repository index UNAVAILABLE with a reason, model not
 * ready) and does not stop the others from serving. With the default strict readiness the server is
 * not ready; with --strict-readiness false it is.
 */
import { describe, expect, it } from 'vitest';
import type { RepositoryModel } from '@sibyl/testkit';
import {
  CORRUPT_MODEL,
  expectGrpcError,
  expectRestError,
  flatten,
  get,
  grpc,
  grpcOutputs,
  httpRequest,
  identityName,
  inferResult,
  postJson,
  serveModels,
  standardModels,
  type ServedModels,
} from './index.js';

const models = (): RepositoryModel[] => [
  { name: 'broken', versions: { '1': CORRUPT_MODEL } },
  ...standardModels().filter((m) => m.name === identityName('FP32') || m.name === 'arith'),
];

type IndexRow = { name: string; version?: string; state: string; reason: string };

function sharedChecks(ctx: ServedModels) {
  const url = (path: string) => `${ctx.server.httpUrl}${path}`;

  it('is live', async () => {
    expect((await get(url('/v2/health/live'))).status).toBe(200);
    expect(await ctx.grpc.serverLive()).toEqual({ live: true });
  });

  it('lists the corrupt model UNAVAILABLE with a reason, the others READY (REST and gRPC)', async () => {
    const res = await httpRequest(url('/v2/repository/index'), { method: 'POST' });
    expect(res.status, res.text).toBe(200);
    const rows = res.json as IndexRow[];
    const broken = rows.filter((r) => r.name === 'broken');
    expect(broken.length).toBeGreaterThan(0);
    for (const r of broken) {
      expect(r.state).toBe('UNAVAILABLE');
      expect(typeof r.reason).toBe('string');
      expect(r.reason.length).toBeGreaterThan(0);
    }
    for (const name of [identityName('FP32'), 'arith']) {
      expect(rows.find((r) => r.name === name)?.state, name).toBe('READY');
    }
    const ready = (await postJson(url('/v2/repository/index'), { ready: true })).json as IndexRow[];
    expect(ready.map((r) => r.name)).not.toContain('broken');
    const reply = await ctx.grpc.repositoryIndex();
    const viaGrpc = (reply['models'] as IndexRow[]).find((r) => r.name === 'broken');
    expect(viaGrpc).toMatchObject({ state: 'UNAVAILABLE' });
    expect(viaGrpc!.reason.length).toBeGreaterThan(0);
  });

  it('reports the corrupt model not ready: REST 400, gRPC ready false', async () => {
    const res = await get(url('/v2/models/broken/ready'));
    expect(res.status).toBe(400);
    expect(await ctx.grpc.modelReady('broken')).toEqual({ ready: false });
  });

  it('refuses metadata and inference on the corrupt model: 503 / UNAVAILABLE naming it', async () => {
    const res = await postJson(url('/v2/models/broken/infer'), { inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }] });
    expectRestError(res, 503, ['broken']);
    expectRestError(await get(url('/v2/models/broken')), 503, ['broken']);
    await expectGrpcError(
      ctx.grpc.modelInfer({ model_name: 'broken', inputs: [{ name: 'x', datatype: 'FP32', shape: ['1'], contents: { fp32_contents: [1] } }] }),
      grpc.status.UNAVAILABLE,
      ['broken'],
    );
  });

  it('serves the other models', async () => {
    const { json } = inferResult(
      await postJson(url('/v2/models/arith/infer'), { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2] }] }),
    );
    expect(flatten((json['outputs'] as Array<{ data: unknown }>)[0]!.data)).toEqual([2, 4]);
    const reply = await ctx.grpc.modelInfer({
      model_name: identityName('FP32'),
      inputs: [{ name: 'x', datatype: 'FP32', shape: ['1', '2'], contents: { fp32_contents: [5, 6] } }],
    });
    expect(grpcOutputs(reply).get('x_out')!.values).toEqual([5, 6]);
    expect(await ctx.grpc.modelReady('arith')).toEqual({ ready: true });
  });

  it('logs the failed load naming the model', () => {
    const lines = ctx.server.logLines();
    // pino writes the level as a word here; accept its number form too.
    const severe = (level: unknown) => ['warn', 'error', 'fatal'].includes(String(level)) || Number(level) >= 40;
    expect(lines.some((l) => JSON.stringify(l).includes('broken') && severe(l['level'])), ctx.server.output()).toBe(true);
  });
}

describe('default (strict) readiness', () => {
  const ctx = serveModels(models);
  sharedChecks(ctx);

  it('the server is not ready', async () => {
    expect(ctx.server.readyAtStart).toBe(false);
    const res = await get(`${ctx.server.httpUrl}/v2/health/ready`);
    expect(res.status).not.toBe(200);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(await ctx.grpc.serverReady()).toEqual({ ready: false });
  });
});

describe('--strict-readiness false', () => {
  const ctx = serveModels(models, ['--strict-readiness', 'false']);
  sharedChecks(ctx);

  it('the server is ready', async () => {
    expect(ctx.server.readyAtStart).toBe(true);
    expect((await get(`${ctx.server.httpUrl}/v2/health/ready`)).status).toBe(200);
    expect(await ctx.grpc.serverReady()).toEqual({ ready: true });
  });
});
