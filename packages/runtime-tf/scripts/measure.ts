/**
 * TF worker throughput against raw TensorFlow.js: requests per second of the runtime's infer
 * (validation, transfer to a model thread and back) on examples/models/iris_tf, against
 * `model.predict` + `data()` in this process on the same backend, both at CONCURRENCY requests in
 * flight with one row each. The target: runtime ≥ 0.8 × raw.
 *
 * Run from the repository root: `node --import tsx packages/runtime-tf/scripts/measure.ts`
 * (no build needed). Environment: SECONDS (per measurement, default 3), CONCURRENCY (16),
 * THREADS (model threads, comma-separated list to measure, default "1,2").
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { createTfInferenceService } from '../src/index.js';

const SECONDS = Number(process.env['SECONDS'] ?? '3');
const CONCURRENCY = Number(process.env['CONCURRENCY'] ?? '16');
const THREADS = (process.env['THREADS'] ?? '1,2').split(',').map(Number);
const REPO = fileURLToPath(new URL('../../../examples/models/', import.meta.url));
const ROW = [5.9, 3.0, 5.1, 1.8];

/** Completed calls per second of CONCURRENCY loops each calling `call` back to back for SECONDS. */
async function throughput(call: () => Promise<unknown>): Promise<number> {
  const end = performance.now() + SECONDS * 1000;
  let done = 0;
  const loop = async () => {
    while (performance.now() < end) {
      await call();
      done++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, loop));
  return done / ((performance.now() - started) / 1000);
}

async function rawPredict(): Promise<number> {
  await tf.setBackend('wasm');
  await tf.ready();
  const dir = join(REPO, 'iris_tf', '1');
  const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
  const weights = await readFile(join(dir, 'weights.bin'));
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0]!.weights, weightData: new Uint8Array(weights).buffer }),
  );
  const call = async () => {
    const x = tf.tensor2d(ROW, [1, 4]);
    const y = model.predict(x) as tf.Tensor;
    await y.data();
    tf.dispose([x, y]);
  };
  for (let i = 0; i < 1000; i++) await call();
  const rate = await throughput(call);
  model.dispose();
  return rate;
}

async function runtimeInfer(threads: number): Promise<{ rate: number; backend: string }> {
  const service = createTfInferenceService({ repository: REPO, threadsPerVersion: threads, serverVersion: 'measure', extensions: [] });
  await service.load();
  const call = () => service.infer({ modelName: 'iris_tf', inputs: [{ name: 'measurements', datatype: 'FP32', shape: [1, 4], data: new Float32Array(ROW) }] });
  for (let i = 0; i < 1000; i++) await call();
  const rate = await throughput(call);
  const backend = service.loadedBackends().join(',');
  await service.close();
  return { rate, backend };
}

const raw = await rawPredict();
console.log(`raw tfjs predict (wasm, in-process), concurrency ${CONCURRENCY}: ${Math.round(raw)} req/s`);
for (const threads of THREADS) {
  const { rate, backend } = await runtimeInfer(threads);
  console.log(`runtime-tf infer (${backend}, ${threads} thread(s)), concurrency ${CONCURRENCY}: ${Math.round(rate)} req/s = ${(rate / raw).toFixed(2)}x raw`);
}
