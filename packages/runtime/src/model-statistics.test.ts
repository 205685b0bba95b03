import type { InferRequest } from '@sibyl/protocol';
import { identityModel, writeModelRepository } from '@sibyl/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, tempDir, type Harness } from './test-support/service-harness.js';

// Triton's statistics extension over the real data plane: counts after successful, failed and
// dynamically batched requests.
let harness: Harness;
let cleanup: () => Promise<void>;

const request = (model: string, rows: number, version?: string): InferRequest => ({
  modelName: model,
  ...(version === undefined ? {} : { modelVersion: version }),
  inputs: [{ name: 'x', datatype: 'FP32', shape: [rows, 2], data: new Float32Array(rows * 2).fill(1) }],
});

beforeAll(async () => {
  const temp = await tempDir();
  cleanup = temp.cleanup;
  const model = (name: string) => identityModel(name, [{ name: 'x', datatype: 'FP32', shape: [-1, 2] }]);
  await writeModelRepository(temp.dir, [
    { name: 'plain', versions: { '1': model('plain'), '2': model('plain') }, config: { max_batch_size: 8, version_policy: { all: {} } } },
    {
      name: 'batched',
      versions: { '1': model('batched') },
      // Four single-row requests fill the preferred size: one execution.
      config: { max_batch_size: 8, dynamic_batching: { preferred_batch_size: [4], max_queue_delay_microseconds: 5_000_000 } },
    },
  ]);
  harness = createHarness({ repositories: [temp.dir] });
  await harness.service.load();
}, 60_000);

afterAll(async () => {
  await harness?.service.close();
  await cleanup?.();
});

describe('modelStatistics', () => {
  it('reports zeros for a version that served nothing', async () => {
    const [stats] = await harness.service.modelStatistics('plain', '1');
    expect(stats).toMatchObject({ name: 'plain', version: '1', lastInference: 0, inferenceCount: 0, executionCount: 0, batchStats: [] });
    expect(stats!.inferenceStats.success).toEqual({ count: 0, ns: 0 });
  });

  it('counts inferences, executions, failures and batch sizes per version', async () => {
    const before = Date.now();
    await harness.service.infer(request('plain', 3, '2'));
    await harness.service.infer(request('plain', 1, '2'));
    await harness.service.infer(request('plain', 1, '2'));
    // Fails validation (wrong shape) after the version was chosen: counted as a failure of version 2.
    await expect(harness.service.infer({ ...request('plain', 1, '2'), inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3], data: new Float32Array(3) }] })).rejects.toThrow();

    const [stats] = await harness.service.modelStatistics('plain', '2');
    expect(stats!.inferenceCount).toBe(5);
    expect(stats!.executionCount).toBe(3);
    expect(stats!.lastInference).toBeGreaterThanOrEqual(before);
    expect(stats!.lastInference).toBeLessThanOrEqual(Date.now());
    const i = stats!.inferenceStats;
    expect(i.success.count).toBe(3);
    expect(i.success.ns).toBeGreaterThan(0);
    expect(Number.isInteger(i.success.ns)).toBe(true);
    expect(i.fail.count).toBe(1);
    expect(i.queue.count).toBe(3);
    expect(i.computeInfer.count).toBe(3);
    expect(i.computeInfer.ns).toBeGreaterThan(0);
    expect(i.computeInfer.ns).toBeLessThanOrEqual(i.success.ns);
    expect(i.cacheHit).toEqual({ count: 0, ns: 0 });
    expect(stats!.batchStats.map((b) => [b.batchSize, b.computeInfer.count])).toEqual([
      [1, 2],
      [3, 1],
    ]);
    // Version 1 is untouched.
    expect((await harness.service.modelStatistics('plain', '1'))[0]!.inferenceCount).toBe(0);
  });

  it('counts a dynamic batch as one execution of its combined size', async () => {
    await Promise.all([1, 2, 3, 4].map(() => harness.service.infer(request('batched', 1))));
    const [stats] = await harness.service.modelStatistics('batched');
    expect(stats!.inferenceCount).toBe(4);
    expect(stats!.executionCount).toBe(1);
    expect(stats!.inferenceStats.success.count).toBe(4);
    expect(stats!.inferenceStats.queue.ns).toBeGreaterThan(0);
    expect(stats!.batchStats).toHaveLength(1);
    expect(stats!.batchStats[0]!.batchSize).toBe(4);
    expect(stats!.batchStats[0]!.computeInfer.count).toBe(1);
  });

  it('lists every READY version of every model, by name then version', async () => {
    const all = await harness.service.modelStatistics();
    expect(all.map((s) => `${s.name}/${s.version}`)).toEqual(['batched/1', 'plain/1', 'plain/2']);
    expect((await harness.service.modelStatistics('plain')).map((s) => s.version)).toEqual(['1', '2']);
  });

  it('answers an unknown model or version as metadata does', async () => {
    const codes = async (p: Promise<unknown>) => p.then(() => 'resolved', (err: { code: string }) => err.code);
    expect(await codes(harness.service.modelStatistics('nope'))).toBe(await codes(harness.service.modelMetadata('nope')));
    expect(await codes(harness.service.modelStatistics('plain', '9'))).toBe(await codes(harness.service.modelMetadata('plain', '9')));
    expect(await codes(harness.service.modelStatistics('plain', '9'))).toMatch(/NOT_FOUND/);
  });
});
