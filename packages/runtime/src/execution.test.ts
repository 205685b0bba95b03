import type { Datatype, InferRequest, Tensor } from '@sibyl/protocol';
import { isSibylError, markRequestOwned } from '@sibyl/protocol';
import { buildOnnxModel, identityModel, writeModelRepository } from '@sibyl/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, tempDir, type Harness } from './test-support/service-harness.js';

const mode = (m: string) => ({ parameters: { execution_mode: { string_value: m } } });
const utf8 = (s: string) => new TextEncoder().encode(s);

/** Every datatype onnxruntime-node exchanges, with the values most likely to be mangled. */
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
  // Raw half-precision bits: 1, -0, +inf, -inf, a NaN with a payload, the smallest subnormal, 65504, 0.
  FP16: () => new Uint16Array([0x3c00, 0x8000, 0x7c00, 0xfc00, 0x7e01, 0x0001, 0x7bff, 0x0000]),
  FP32: () => new Float32Array([1.5, -0, Infinity, -Infinity, NaN, 1e-45, 3.4028234663852886e38, -2.5]),
  FP64: () => new Float64Array([1.5, -0, Infinity, -Infinity, NaN, 5e-324, Number.MAX_VALUE, -2.5]),
  BYTES: () => ['', 'a', 'héllo', '日本語', 'x'.repeat(1000), 'tab\there', '🎉', ' '].map(utf8),
};
const DATATYPES = Object.keys(VALUES) as Array<keyof typeof VALUES>;
const tname = (d: string) => `t_${d.toLowerCase()}`;

function allTypesRequest(model: string): InferRequest {
  return { modelName: model, inputs: DATATYPES.map((d) => ({ name: tname(d), datatype: d, shape: [2, 4], data: VALUES[d]() })) };
}

/** Bytes of a tensor's data, for exact comparison (NaN payloads and -0 included). */
function bytesOf(data: Tensor['data']): Buffer[] {
  if (Array.isArray(data)) return data.map((e) => Buffer.from(e));
  return [Buffer.from(data.buffer, data.byteOffset, data.byteLength)];
}

async function failure(promise: Promise<unknown>): Promise<{ code: string; category: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    if (isSibylError(err)) return { code: err.code, category: err.category, message: err.message };
    throw err;
  }
  throw new Error('expected a rejection');
}

/** y = x·W four times over, W [512,512]: tens of milliseconds per run, to hold an instance busy. */
function slowModel(name: string): Uint8Array {
  const n = 512;
  const w = new Float32Array(n * n).map((_, i) => ((i % 17) - 8) / 1024);
  return buildOnnxModel({
    name,
    inputs: [{ name: 'x', datatype: 'FP32', shape: [n, n] }],
    outputs: [{ name: 'y', datatype: 'FP32', shape: [n, n] }],
    initializers: [{ name: 'w', datatype: 'FP32', dims: [n, n], values: w }],
    nodes: [
      { op: 'MatMul', inputs: ['x', 'w'], outputs: ['h1'] },
      { op: 'MatMul', inputs: ['h1', 'w'], outputs: ['h2'] },
      { op: 'MatMul', inputs: ['h2', 'w'], outputs: ['h3'] },
      { op: 'MatMul', inputs: ['h3', 'w'], outputs: ['y'] },
    ],
  });
}
const slowInput = (): Tensor => ({ name: 'x', datatype: 'FP32', shape: [512, 512], data: new Float32Array(512 * 512).fill(0.5) });

/** Three outputs of one input: s = a+a, p = a*a, n = -a. */
function threeOutputs(name: string): Uint8Array {
  const a = { name: 'a', datatype: 'FP32' as const, shape: [3] };
  return buildOnnxModel({
    name,
    inputs: [a],
    outputs: [{ ...a, name: 's' }, { ...a, name: 'p' }, { ...a, name: 'n' }],
    nodes: [
      { op: 'Add', inputs: ['a', 'a'], outputs: ['s'] },
      { op: 'Mul', inputs: ['a', 'a'], outputs: ['p'] },
      { op: 'Neg', inputs: ['a'], outputs: ['n'] },
    ],
  });
}

/** Range(start, limit, delta) over scalars: onnxruntime fails on delta 0, so zero warm-up inputs fail. */
function rangeModel(name: string): Uint8Array {
  const scalar = (n: string) => ({ name: n, datatype: 'FP32' as const, shape: [] });
  return buildOnnxModel({
    name,
    opset: 13,
    inputs: [scalar('start'), scalar('limit'), scalar('delta')],
    outputs: [{ name: 'r', datatype: 'FP32', shape: ['n'] }],
    nodes: [{ op: 'Range', inputs: ['start', 'limit', 'delta'], outputs: ['r'] }],
  });
}

describe('execution: inline and thread', () => {
  let repo: { dir: string; cleanup: () => Promise<void> };
  let h: Harness;
  let summary: Awaited<ReturnType<Harness['service']['load']>>;
  const exec = (model: string) => h.metric('nv_inference_exec_count', { model, version: '1' });

  beforeAll(async () => {
    repo = await tempDir();
    const allTypes = (name: string) => identityModel(name, DATATYPES.map((d) => ({ name: tname(d), datatype: d, shape: [2, 'n'] })));
    await writeModelRepository(repo.dir, [
      { name: 'types-inline', versions: { '1': allTypes('types-inline') }, config: mode('inline') },
      { name: 'types-thread', versions: { '1': allTypes('types-thread') }, config: mode('thread') },
      { name: 'three-inline', versions: { '1': threeOutputs('three-inline') }, config: mode('inline') },
      { name: 'three-thread', versions: { '1': threeOutputs('three-thread') }, config: mode('thread') },
      { name: 'slow', versions: { '1': slowModel('slow') }, config: mode('thread') },
      { name: 'slow-pair', versions: { '1': slowModel('slow-pair') }, config: { ...mode('thread'), instance_group: [{ count: 2, kind: 'KIND_CPU' }] } },
      { name: 'tiny-auto', versions: { '1': identityModel('tiny-auto', [{ name: 'x', datatype: 'FP32', shape: [4] }]) } },
      { name: 'range-auto', versions: { '1': rangeModel('range-auto') } },
      { name: 'range-inline', versions: { '1': rangeModel('range-inline') }, config: mode('inline') },
      {
        name: 'batch',
        versions: { '1': identityModel('batch', [{ name: 'a', datatype: 'FP32', shape: ['b', 2] }, { name: 'c', datatype: 'INT32', shape: ['b'] }]) },
        config: mode('inline'),
      },
    ]);
    h = createHarness({ repositories: [repo.dir] });
    summary = await h.service.load();
  }, 180_000);

  afterAll(async () => {
    await h?.service.close();
    await repo?.cleanup();
  });

  it('loads each model in the mode asked for; auto puts a tiny model inline and an unmeasurable one on threads', () => {
    const modeOf = (name: string) => summary.results.find((r) => r.name === name);
    expect(summary.failed).toBe(0);
    expect(modeOf('types-inline')).toMatchObject({ executionMode: 'inline', instances: 1 });
    expect(modeOf('types-thread')).toMatchObject({ executionMode: 'thread', instances: 1 });
    expect(modeOf('slow-pair')).toMatchObject({ executionMode: 'thread', instances: 2 });
    expect(modeOf('tiny-auto')).toMatchObject({ executionMode: 'inline' });
    expect(modeOf('range-auto')).toMatchObject({ executionMode: 'thread' });
    expect(h.logs).toContainEqual(expect.objectContaining({ level: 'warn', model: 'range-auto', msg: expect.stringContaining('warm-up run on zero inputs failed') }));
  });

  it('auto keeps a model on threads when its warm-up exceeds the threshold', async () => {
    const strictLine = createHarness({ repositories: [repo.dir], autoThreadThresholdUs: 0 });
    try {
      const result = (await strictLine.service.load()).results.find((r) => r.name === 'tiny-auto');
      expect(result).toMatchObject({ state: 'READY', executionMode: 'thread' });
      const line = strictLine.logs.find((l) => l['model'] === 'tiny-auto' && l.level === 'info');
      expect(line?.['warmupUs']).toBeGreaterThan(0);
    } finally {
      await strictLine.service.close();
    }
  }, 120_000);

  it('returns every datatype exactly, and identically inline and on a thread', async () => {
    const inline = await h.service.infer(allTypesRequest('types-inline'));
    const thread = await h.service.infer(allTypesRequest('types-thread'));
    for (const response of [inline, thread]) {
      expect(response.outputs.map((o) => o.name)).toEqual(DATATYPES.map((d) => `${tname(d)}_out`));
      for (const [i, d] of DATATYPES.entries()) {
        const out = response.outputs[i]!;
        expect(out.datatype).toBe(d);
        expect(out.shape).toEqual([2, 4]);
        const expected = VALUES[d]();
        expect(Object.getPrototypeOf(out.data)?.constructor).toBe(Array.isArray(expected) ? Array : expected.constructor);
        expect(bytesOf(out.data), d).toEqual(bytesOf(expected));
      }
    }
    for (const [i, o] of inline.outputs.entries()) expect(bytesOf(thread.outputs[i]!.data)).toEqual(bytesOf(o.data));
  });

  it('copies an input that is a view into a larger buffer (the caller keeps it); moves one that owns its buffer', async () => {
    const body = Buffer.alloc(4096);
    const view = new Uint8Array(body.buffer, body.byteOffset + 8, 3);
    view.set([7, 8, 9]);
    const owned = new Float32Array([1, 2, 3]);
    const r = await h.service.infer({
      modelName: 'three-thread',
      inputs: [{ name: 'a', datatype: 'FP32', shape: [3], data: owned }],
    });
    expect(Array.from(r.outputs[0]!.data as Float32Array)).toEqual([2, 4, 6]);
    expect(owned.byteLength).toBe(0); // transferred to the worker, as documented

    const shared = new Float32Array(8).fill(2);
    const sub = shared.subarray(2, 5);
    const r2 = await h.service.infer({ modelName: 'three-thread', inputs: [{ name: 'a', datatype: 'FP32', shape: [3], data: sub }] });
    expect(Array.from(r2.outputs[1]!.data as Float32Array)).toEqual([4, 4, 4]);
    expect(Array.from(shared)).toEqual([2, 2, 2, 2, 2, 2, 2, 2]);
    expect(sub.length).toBe(3);
  });

  it("moves a view into a buffer marked as its request's alone (a large REST body) without copying it", async () => {
    // As the REST edge reads a large binary body: JSON header, then the tensor's bytes, in one buffer.
    const body = new ArrayBuffer(64 + 12);
    markRequestOwned(body);
    const a = new Float32Array(body, 64, 3);
    a.set([1, 2, 3]);
    const b = new Float32Array(body, 64, 3); // a second view into it, as a second input would be
    const r = await h.service.infer({ modelName: 'three-thread', inputs: [{ name: 'a', datatype: 'FP32', shape: [3], data: a }] });
    expect(Array.from(r.outputs[0]!.data as Float32Array)).toEqual([2, 4, 6]);
    expect(body.byteLength).toBe(0); // moved to the thread whole
    expect(b.length).toBe(0);
  });

  it.each(['three-inline', 'three-thread'])('%s: returns only the requested outputs, in the requested order', async (model) => {
    const input = () => [{ name: 'a', datatype: 'FP32' as const, shape: [3], data: new Float32Array([1, 2, 3]) }];
    const some = await h.service.infer({ modelName: model, inputs: input(), outputs: [{ name: 'n' }, { name: 's' }] });
    expect(some.outputs.map((o) => [o.name, Array.from(o.data as Float32Array)])).toEqual([
      ['n', [-1, -2, -3]],
      ['s', [2, 4, 6]],
    ]);
    const all = await h.service.infer({ modelName: model, inputs: input(), outputs: [] });
    expect(all.outputs.map((o) => o.name)).toEqual(['s', 'p', 'n']);
    const err = await failure(h.service.infer({ modelName: model, inputs: input(), outputs: [{ name: 'q' }] }));
    expect(err.code).toBe('SIBYL_OUTPUT_UNKNOWN');
  });

  it.each(['three-inline', 'three-thread'])('%s: a deadline already passed is DEADLINE_EXCEEDED, and the model does not run', async (model) => {
    const before = await exec(model);
    const rejectedBefore = await h.metric('nv_inference_request_failure', { model, version: '1', reason: 'REJECTED' });
    const err = await failure(
      h.service.infer({ modelName: model, inputs: [{ name: 'a', datatype: 'FP32', shape: [3], data: new Float32Array(3) }] }, { deadlineMs: Date.now() - 1 }),
    );
    expect(err).toMatchObject({ code: 'SIBYL_DEADLINE_EXCEEDED', category: 'DEADLINE_EXCEEDED' });
    expect(err.message).toMatch(new RegExp(`^model '${model}' version 1: deadline exceeded before execution \\(\\d+ ms past it\\); the model did not run$`));
    expect(await exec(model)).toBe(before);
    expect(await h.metric('nv_inference_request_failure', { model, version: '1', reason: 'REJECTED' })).toBe(rejectedBefore + 1);
  });

  it('queues FIFO behind a busy instance; a waiting request whose deadline passes or whose client leaves does not run', async () => {
    const before = await exec('slow');
    const done: string[] = [];
    const track = (label: string, p: Promise<unknown>) => p.then(() => done.push(label), (e: unknown) => { done.push(`${label}:${isSibylError(e) ? e.code : String(e)}`); });
    const abort = new AbortController();
    const first = track('first', h.service.infer({ modelName: 'slow', inputs: [slowInput()] }));
    const late = track('late', h.service.infer({ modelName: 'slow', inputs: [slowInput()] }, { deadlineMs: Date.now() + 2 }));
    const gone = track('gone', h.service.infer({ modelName: 'slow', inputs: [slowInput()] }, { signal: abort.signal }));
    const second = track('second', h.service.infer({ modelName: 'slow', inputs: [slowInput()] }));
    const third = track('third', h.service.infer({ modelName: 'slow', inputs: [slowInput()] }));
    abort.abort();
    await Promise.all([first, late, gone, second, third]);
    // `late` was posted to the thread behind `first` (the pool's second slot) and skipped there when
    // its turn came; `gone` left the pool's queue at once.
    expect(done[0]).toBe('gone:SIBYL_REQUEST_CANCELLED');
    expect(done).toContain('late:SIBYL_DEADLINE_EXCEEDED');
    expect(done.filter((d) => !d.includes(':'))).toEqual(['first', 'second', 'third']);
    expect(await exec('slow')).toBe(before + 3);
  });

  it('a request posted to a busy thread behind another is skipped there when its client leaves first', async () => {
    const before = await exec('slow');
    const abort = new AbortController();
    const first = h.service.infer({ modelName: 'slow', inputs: [slowInput()] });
    const gone = failure(h.service.infer({ modelName: 'slow', inputs: [slowInput()] }, { signal: abort.signal }));
    abort.abort();
    await first;
    expect(await gone).toMatchObject({ code: 'SIBYL_REQUEST_CANCELLED' });
    expect(await exec('slow')).toBe(before + 1);
  });

  it('counts the time a run waits in its thread, behind the run before it, as queue time', async () => {
    const stats = async () => (await h.service.modelStatistics('slow', '1'))[0]!.inferenceStats;
    const before = await stats();
    // Both reach the thread at once (its two slots): the second waits there while the first computes.
    await Promise.all([h.service.infer({ modelName: 'slow', inputs: [slowInput()] }), h.service.infer({ modelName: 'slow', inputs: [slowInput()] })]);
    const after = await stats();
    const queueNs = after.queue.ns - before.queue.ns;
    const computeNs = after.computeInfer.ns - before.computeInfer.ns;
    expect(after.queue.count - before.queue.count).toBe(2);
    // The second's wait is about the first's compute (half the two runs' compute); without it, both
    // would show almost no queue time, since neither waited in the pool's own queue.
    expect(queueNs).toBeGreaterThan(0.4 * computeNs / 2);
    // And what a request reports adds up: queue + compute never exceeds its whole time.
    expect(queueNs + computeNs).toBeLessThanOrEqual(after.success.ns - before.success.ns);
  });

  it('instance_group count 2 in thread mode serves concurrent requests', async () => {
    const results = await Promise.all(
      [1, 2, 3, 4].map((k) =>
        h.service.infer({ modelName: 'slow-pair', id: `r${k}`, inputs: [{ ...slowInput(), data: new Float32Array(512 * 512).fill(k) }] }),
      ),
    );
    const single = await h.service.infer({ modelName: 'slow', inputs: [{ ...slowInput(), data: new Float32Array(512 * 512).fill(1) }] });
    const y1 = single.outputs[0]!.data as Float32Array;
    for (const [i, r] of results.entries()) {
      expect(r.id).toBe(`r${i + 1}`);
      const y = r.outputs[0]!.data as Float32Array;
      // The model is linear: input k·1 gives k times the output of input 1.
      expect(y[0]).toBeCloseTo(y1[0]! * (i + 1), 3);
      expect(y[12345]).toBeCloseTo(y1[12345]! * (i + 1), 3);
    }
    expect(await exec('slow-pair')).toBe(4);
  });

  it('echoes id and parameters, names the version, and counts the batch in metrics', async () => {
    const r = await h.service.infer({
      modelName: 'batch',
      id: 'req-7',
      parameters: { binary_data_output: true, custom: 'x' },
      inputs: [
        { name: 'a', datatype: 'FP32', shape: [3, 2], data: new Float32Array(6) },
        { name: 'c', datatype: 'INT32', shape: [3], data: new Int32Array([1, 2, 3]) },
      ],
    });
    expect(r).toMatchObject({ modelName: 'batch', modelVersion: '1', id: 'req-7', parameters: { binary_data_output: true, custom: 'x' } });
    expect(await h.metric('nv_inference_count', { model: 'batch', version: '1' })).toBe(3);
    expect(await h.metric('nv_inference_request_success', { model: 'batch', version: '1' })).toBe(1);
    expect(await h.metric('nv_inference_exec_count', { model: 'batch', version: '1' })).toBe(1);
  });

  it('rejects a batch larger than max_batch_size, and inputs that disagree on the batch', async () => {
    const req = (a: number, c: number): InferRequest => ({
      modelName: 'batch',
      inputs: [
        { name: 'a', datatype: 'FP32', shape: [a, 2], data: new Float32Array(a * 2) },
        { name: 'c', datatype: 'INT32', shape: [c], data: new Int32Array(c) },
      ],
    });
    const big = await failure(h.service.infer(req(5, 5)));
    expect(big).toMatchObject({ code: 'SIBYL_BATCH_TOO_LARGE', category: 'INVALID_ARGUMENT' });
    expect(big.message).toBe("inference request batch-size must be <= 4 for model 'batch', got 5");
    const mixed = await failure(h.service.infer(req(2, 3)));
    expect(mixed.code).toBe('SIBYL_BATCH_MISMATCH');
    expect(mixed.message).toContain("input 'a' has 2, input 'c' has 3");
  });

  it('validates requests against the metadata before running them', async () => {
    const before = await exec('three-inline');
    const err = await failure(
      h.service.infer({ modelName: 'three-inline', inputs: [{ name: 'a', datatype: 'INT32', shape: [3], data: new Int32Array(3) }] }),
    );
    expect(err.code).toBe('SIBYL_INPUT_DATATYPE_MISMATCH');
    expect(await exec('three-inline')).toBe(before);
    expect(await h.metric('nv_inference_request_failure', { model: 'three-inline', version: '1', reason: 'OTHER' })).toBeGreaterThan(0);
  });

  it.each([
    ['not UTF-8', new Uint8Array([0xc3, 0x28]), 'is not valid UTF-8'],
    ['holding a NUL byte', utf8('ab\u0000cd'), 'holds a NUL byte'],
  ])('refuses BYTES %s rather than altering them', async (_what, element, why) => {
    const req = allTypesRequest('types-thread');
    const bytes = req.inputs.find((t) => t.datatype === 'BYTES')!;
    (bytes.data as Uint8Array[])[3] = element;
    const err = await failure(h.service.infer(req));
    expect(err).toMatchObject({ code: 'SIBYL_INPUT_BYTES_UNREPRESENTABLE', category: 'INVALID_ARGUMENT' });
    expect(err.message).toContain(`input 't_bytes': BYTES element 3 ${why}`);
  });

  it.each(['range-inline', 'range-auto'])('%s: an onnxruntime failure is INTERNAL with its reason, counted as BACKEND', async (model) => {
    const scalar = (name: string, v: number): Tensor => ({ name, datatype: 'FP32', shape: [], data: new Float32Array([v]) });
    const ok = await h.service.infer({ modelName: model, inputs: [scalar('start', 0), scalar('limit', 3), scalar('delta', 1)] });
    expect(Array.from(ok.outputs[0]!.data as Float32Array)).toEqual([0, 1, 2]);
    const err = await failure(h.service.infer({ modelName: model, inputs: [scalar('start', 0), scalar('limit', 3), scalar('delta', 0)] }));
    expect(err).toMatchObject({ code: 'SIBYL_INFERENCE_FAILED', category: 'INTERNAL' });
    expect(err.message).toMatch(new RegExp(`^model '${model}' version 1: onnxruntime failed: .+`));
    expect(await h.metric('nv_inference_request_failure', { model, version: '1', reason: 'BACKEND' })).toBe(1);
  });
});
