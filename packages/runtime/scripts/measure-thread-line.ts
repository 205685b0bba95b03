/**
 * Where should a model leave the main thread? Measures inline vs thread execution for MatMul models
 * of growing compute, with the runtime's own execution instances, and prints one row per size:
 *
 * - compute: mean session.run time, as the load-time warm-up measures it (the `auto` rule's input);
 * - latency: mean per-request time as the caller sees it, requests back to back on one instance;
 * - req/s: the throughput of that one instance;
 * - loop p99 / max: gaps of a setImmediate probe on the main event loop meanwhile, i.e. how long
 *   other work (HTTP parsing, other models' requests) waits behind this model.
 *
 * Run from the repository root: `node --import tsx packages/runtime/scripts/measure-thread-line.ts`
 * (no build needed). The figures and the rule they led to are recorded in src/execution-mode.ts.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// A dev script: the model builder is imported from its sources so no build is needed.
import { buildOnnxModel } from '../../testkit/src/onnx-builder.js';
import type { ExecutionInstance } from '../src/execution-instance.js';
import { createInlineInstance } from '../src/inline-instance.js';
import { defaultSessionSettings } from '../src/session-settings.js';
import { createThreadInstance } from '../src/thread-instance.js';
import type { WireTensor } from '../src/wire.js';

const SIZES = (process.env['SIZES'] ?? '8,32,64,96,128,192,256,384,512').split(',').map(Number);
const SECONDS = Number(process.env['SECONDS'] ?? '1.5');

function matmulModel(n: number): Uint8Array {
  const weights = new Float32Array(n * n);
  for (let i = 0; i < weights.length; i++) weights[i] = ((i * 7919) % 1000) / 1000 - 0.5;
  return buildOnnxModel({
    name: `matmul${n}`,
    inputs: [{ name: 'x', datatype: 'FP32', shape: ['batch', n] }],
    outputs: [{ name: 'y', datatype: 'FP32', shape: ['batch', n] }],
    initializers: [{ name: 'w', datatype: 'FP32', dims: [n, n], values: weights }],
    nodes: [{ op: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] }],
  });
}

const inputs = new Map<number, Float32Array>();

/** A fresh input per request (a thread instance takes its buffer): a memcpy of one built once. */
function feed(n: number): WireTensor[] {
  let x = inputs.get(n);
  if (x === undefined) {
    x = new Float32Array(n * n);
    for (let i = 0; i < x.length; i++) x[i] = (i % 13) / 13;
    inputs.set(n, x);
  }
  return [{ name: 'x', type: 'float32', dims: [n, n], data: x.slice() }];
}

/** Gaps between consecutive setImmediate callbacks while `work` runs, in microseconds. */
async function probeLoop<T>(work: () => Promise<T>): Promise<{ result: T; p99: number; max: number }> {
  const gaps: number[] = [];
  let running = true;
  let last = performance.now();
  const tick = () => {
    const now = performance.now();
    gaps.push((now - last) * 1000);
    last = now;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  const result = await work();
  running = false;
  gaps.sort((a, b) => a - b);
  return { result, p99: gaps[Math.floor(gaps.length * 0.99)] ?? 0, max: gaps[gaps.length - 1] ?? 0 };
}

async function backToBack(instance: ExecutionInstance, n: number) {
  let count = 0;
  let computeUs = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < SECONDS * 1000) {
    const r = await instance.run(feed(n), ['y']);
    computeUs += r.computeUs;
    count++;
  }
  const elapsedUs = (performance.now() - t0) * 1000;
  return { computeUs: computeUs / count, latencyUs: elapsedUs / count, rps: (count * 1e6) / elapsedUs };
}

async function measure(instance: ExecutionInstance, n: number) {
  for (let i = 0; i < 20; i++) await instance.run(feed(n), ['y']);
  // Requests back to back, one at a time, as the pool hands them to one instance.
  const timing = await backToBack(instance, n);
  // The same again with a probe on the loop (the probe spins a core, so it is kept out of the timings).
  const probe = await probeLoop(() => backToBack(instance, n));
  return { ...timing, loopP99: probe.p99, loopMax: probe.max };
}

const dir = await mkdtemp(join(tmpdir(), 'sibyl-measure-'));
const fmt = (v: number) => v.toFixed(0).padStart(8);
console.log(`node ${process.version}, ${SECONDS}s per phase; times in microseconds`);
console.log('    n | mode   |  compute |  latency |    req/s | loop p99 | loop max');
try {
  for (const n of SIZES) {
    const path = join(dir, `matmul${n}.onnx`);
    await writeFile(path, matmulModel(n));
    for (const kind of ['inline', 'thread'] as const) {
      const settings = defaultSessionSettings(kind);
      const instance =
        kind === 'inline' ? await createInlineInstance(path, settings) : await createThreadInstance({ modelPath: path, settings });
      const m = await measure(instance, n);
      await instance.close();
      console.log(
        `${String(n).padStart(5)} | ${kind.padEnd(6)} | ${fmt(m.computeUs)} | ${fmt(m.latencyUs)} | ${fmt(m.rps)} | ${fmt(m.loopP99)} | ${fmt(m.loopMax)}`,
      );
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
