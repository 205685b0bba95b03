import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isSibylError } from '@sibyl/protocol';
import { buildOnnxModel } from '@sibyl/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecutionInstance } from './execution-instance.js';
import { createInlineInstance } from './inline-instance.js';
import { createInstancePool } from './instance-pool.js';
import { defaultSessionSettings } from './session-settings.js';
import { tempDir } from './test-support/service-harness.js';
import { createThreadInstance } from './thread-instance.js';
import type { WireTensor } from './wire.js';

const N = 384;
const feeds = (v = 1): WireTensor[] => [{ name: 'x', type: 'float32', dims: [N, N], data: new Float32Array(N * N).fill(v) }];

describe('instance pool over real execution instances', () => {
  let dir: { dir: string; cleanup: () => Promise<void> };
  let modelPath: string;

  beforeAll(async () => {
    dir = await tempDir();
    modelPath = join(dir.dir, 'matmul.onnx');
    const w = new Float32Array(N * N).fill(1 / N);
    await writeFile(
      modelPath,
      buildOnnxModel({
        name: 'matmul',
        inputs: [{ name: 'x', datatype: 'FP32', shape: [N, N] }],
        outputs: [{ name: 'y', datatype: 'FP32', shape: [N, N] }],
        initializers: [{ name: 'w', datatype: 'FP32', dims: [N, N], values: w }],
        nodes: [
          { op: 'MatMul', inputs: ['x', 'w'], outputs: ['h'] },
          { op: 'MatMul', inputs: ['h', 'w'], outputs: ['y'] },
        ],
      }),
    );
  });

  afterAll(async () => {
    await dir?.cleanup();
  });

  const threads = (count: number) =>
    Promise.all(Array.from({ length: count }, () => createThreadInstance({ modelPath, settings: defaultSessionSettings('thread') })));

  it('hands concurrent requests to idle instances at once, and queues only when all are busy', async () => {
    const pool = createInstancePool(await threads(2), { model: 'matmul', version: '1', pipelineDepth: 1 });
    const a = pool.run(feeds(1), ['y']);
    const b = pool.run(feeds(2), ['y']);
    expect(pool.queued).toBe(0);
    const c = pool.run(feeds(3), ['y']);
    expect(pool.queued).toBe(1);
    const results = await Promise.all([a, b, c]);
    expect(results.map((r) => (r.outputs[0]!.data as Float32Array)[0])).toEqual([1, 2, 3].map((v) => expect.closeTo(v, 4)));
    for (const r of results) expect(r.computeUs).toBeGreaterThan(0);
    expect(pool.queued).toBe(0);
    await pool.close();
  });

  it('by default posts the next run to a busy thread instance, so a thread never waits for the event loop between runs', async () => {
    const pool = createInstancePool(await threads(1), { model: 'matmul', version: '1' });
    const runs = [1, 2, 3].map((v) => pool.run(feeds(v), ['y']));
    // One computing, one posted behind it, one in the pool's queue.
    expect(pool.queued).toBe(1);
    const results = await Promise.all(runs);
    expect(results.map((r) => (r.outputs[0]!.data as Float32Array)[0])).toEqual([1, 2, 3].map((v) => expect.closeTo(v, 4)));
    expect(pool.queued).toBe(0);
    await pool.close();
  });

  it('with one instance, a second concurrent request waits in the queue', async () => {
    const pool = createInstancePool(await threads(1), { model: 'matmul', version: '1', pipelineDepth: 1 });
    const a = pool.run(feeds(), ['y']);
    const b = pool.run(feeds(), ['y']);
    expect(pool.queued).toBe(1);
    await Promise.all([a, b]);
    await pool.close();
  });

  it('never queues on an inline instance: concurrent requests all run, a past deadline still refuses', async () => {
    const pool = createInstancePool([await createInlineInstance(modelPath, defaultSessionSettings('inline'))], { model: 'matmul', version: '1', pipelineDepth: 1 });
    const late = pool.run(feeds(9), ['y'], { deadlineMs: Date.now() - 1 });
    const runs = [1, 2, 3, 4].map((v) => pool.run(feeds(v), ['y']));
    expect(pool.queued).toBe(0);
    await expect(late).rejects.toMatchObject({ code: 'SIBYL_DEADLINE_EXCEEDED' });
    const results = await Promise.all(runs);
    expect(results.map((r) => (r.outputs[0]!.data as Float32Array)[0])).toEqual([1, 2, 3, 4].map((v) => expect.closeTo(v, 4)));
    // The refused request did not take the instance out of service.
    const after = await pool.run(feeds(5), ['y']);
    expect((after.outputs[0]!.data as Float32Array)[0]).toBeCloseTo(5, 4);
    await pool.close();
  });

  it('close() rejects queued requests as not ready and ends the instances', async () => {
    const instances = await threads(1);
    const pool = createInstancePool(instances, { model: 'matmul', version: '1', pipelineDepth: 1 });
    const running = pool.run(feeds(), ['y']);
    const queued = pool.run(feeds(), ['y']);
    const closing = pool.close();
    const outcome = await queued.then(() => 'ran', (e: unknown) => (isSibylError(e) ? e.code : String(e)));
    expect(outcome).toBe('SIBYL_MODEL_NOT_READY');
    await running.catch(() => undefined);
    await closing;
    await expect(instances[0]!.run(feeds(), ['y'])).rejects.toThrow('the worker thread is stopped');
    await expect(pool.run(feeds(), ['y'])).rejects.toMatchObject({ code: 'SIBYL_MODEL_NOT_READY' });
  });

  it('an instance removed after it stopped leaves the others serving; with none left, queued requests fail', async () => {
    const instances = await threads(2);
    const pool = createInstancePool(instances, { model: 'matmul', version: '1', pipelineDepth: 1 });
    pool.remove(instances[0]!, 'worker thread exited with code 1');
    expect(pool.size).toBe(1);
    const served = await pool.run(feeds(5), ['y']);
    expect((served.outputs[0]!.data as Float32Array)[0]).toBeCloseTo(5, 4);

    const busy = pool.run(feeds(), ['y']);
    const queued = pool.run(feeds(), ['y']).then(() => 'ran', (e: unknown) => (isSibylError(e) ? e.message : String(e)));
    pool.remove(instances[1]!, 'worker thread error: boom');
    expect(await queued).toBe("model 'matmul' version 1: execution instance stopped: worker thread error: boom");
    await busy.catch(() => undefined);
    await expect(pool.run(feeds(), ['y'])).rejects.toMatchObject({
      code: 'SIBYL_MODEL_NOT_READY',
      message: "model 'matmul' version 1 is not ready: worker thread error: boom",
    });
    await Promise.all(instances.map((i) => i.close()));
  });

  it('inline and thread instances describe the model the same way', async () => {
    const [thread] = await threads(1);
    const inline: ExecutionInstance = await createInlineInstance(modelPath, defaultSessionSettings('inline'));
    expect(thread!.info).toEqual(inline.info);
    expect(inline.info).toEqual({
      inputs: [{ name: 'x', isTensor: true, type: 'float32', shape: [N, N] }],
      outputs: [{ name: 'y', isTensor: true, type: 'float32', shape: [N, N] }],
    });
    await Promise.all([thread!.close(), inline.close()]);
    await expect(inline.run(feeds(), ['y'])).rejects.toThrow('closed');
  });

  it('a thread instance rejects a model file onnxruntime cannot load, with its reason', async () => {
    const bad = join(dir.dir, 'bad.onnx');
    await writeFile(bad, new Uint8Array([1, 2, 3, 4]));
    await expect(createThreadInstance({ modelPath: bad, settings: defaultSessionSettings('thread') })).rejects.toThrow(/bad\.onnx failed:Protobuf parsing failed/);
  });
});
