/**
 * The TensorFlow.js engine in @sibyl/runtime's data plane: a model repository served by the same
 * local inference service as ONNX models (loader, instance pool, dynamic batcher), with real
 * TensorFlow.js on worker threads.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, createMetrics } from '@sibyl/observability';
import { isSibylError, type InferRequest } from '@sibyl/protocol';
import { createDirectorySource, createLocalInferenceService, onnxEngine, type LocalInferenceService } from '@sibyl/runtime';
import { createTfEngine, type TfEngine } from './tf-engine.js';
import { datatypesModelJson, matmulModelJson, writeModelVersion } from './test-support/graph-model.js';

const EXAMPLES = fileURLToPath(new URL('../../../examples/models/', import.meta.url));
const IRIS_CSV = fileURLToPath(new URL('../../../examples/data/iris.csv', import.meta.url));
const MATMUL_N = 1024;
const quiet = createLogger({ destination: new Writable({ write: (_c, _e, cb) => cb() }) });

let repo: string;
let engine: TfEngine;
let service: LocalInferenceService;

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return isSibylError(err) ? err.code : `not a SibylError: ${String(err)}`;
  }
  return 'resolved';
}

beforeAll(async () => {
  repo = await mkdtemp(join(tmpdir(), 'sibyl-tf-'));
  await cp(join(EXAMPLES, 'iris_tf'), join(repo, 'iris_tf'), { recursive: true });
  await writeModelVersion(repo, 'datatypes', 1, { 'model.json': datatypesModelJson() });
  await writeModelVersion(repo, 'matmul', 1, { 'model.json': matmulModelJson(MATMUL_N) });
  await writeModelVersion(repo, 'broken', 1, { 'model.json': '{"format":"layers-model"' });
  // Dynamic batching on a TF.js model: the same batcher as for ONNX models.
  await writeModelVersion(repo, 'batched', 1, { 'model.json': datatypesModelJson() });
  await writeFile(join(repo, 'batched', 'config.json'), JSON.stringify({ max_batch_size: 8, dynamic_batching: { max_queue_delay_microseconds: 20_000 } }));
  engine = createTfEngine();
  service = createLocalInferenceService({
    source: createDirectorySource([repo], quiet),
    strictReadiness: false,
    logger: quiet,
    metrics: createMetrics({ processMetrics: false }),
    serverVersion: '0.0.0-test',
    extensions: [],
    engines: [onnxEngine, engine],
  });
  await service.load();
}, 60_000);

afterAll(async () => {
  await service?.close();
  if (repo !== undefined) await rm(repo, { recursive: true, force: true });
});

describe('TF.js runtime: metadata', () => {
  it('derives a graph model\'s metadata from its signature, with the batch dimension -1', async () => {
    expect(await service.modelMetadata('datatypes')).toEqual({
      name: 'datatypes',
      versions: ['1'],
      platform: 'tensorflowjs_graph',
      inputs: [
        { name: 'x_fp32', datatype: 'FP32', shape: [-1, 3] },
        { name: 'x_int32', datatype: 'INT32', shape: [-1, 3] },
        { name: 'x_bool', datatype: 'BOOL', shape: [-1, 3] },
      ],
      outputs: [
        { name: 'y_fp32', datatype: 'FP32', shape: [-1, 3] },
        { name: 'y_int32', datatype: 'INT32', shape: [-1, 3] },
        { name: 'y_bool', datatype: 'BOOL', shape: [-1, 3] },
      ],
    });
  });

  it("derives a layers model's metadata from its input and output layers", async () => {
    expect(await service.modelMetadata('iris_tf', '1')).toEqual({
      name: 'iris_tf',
      versions: ['1'],
      platform: 'tensorflowjs_layers',
      inputs: [{ name: 'measurements', datatype: 'FP32', shape: [-1, 4] }],
      outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 3] }],
    });
  });

  it('lists a version that cannot load as UNAVAILABLE with why, and serves the others', async () => {
    const index = await service.repositoryIndex();
    expect(index.filter((e) => e.state === 'READY').map((e) => e.name).sort()).toEqual(['batched', 'datatypes', 'iris_tf', 'matmul']);
    const broken = index.find((e) => e.name === 'broken')!;
    expect(broken.state).toBe('UNAVAILABLE');
    expect(broken.reason).toMatch(/TensorFlow\.js cannot load/);
    expect(await service.modelReady('broken')).toBe(false);
    expect(await codeOf(service.modelMetadata('broken'))).toBe('SIBYL_MODEL_NOT_READY');
    expect(await codeOf(service.modelMetadata('nope'))).toBe('SIBYL_MODEL_NOT_FOUND');
  });

  it('runs on the WASM backend here (no native binding installed)', () => {
    expect(engine.tfBackend).toBe('wasm');
    expect(engine.description).toBe('TensorFlow.js (wasm)');
    expect(engine.runningBackends()).toEqual(['wasm']);
    return service.serverMetadata().then((m) => expect(m.runtimes).toEqual(['onnxruntime-node (CPU)', 'TensorFlow.js (wasm)']));
  });
});

describe('TF.js runtime: infer', () => {
  const datatypesRequest = (batch: number): InferRequest => ({
    modelName: 'datatypes',
    inputs: [
      { name: 'x_fp32', datatype: 'FP32', shape: [batch, 3], data: Float32Array.from({ length: batch * 3 }, (_, i) => i + 0.25) },
      { name: 'x_int32', datatype: 'INT32', shape: [batch, 3], data: Int32Array.from({ length: batch * 3 }, (_, i) => i - 2_000_000_000 * (i % 2)) },
      { name: 'x_bool', datatype: 'BOOL', shape: [batch, 3], data: Uint8Array.from({ length: batch * 3 }, (_, i) => i % 2) },
    ],
  });

  it('computes FP32, INT32 and BOOL outputs exactly, as typed arrays', async () => {
    const response = await service.infer({ ...datatypesRequest(2), id: 'r1' });
    expect(response.modelVersion).toBe('1');
    expect(response.id).toBe('r1');
    const out = Object.fromEntries(response.outputs.map((o) => [o.name, o]));
    expect(out['y_fp32']).toEqual({ name: 'y_fp32', datatype: 'FP32', shape: [2, 3], data: new Float32Array([-0.25, -1.25, -2.25, -3.25, -4.25, -5.25]) });
    // int32 wraps on overflow, as TensorFlow does: -2e9 * 2 = -4e9 ≡ 294967296 (mod 2^32).
    expect(out['y_int32']).toEqual({ name: 'y_int32', datatype: 'INT32', shape: [2, 3], data: new Int32Array([0, 294967298, 4, 294967302, 8, 294967306]) });
    expect(out['y_bool']).toEqual({ name: 'y_bool', datatype: 'BOOL', shape: [2, 3], data: new Uint8Array([1, 0, 1, 0, 1, 0]) });
  });

  it('returns only the outputs asked for, in that order', async () => {
    const response = await service.infer({ ...datatypesRequest(1), outputs: [{ name: 'y_bool' }, { name: 'y_fp32' }] });
    expect(response.outputs.map((o) => o.name)).toEqual(['y_bool', 'y_fp32']);
  });

  it('moves inputs to the model thread: the caller\'s buffers are transferred', async () => {
    const request = datatypesRequest(1);
    const data = request.inputs[0]!.data as Float32Array;
    await service.infer(request);
    expect(data.byteLength).toBe(0);
  });

  it('validates requests against metadata before they reach a thread', async () => {
    const wrongType = datatypesRequest(1);
    wrongType.inputs[1] = { name: 'x_int32', datatype: 'FP32', shape: [1, 3], data: new Float32Array(3) };
    expect(await codeOf(service.infer(wrongType))).toBe('SIBYL_INPUT_DATATYPE_MISMATCH');
    const missing = datatypesRequest(1);
    missing.inputs.pop();
    expect(await codeOf(service.infer(missing))).toBe('SIBYL_INPUT_MISSING');
    expect(await codeOf(service.infer(datatypesRequest(5)))).toBe('SIBYL_BATCH_TOO_LARGE');
    expect(await codeOf(service.infer({ ...datatypesRequest(1), modelVersion: '9' }))).toBe('SIBYL_MODEL_VERSION_NOT_FOUND');
  });

  it('batches concurrent requests dynamically: each answer is what an unbatched run gives', async () => {
    const sizes = [1, 2, 3, 1, 2, 1];
    const expected = await Promise.all(sizes.map(async (n) => (await service.infer(datatypesRequest(n))).outputs));
    const before = (await service.modelStatistics('batched'))[0]!;
    const batched = await Promise.all(sizes.map((n) => service.infer({ ...datatypesRequest(n), modelName: 'batched' })));
    batched.forEach((r, i) => expect(r.outputs).toEqual(expected[i]));
    const after = (await service.modelStatistics('batched'))[0]!;
    expect(after.inferenceCount - before.inferenceCount).toBe(10);
    // Six requests waited up to 20 ms for each other: fewer executions than requests.
    expect(after.executionCount - before.executionCount).toBeLessThan(sizes.length);
    expect((await service.modelConfig('batched')).backend).toBe('tfjs');
  });

  it('predicts what TensorFlow.js predicts in-process for held-out iris rows', async () => {
    const lines = (await readFile(IRIS_CSV, 'utf8')).trim().split('\n').slice(1);
    // Held-out rows are every 5th (scripts/build-examples/iris.ts): one of each species and one more.
    const rows = [4, 54, 104, 149].map((i) => lines[i]!.split(',').slice(0, 4).map(Number));
    const input = new Float32Array(rows.flat());

    await tf.setBackend('wasm');
    const local = await tf.loadLayersModel(tf.io.fromMemory(await memoryArtifacts(join(EXAMPLES, 'iris_tf', '1'))));
    const expected = (local.predict(tf.tensor2d(rows)) as tf.Tensor).dataSync() as Float32Array;
    local.dispose();

    const response = await service.infer({ modelName: 'iris_tf', inputs: [{ name: 'measurements', datatype: 'FP32', shape: [4, 4], data: input }] });
    const output = response.outputs[0]!;
    expect(output.shape).toEqual([4, 3]);
    expect(output.data).toEqual(expected);
    const classes = [0, 1, 2, 3].map((r) => [0, 1, 2].reduce((best, c) => (expected[r * 3 + c]! > expected[r * 3 + best]! ? c : best), 0));
    expect(classes).toEqual([0, 1, 2, 2]);
  });

  it('answers examples/requests/iris_tf.json: a setosa and a virginica', async () => {
    const body = JSON.parse(await readFile(fileURLToPath(new URL('../../../examples/requests/iris_tf.json', import.meta.url)), 'utf8'));
    const input = body.inputs[0];
    const response = await service.infer({ modelName: 'iris_tf', inputs: [{ name: input.name, datatype: input.datatype, shape: input.shape, data: Float32Array.from(input.data.flat()) }] });
    const p = Array.from(response.outputs[0]!.data as Float32Array);
    expect(p.slice(0, 3).indexOf(Math.max(...p.slice(0, 3)))).toBe(0);
    expect(p.slice(3).indexOf(Math.max(...p.slice(3)))).toBe(2);
  });

  it('keeps the event loop free while a heavy model computes', async () => {
    const a = new Float32Array(MATMUL_N * MATMUL_N).fill(0.5);
    const b = new Float32Array(MATMUL_N * MATMUL_N).fill(2);
    let ticks = 0;
    let running = true;
    const tick = () => {
      ticks++;
      if (running) setImmediate(tick);
    };
    const pending = service.infer({
      modelName: 'matmul',
      inputs: [
        { name: 'a', datatype: 'FP32', shape: [MATMUL_N, MATMUL_N], data: a },
        { name: 'b', datatype: 'FP32', shape: [MATMUL_N, MATMUL_N], data: b },
      ],
    });
    setImmediate(tick);
    const response = await pending;
    running = false;
    // Each element is the sum of MATMUL_N products 0.5 · 2.
    expect((response.outputs[0]!.data as Float32Array)[0]).toBe(MATMUL_N);
    // Run on this thread, the multiply would hold the loop until it ended: one or two ticks at most.
    expect(ticks).toBeGreaterThan(100);
  });

  it('skips, on the thread, a run posted behind another once its deadline passed or its client left', async () => {
    const inputs = () => [
      { name: 'a', datatype: 'FP32' as const, shape: [MATMUL_N, MATMUL_N], data: new Float32Array(MATMUL_N * MATMUL_N).fill(0.5) },
      { name: 'b', datatype: 'FP32' as const, shape: [MATMUL_N, MATMUL_N], data: new Float32Array(MATMUL_N * MATMUL_N).fill(2) },
    ];
    const stats = async () => (await service.modelStatistics('matmul', '1'))[0]!;
    const before = (await stats()).executionCount;
    const first = service.infer({ modelName: 'matmul', inputs: inputs() });
    // Posted to the thread at once (its second slot), behind `first`: the deadline passes while it waits there.
    const late = codeOf(service.infer({ modelName: 'matmul', inputs: inputs() }, { deadlineMs: Date.now() + 1 }));
    const abort = new AbortController();
    const gone = codeOf(service.infer({ modelName: 'matmul', inputs: inputs() }, { signal: abort.signal }));
    abort.abort();
    await first;
    expect(await late).toBe('SIBYL_DEADLINE_EXCEEDED');
    expect(await gone).toBe('SIBYL_REQUEST_CANCELLED');
    expect((await stats()).executionCount).toBe(before + 1);
  });

  it('counts the time a run waits on the thread, behind the run before it, as queue time', async () => {
    const inputs = () => [
      { name: 'a', datatype: 'FP32' as const, shape: [MATMUL_N, MATMUL_N], data: new Float32Array(MATMUL_N * MATMUL_N).fill(0.5) },
      { name: 'b', datatype: 'FP32' as const, shape: [MATMUL_N, MATMUL_N], data: new Float32Array(MATMUL_N * MATMUL_N).fill(2) },
    ];
    const stats = async () => (await service.modelStatistics('matmul', '1'))[0]!.inferenceStats;
    const before = await stats();
    await Promise.all([service.infer({ modelName: 'matmul', inputs: inputs() }), service.infer({ modelName: 'matmul', inputs: inputs() })]);
    const after = await stats();
    const queueNs = after.queue.ns - before.queue.ns;
    const computeNs = after.computeInfer.ns - before.computeInfer.ns;
    // The second waited on the thread for about the first's compute, half of the two runs' compute.
    expect(queueNs).toBeGreaterThan((0.4 * computeNs) / 2);
    expect(queueNs + computeNs).toBeLessThanOrEqual(after.success.ns - before.success.ns);
  });
});

async function memoryArtifacts(dir: string): Promise<tf.io.ModelArtifacts> {
  const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
  const weights = await readFile(join(dir, 'weights.bin'));
  return {
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest[0]!.weights,
    weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer,
  };
}
