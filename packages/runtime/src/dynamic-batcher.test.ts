import type { Datatype, InferRequest, InferResponse, Tensor } from '@sibyl/protocol';
import { isSibylError } from '@sibyl/protocol';
import { buildOnnxModel, identityModel, writeModelRepository } from '@sibyl/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, tempDir, type Harness } from './test-support/service-harness.js';

const utf8 = (s: string) => new TextEncoder().encode(s);
const mode = (m: string) => ({ execution_mode: { string_value: m } });

/** Eight values per datatype, the ones most likely to be mangled; a request of b rows of 4 takes a rotation of them. */
const VALUES: Record<Exclude<Datatype, 'BF16'>, () => Tensor['data']> = {
  BOOL: () => new Uint8Array([1, 0, 1, 1, 0, 0, 1, 0]),
  UINT8: () => new Uint8Array([0, 1, 127, 128, 200, 255, 3, 4]),
  UINT16: () => new Uint16Array([0, 1, 32767, 32768, 65535, 7, 8, 9]),
  UINT32: () => new Uint32Array([0, 1, 2 ** 31, 2 ** 32 - 1, 5, 6, 7, 8]),
  UINT64: () => new BigUint64Array([0n, 1n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n, 6n, 7n, 8n]),
  INT8: () => new Int8Array([-128, -1, 0, 1, 127, 5, 6, 7]),
  INT16: () => new Int16Array([-32768, -1, 0, 1, 32767, 5, 6, 7]),
  INT32: () => new Int32Array([-(2 ** 31), -1, 0, 1, 2 ** 31 - 1, 5, 6, 7]),
  INT64: () => new BigInt64Array([-(2n ** 63n), -1n, 0n, 1n, 2n ** 63n - 1n, 2n ** 53n + 1n, 6n, 7n]),
  FP16: () => new Uint16Array([0x3c00, 0x8000, 0x7c00, 0xfc00, 0x7e01, 0x0001, 0x7bff, 0x0000]),
  FP32: () => new Float32Array([1.5, -0, Infinity, -Infinity, NaN, 1e-45, 3.4028234663852886e38, -2.5]),
  FP64: () => new Float64Array([1.5, -0, Infinity, -Infinity, NaN, 5e-324, Number.MAX_VALUE, -2.5]),
  BYTES: () => ['', 'a', 'héllo', '日本語', 'x'.repeat(300), 'tab\there', '🎉', ' '].map(utf8),
};
const DATATYPES = Object.keys(VALUES) as Array<keyof typeof VALUES>;
const tname = (d: string) => `t_${d.toLowerCase()}`;

/** `rows` x `cols` elements of a datatype's values, rotated by `shift` so that every request differs. */
function valuesOf(d: keyof typeof VALUES, rows: number, cols: number, shift: number): Tensor['data'] {
  const base = VALUES[d]();
  const n = rows * cols;
  if (Array.isArray(base)) return Array.from({ length: n }, (_, i) => base[(i + shift) % base.length]!);
  const out = new (base.constructor as new (n: number) => typeof base)(n);
  for (let i = 0; i < n; i++) (out as unknown as unknown[])[i] = (base as unknown as unknown[])[(i + shift) % base.length];
  return out;
}

function typesRequest(model: string, rows: number, shift: number, cols = 4, outputs?: string[]): InferRequest {
  const request: InferRequest = {
    modelName: model,
    inputs: DATATYPES.map((d) => ({ name: tname(d), datatype: d, shape: [rows, cols], data: valuesOf(d, rows, cols, shift) })),
  };
  if (outputs !== undefined) request.outputs = outputs.map((name) => ({ name }));
  return request;
}

/** Bytes of a tensor's data, for exact comparison (NaN payloads and -0 included). */
function bytesOf(data: Tensor['data']): Buffer[] {
  if (Array.isArray(data)) return data.map((e) => Buffer.from(e));
  return [Buffer.from(data.buffer, data.byteOffset, data.byteLength)];
}

function expectSameOutputs(batched: InferResponse, alone: InferResponse): void {
  expect(batched.outputs.map((o) => [o.name, o.datatype, o.shape])).toEqual(alone.outputs.map((o) => [o.name, o.datatype, o.shape]));
  for (const [i, o] of alone.outputs.entries()) {
    const b = batched.outputs[i]!;
    expect(Object.getPrototypeOf(b.data)?.constructor, o.name).toBe(Object.getPrototypeOf(o.data)?.constructor);
    expect(bytesOf(b.data), o.name).toEqual(bytesOf(o.data));
  }
}

async function failure(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (err) {
    if (isSibylError(err)) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

/** y = x·W four times, x [b, 256]: a large batch takes a while, a batch of one little. */
function matmulModel(name: string): Uint8Array {
  const n = 256;
  const w = new Float32Array(n * n).map((_, i) => ((i % 13) - 6) / 512);
  return buildOnnxModel({
    name,
    inputs: [{ name: 'x', datatype: 'FP32', shape: ['b', n] }],
    outputs: [{ name: 'y', datatype: 'FP32', shape: ['b', n] }],
    initializers: [{ name: 'w', datatype: 'FP32', dims: [n, n], values: w }],
    nodes: [
      { op: 'MatMul', inputs: ['x', 'w'], outputs: ['h1'] },
      { op: 'MatMul', inputs: ['h1', 'w'], outputs: ['h2'] },
      { op: 'MatMul', inputs: ['h2', 'w'], outputs: ['h3'] },
      { op: 'MatMul', inputs: ['h3', 'w'], outputs: ['y'] },
    ],
  });
}

const fp32 = (model: string, rows: number, fill = 1, extra: Partial<InferRequest> = {}): InferRequest => ({
  modelName: model,
  inputs: [{ name: 'x', datatype: 'FP32', shape: [rows, 4], data: new Float32Array(rows * 4).fill(fill) }],
  ...extra,
});

describe('dynamic batching', () => {
  let repo: { dir: string; cleanup: () => Promise<void> };
  let h: Harness;
  const metric = (name: string, model: string) => h.metric(name, { model, version: '1' });
  const batchSizes = async (model: string) => {
    const { values } = await h.metrics.registry.getSingleMetric('sibyl_batch_size')!.get();
    const of = (suffix: string) => values.find((v) => (v as { metricName?: string }).metricName === `sibyl_batch_size${suffix}` && v.labels['model'] === model)?.value ?? 0;
    return { count: of('_count'), sum: of('_sum') };
  };

  beforeAll(async () => {
    repo = await tempDir();
    const types = (name: string) => identityModel(name, DATATYPES.map((d) => ({ name: tname(d), datatype: d, shape: ['b', 'n'] })));
    const x = (name: string) => identityModel(name, [{ name: 'x', datatype: 'FP32', shape: ['b', 4] }]);
    const batching = (extra: object) => ({ max_batch_size: 8, dynamic_batching: extra });
    await writeModelRepository(repo.dir, [
      { name: 'types-plain', versions: { '1': types('types-plain') }, config: { max_batch_size: 8, parameters: mode('inline') } },
      // A batch of 6 forms only once requests of 1 + 2 + 3 rows are queued: the delay is far longer than the test.
      ...(['inline', 'thread'] as const).map((m) => ({
        name: `types-batched-${m}`,
        versions: { '1': types(`types-batched-${m}`) },
        config: { ...batching({ preferred_batch_size: [6], max_queue_delay_microseconds: 60_000_000 }), parameters: mode(m) },
      })),
      { name: 'grouping', versions: { '1': types('grouping') }, config: { ...batching({ preferred_batch_size: [4], max_queue_delay_microseconds: 200_000 }), parameters: mode('inline') } },
      { name: 'full', versions: { '1': x('full') }, config: batching({ preferred_batch_size: [8], max_queue_delay_microseconds: 300_000, default_queue_policy: { max_queue_size: 2 } }) },
      {
        name: 'expiring',
        versions: { '1': x('expiring') },
        config: batching({
          preferred_batch_size: [8],
          max_queue_delay_microseconds: 30_000_000,
          default_queue_policy: { default_timeout_microseconds: 100_000, allow_timeout_override: true },
        }),
      },
      {
        name: 'delaying',
        versions: { '1': x('delaying') },
        config: batching({
          preferred_batch_size: [8],
          max_queue_delay_microseconds: 300_000,
          default_queue_policy: { timeout_action: 'DELAY', default_timeout_microseconds: 1_000 },
        }),
      },
      // One row per batch, one inline instance: requests queued behind a running one leave the queue in priority order.
      { name: 'prioritised', versions: { '1': x('prioritised') }, config: { ...batching({ preferred_batch_size: [1], priority_levels: 2 }), parameters: mode('inline') } },
      {
        name: 'ordered',
        versions: { '1': matmulModel('ordered') },
        config: {
          max_batch_size: 1024,
          dynamic_batching: { preferred_batch_size: [1], preserve_ordering: true },
          instance_group: [{ kind: 'KIND_CPU', count: 2 }],
          parameters: mode('thread'),
        },
      },
      { name: 'no-batch-dim', versions: { '1': identityModel('no-batch-dim', [{ name: 'x', datatype: 'FP32', shape: [4] }]) }, config: { dynamic_batching: {} } },
    ]);
    h = createHarness({ repositories: [repo.dir], strictReadiness: false });
    await h.service.load();
  }, 180_000);

  afterAll(async () => {
    await h?.service.close();
    await repo?.cleanup();
  });

  it('serves the normalised dynamic_batching config, and fails a version whose file has no batch dimension', async () => {
    expect((await h.service.modelConfig('grouping')).dynamic_batching).toMatchObject({ preferred_batch_size: [4], max_queue_delay_microseconds: 200_000 });
    expect((await h.service.modelConfig('types-plain')).dynamic_batching).toBeUndefined();
    const row = (await h.service.repositoryIndex()).find((r) => r.name === 'no-batch-dim');
    expect(row?.state).toBe('UNAVAILABLE');
    expect(row?.reason).toContain("config field 'dynamic_batching'");
    expect(row?.reason).toContain('needs max_batch_size > 0');
  });

  it.each(['inline', 'thread'])(
    '%s: combines requests of 1, 2 and 3 rows into one execution; each response is byte for byte the unbatched one, every datatype',
    async (m) => {
      const model = `types-batched-${m}`;
      const subset = [tname('INT64') + '_out', tname('BYTES') + '_out', tname('FP16') + '_out', tname('BOOL') + '_out'];
      const asks = [
        { rows: 1, shift: 0, outputs: undefined },
        { rows: 2, shift: 3, outputs: subset },
        { rows: 3, shift: 5, outputs: [tname('UINT64') + '_out'] },
      ];
      const batched = await Promise.all(asks.map((a) => h.service.infer(typesRequest(model, a.rows, a.shift, 4, a.outputs))));
      for (const [i, a] of asks.entries()) {
        const alone = await h.service.infer(typesRequest('types-plain', a.rows, a.shift, 4, a.outputs));
        expect(batched[i]!.modelName).toBe(model);
        expectSameOutputs(batched[i]!, alone);
      }
      expect(batched[0]!.outputs).toHaveLength(DATATYPES.length);
      expect(await metric('nv_inference_exec_count', model)).toBe(1);
      expect(await metric('nv_inference_count', model)).toBe(6);
      expect(await metric('nv_inference_request_success', model)).toBe(3);
      expect(await batchSizes(model)).toEqual({ count: 1, sum: 6 });
      expect(await metric('nv_inference_queue_duration_us', model)).toBeGreaterThan(0);
    },
    30_000,
  );

  it('batches only requests whose non-batch dimensions match; another shape runs in a later batch', async () => {
    const a = h.service.infer(typesRequest('grouping', 2, 1, 4));
    const b = h.service.infer(typesRequest('grouping', 2, 2, 3));
    const c = h.service.infer(typesRequest('grouping', 2, 4, 4));
    const [ra, rb, rc] = await Promise.all([a, b, c]);
    expectSameOutputs(ra, await h.service.infer(typesRequest('types-plain', 2, 1, 4)));
    expectSameOutputs(rb, await h.service.infer(typesRequest('types-plain', 2, 2, 3)));
    expectSameOutputs(rc, await h.service.infer(typesRequest('types-plain', 2, 4, 4)));
    expect(rb.outputs[0]!.shape).toEqual([2, 3]);
    expect(await metric('nv_inference_exec_count', 'grouping')).toBe(2);
    expect(await batchSizes('grouping')).toEqual({ count: 2, sum: 6 });
  });

  it('refuses a request at once when the queue is full, with Retry-After; the queued ones still run', async () => {
    const queued = [h.service.infer(fp32('full', 1, 1)), h.service.infer(fp32('full', 2, 2))];
    const err = await failure(h.service.infer(fp32('full', 1, 3)));
    expect(err.code).toBe('SIBYL_QUEUE_FULL');
    expect(err.category).toBe('UNAVAILABLE');
    expect(err.retryAfterSeconds).toBe(1);
    expect(err.message).toContain("the queue of model 'full' is full with 2 requests");
    const done = await Promise.all(queued);
    expect(Array.from(done[1]!.outputs[0]!.data as Float32Array)).toEqual(new Array(8).fill(2));
    expect(await metric('sibyl_batcher_rejected_total', 'full')).toBe(1);
    expect(await metric('nv_inference_exec_count', 'full')).toBe(1);
  });

  it('drops a request whose deadline passes while queued, without running it: policy timeout, timeout parameter, caller deadline', async () => {
    const byPolicy = failure(h.service.infer(fp32('expiring', 1)));
    const byParameter = failure(h.service.infer(fp32('expiring', 1, 1, { parameters: { timeout: 20_000 } })));
    const byCaller = failure(h.service.infer(fp32('expiring', 1), { deadlineMs: Date.now() + 30 }));
    for (const err of await Promise.all([byPolicy, byParameter, byCaller])) {
      expect(err.code).toBe('SIBYL_DEADLINE_EXCEEDED');
      expect(err.category).toBe('DEADLINE_EXCEEDED');
      expect(err.message).toContain('while queued in the dynamic batcher');
      expect(err.message).toContain('the model did not run');
    }
    expect(await metric('nv_inference_exec_count', 'expiring')).toBe(0);
    expect(await metric('sibyl_batcher_expired_total', 'expiring')).toBe(3);
    expect(await h.metric('nv_inference_request_failure', { model: 'expiring', version: '1', reason: 'REJECTED' })).toBe(3);
    const bad = await failure(h.service.infer(fp32('expiring', 1, 1, { parameters: { timeout: -5 } })));
    expect(bad.code).toBe('SIBYL_REQUEST_PARAMETER_INVALID');
    expect(bad.message).toContain("parameter 'timeout'");
  });

  it('timeout_action DELAY keeps a request past its timeout queued, and runs it', async () => {
    const r = await h.service.infer(fp32('delaying', 1, 7));
    expect(Array.from(r.outputs[0]!.data as Float32Array)).toEqual([7, 7, 7, 7]);
    expect(await metric('sibyl_batcher_expired_total', 'delaying')).toBe(0);
    expect(await metric('nv_inference_exec_count', 'delaying')).toBe(1);
  });

  it('runs queued requests by priority (1 is the highest; 0 or none is the default level), and rejects an invalid priority', async () => {
    const done: string[] = [];
    const send = (tag: string, priority?: number) =>
      h.service.infer(fp32('prioritised', 1, 1, priority === undefined ? {} : { parameters: { priority } })).then(() => done.push(tag));
    // The first runs at once; the rest wait for it, then leave the queue highest priority first.
    await Promise.all([send('first'), send('low-a', 2), send('default'), send('high-a', 1), send('zero', 0), send('high-b', 1)]);
    expect(done).toEqual(['first', 'high-a', 'high-b', 'low-a', 'default', 'zero']);
    for (const priority of [3, -1, 1.5, 'high']) {
      const err = await failure(h.service.infer(fp32('prioritised', 1, 1, { parameters: { priority } })));
      expect(err.code).toBe('SIBYL_REQUEST_PARAMETER_INVALID');
      expect(err.category).toBe('INVALID_ARGUMENT');
      expect(err.message).toContain("parameter 'priority'");
    }
  });

  it('preserve_ordering: responses complete in arrival order across instances', async () => {
    const run = async (model: string) => {
      const done: string[] = [];
      const big = h.service.infer({ modelName: model, inputs: [{ name: 'x', datatype: 'FP32', shape: [1024, 256], data: new Float32Array(1024 * 256).fill(0.5) }] });
      const small = h.service.infer({ modelName: model, inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 256], data: new Float32Array(256).fill(0.5) }] });
      await Promise.all([big.then(() => done.push('big')), small.then(() => done.push('small'))]);
      return done;
    };
    for (let i = 0; i < 3; i++) expect(await run('ordered')).toEqual(['big', 'small']);
    // Both ran at once, on two instances: the order above is the batcher's doing, not a single queue's.
    expect(await metric('nv_inference_exec_count', 'ordered')).toBe(6);
    expect(await batchSizes('ordered')).toEqual({ count: 6, sum: 3 * 1025 });
  }, 60_000);
});
