import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { buildIdentityStandIn, buildIrisStandIn } from './models.js';
import { IRIS_SAMPLE, largePayload, LARGE_ELEMENTS } from './payloads.js';

const dir = mkdtempSync(join(tmpdir(), 'bench-models-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function session(name: string, bytes: Uint8Array) {
  const path = join(dir, `${name}.onnx`);
  writeFileSync(path, bytes);
  return ort.InferenceSession.create(path);
}

describe('stand-in models', () => {
  it('iris: input [batch,4] -> probabilities [batch,3] summing to 1, label INT64 [batch]', async () => {
    const s = await session('iris', buildIrisStandIn());
    expect(s.inputNames).toEqual(['input']);
    expect([...s.outputNames].sort()).toEqual(['label', 'probabilities']);
    const out = await s.run({ input: new ort.Tensor('float32', Float32Array.from([...IRIS_SAMPLE, 6.5, 3, 5.5, 2]), [2, 4]) });
    const probs = out.probabilities!.data as Float32Array;
    expect(out.probabilities!.dims).toEqual([2, 3]);
    expect(probs[0]! + probs[1]! + probs[2]!).toBeCloseTo(1, 5);
    expect(out.label!.type).toBe('int64');
    expect(Array.from(out.label!.data as BigInt64Array, Number)).toEqual([0, 2]);
  });

  it('identity: input ["n"] -> output, the same bytes', async () => {
    const s = await session('identity', buildIdentityStandIn());
    expect([s.inputNames, s.outputNames]).toEqual([['input'], ['output']]);
    const data = Float32Array.from([1, -0, Number.POSITIVE_INFINITY, 1e-45]);
    const out = await s.run({ input: new ort.Tensor('float32', data, [4]) });
    expect(Buffer.from((out.output!.data as Float32Array).buffer).equals(Buffer.from(data.buffer))).toBe(true);
  });
});

describe('largePayload', () => {
  it('is 16 MiB of finite or infinite floats, the same every time', () => {
    const a = largePayload();
    expect(a.byteLength).toBe(16 * 1024 * 1024);
    expect(a.length).toBe(LARGE_ELEMENTS);
    expect(a.some((x) => Number.isNaN(x))).toBe(false);
    expect(Object.is(a[0], -0)).toBe(true);
    expect(Buffer.from(largePayload().buffer).equals(Buffer.from(a.buffer))).toBe(true);
  });
});
