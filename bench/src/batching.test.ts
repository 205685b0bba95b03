import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { buildMlp, DYNAMIC_BATCHING, mlpConfig } from './batching.js';

const dir = mkdtempSync(join(tmpdir(), 'bench-batching-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the batching MLP', () => {
  it('maps x [batch, width] to y [batch, outputs], each row independent of the others in its batch', async () => {
    const path = join(dir, 'mlp.onnx');
    writeFileSync(path, buildMlp(32, 3, 4));
    const s = await ort.InferenceSession.create(path);
    try {
      const row = Float32Array.from({ length: 32 }, (_, i) => Math.sin(i + 1));
      const one = (await s.run({ x: new ort.Tensor('float32', row, [1, 32]) })).y!;
      expect(one.dims).toEqual([1, 4]);
      const values = Array.from(one.data as Float32Array);
      expect(values.every(Number.isFinite)).toBe(true);
      expect(values.some((v) => v !== 0)).toBe(true);
      const two = new Float32Array(64);
      two.set(row, 32);
      const batch = (await s.run({ x: new ort.Tensor('float32', two, [2, 32]) })).y!;
      expect(Array.from((batch.data as Float32Array).subarray(4))).toEqual(values.map((v) => expect.closeTo(v, 5)));
    } finally {
      await s.release();
    }
  });

  it('is deterministic, and its configs differ only in dynamic_batching', () => {
    expect(Buffer.from(buildMlp(16, 2, 2)).equals(Buffer.from(buildMlp(16, 2, 2)))).toBe(true);
    const { dynamic_batching, ...rest } = mlpConfig(true) as Record<string, unknown>;
    expect(rest).toEqual(mlpConfig(false));
    expect(rest).toMatchObject({ max_batch_size: 64, input: [{ name: 'x', dims: [1024] }], output: [{ name: 'y', dims: [16] }] });
    // Triton's advice: no preferred sizes for a model that is not much faster at some.
    expect(dynamic_batching).toEqual({ max_queue_delay_microseconds: DYNAMIC_BATCHING.max_queue_delay_microseconds });
  });
});

describe('the churn models', () => {
  it('map x [batch,8] to y [batch,4], with weights of their own', async () => {
    const { buildChurnModel } = await import('./churn.js');
    const out = [] as number[][];
    for (const seed of [1, 2]) {
      const path = join(dir, `churn-${seed}.onnx`);
      writeFileSync(path, buildChurnModel(seed));
      const s = await ort.InferenceSession.create(path);
      const y = (await s.run({ x: new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]), [1, 8]) })).y!;
      expect(y.dims).toEqual([1, 4]);
      out.push(Array.from(y.data as Float32Array));
      await s.release();
    }
    expect(out[0]).not.toEqual(out[1]);
  });
});
