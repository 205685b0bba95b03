/**
 * The dynamic batching section: one MLP served by the all-in-one twice, from a repository of its own,
 * as `mlp` (no dynamic_batching) and `mlp_batched` (dynamic_batching, preferred sizes 16/32/64, 2 ms
 * queue delay), both max_batch_size 64, each driven with batch-1 REST binary requests at concurrency 64.
 * The batch's compute time comes from the server's metrics over the run (see batchComputeUs), with an
 * in-process session.run of a batch of 64 beside it.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import ort from 'onnxruntime-node';
import { buildOnnxModel, type InitializerSpec, type NodeSpec } from '@sibyl/testkit';
import type { BenchConfig } from './config.js';
import type { LoadResult, LoadSpec, TensorCase } from './load-spec.js';
import { SERVER_NODE_FLAGS, SIBYL_MAIN } from './paths.js';
import { runLoad, startServer, type RunningServer } from './processes.js';
import { metricsDelta, scrapeCounters, type BatchingCell, type BatchingSection } from './sections.js';

/** The MLP's defaults (BENCH_BATCHING_WIDTH, BENCH_BATCHING_LAYERS override width and layers). */
/**
 * A model whose batch-1 run costs about a millisecond here (a small CNN on CPU): where batching is used.
 * At 256x4 (40 us a row) HTTP, not compute, bounded both cells, and the section measured the transport.
 */
export const MLP_DEFAULT: Readonly<Mlp> = Object.freeze({ width: 1024, layers: 8, outputs: 16, maxBatchSize: 64 });
type Mlp = { width: number; layers: number; outputs: number; maxBatchSize: number };
export const BATCHING_CONCURRENCY = 64;
/**
 * Triton's advice: no preferred_batch_size unless the model is much faster at some sizes. With [16, 32,
 * 64] a queue of 33 at c=64 ran 32 and left one request for the batch after next, which doubled p99.
 */
export const DYNAMIC_BATCHING: Readonly<{ preferred_batch_size: readonly number[]; max_queue_delay_microseconds: number }> = Object.freeze({
  preferred_batch_size: [],
  max_queue_delay_microseconds: 2000,
});
const MODELS = { off: 'mlp', on: 'mlp_batched' } as const;

/** Deterministic values in [-scale, scale). */
function pseudoRandom(n: number, seed: number, scale: number): Float32Array {
  const out = new Float32Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = ((x >>> 0) / 2 ** 32 - 0.5) * 2 * scale;
  }
  return out;
}

/** x FP32 [batch, width] -> `layers` x (MatMul [width, width], Add, Relu) -> MatMul [width, outputs] -> y FP32 [batch, outputs]. */
export function buildMlp(width = MLP_DEFAULT.width, layers = MLP_DEFAULT.layers, outputs = MLP_DEFAULT.outputs): Uint8Array {
  const initializers: InitializerSpec[] = [];
  const nodes: NodeSpec[] = [];
  let prev = 'x';
  // Weights scaled by 1/sqrt(width) keep activations near 1 however deep the stack is.
  const scale = Math.sqrt(3 / width);
  for (let l = 0; l < layers; l++) {
    initializers.push({ name: `W${l}`, datatype: 'FP32', dims: [width, width], values: pseudoRandom(width * width, 17 + l, scale) });
    initializers.push({ name: `B${l}`, datatype: 'FP32', dims: [width], values: pseudoRandom(width, 101 + l, 0.1) });
    nodes.push({ op: 'MatMul', inputs: [prev, `W${l}`], outputs: [`m${l}`] });
    nodes.push({ op: 'Add', inputs: [`m${l}`, `B${l}`], outputs: [`a${l}`] });
    nodes.push({ op: 'Relu', inputs: [`a${l}`], outputs: [`h${l}`] });
    prev = `h${l}`;
  }
  initializers.push({ name: 'Wout', datatype: 'FP32', dims: [width, outputs], values: pseudoRandom(width * outputs, 999, scale) });
  nodes.push({ op: 'MatMul', inputs: [prev, 'Wout'], outputs: ['y'] });
  return buildOnnxModel({
    name: 'mlp',
    inputs: [{ name: 'x', datatype: 'FP32', shape: ['batch', width] }],
    outputs: [{ name: 'y', datatype: 'FP32', shape: ['batch', outputs] }],
    initializers,
    nodes,
  });
}

/** The Triton config.json of either model. */
export function mlpConfig(batching: boolean, mlp: Mlp = MLP_DEFAULT): object {
  return {
    max_batch_size: mlp.maxBatchSize,
    input: [{ name: 'x', data_type: 'TYPE_FP32', dims: [mlp.width] }],
    output: [{ name: 'y', data_type: 'TYPE_FP32', dims: [mlp.outputs] }],
    ...(batching
      ? {
          dynamic_batching: {
            ...(DYNAMIC_BATCHING.preferred_batch_size.length > 0 ? { preferred_batch_size: [...DYNAMIC_BATCHING.preferred_batch_size] } : {}),
            max_queue_delay_microseconds: DYNAMIC_BATCHING.max_queue_delay_microseconds,
          },
        }
      : {}),
  };
}

function writeRepository(mlp: Mlp): { repository: string; modelPath: string } {
  const repository = mkdtempSync(join(tmpdir(), 'sibyl-bench-batching-'));
  const bytes = buildMlp(mlp.width, mlp.layers, mlp.outputs);
  for (const [variant, name] of Object.entries(MODELS)) {
    mkdirSync(join(repository, name, '1'), { recursive: true });
    writeFileSync(join(repository, name, '1/model.onnx'), bytes);
    writeFileSync(join(repository, name, 'config.json'), `${JSON.stringify(mlpConfig(variant === 'on', mlp), null, 2)}\n`);
  }
  return { repository, modelPath: join(repository, MODELS.off, '1/model.onnx') };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The sample row's expected output, and the median in-process session.run time of a batch of 1 and of 64 (us). */
async function inProcess(mlp: Mlp, modelPath: string, row: Float32Array): Promise<{ expected: number[]; batch1Us: number; batch64Us: number }> {
  const session = await ort.InferenceSession.create(modelPath);
  try {
    const one = { x: new ort.Tensor('float32', row, [1, mlp.width]) };
    const rows = new Float32Array(mlp.width * mlp.maxBatchSize);
    for (let i = 0; i < mlp.maxBatchSize; i++) rows.set(row, i * mlp.width);
    const many = { x: new ort.Tensor('float32', rows, [mlp.maxBatchSize, mlp.width]) };
    const expected = Array.from((await session.run(one)).y!.data as Float32Array);
    const time = async (feeds: Record<string, ort.Tensor>, n: number) => {
      for (let i = 0; i < 5; i++) await session.run(feeds);
      const t: number[] = [];
      for (let i = 0; i < n; i++) {
        const s = performance.now();
        await session.run(feeds);
        t.push((performance.now() - s) * 1000);
      }
      return Math.round(median(t) * 10) / 10;
    };
    return { expected, batch1Us: await time(one, 200), batch64Us: await time(many, 30) };
  } finally {
    await session.release();
  }
}

export interface BatchingOptions {
  config: BenchConfig;
  stateVariables: readonly string[];
  generatorTimeoutMs: (seconds: number, warmupSeconds: number) => number;
  log: (line: string) => void;
}

/** Runs the section; never throws (a failure is recorded in the section). */
export async function runBatching(o: BatchingOptions): Promise<BatchingSection> {
  const { config, log } = o;
  const mlp: Mlp = { ...MLP_DEFAULT, width: config.batchingWidth, layers: config.batchingLayers };
  const base: Omit<BatchingSection, 'cells'> = {
    model: { ...mlp, description: `MLP: ${mlp.layers} x (MatMul ${mlp.width}x${mlp.width}, Add, Relu), MatMul ${mlp.width}x${mlp.outputs}` },
    dynamicBatching: { preferred_batch_size: [...DYNAMIC_BATCHING.preferred_batch_size], max_queue_delay_microseconds: DYNAMIC_BATCHING.max_queue_delay_microseconds },
    concurrency: BATCHING_CONCURRENCY,
  };
  const { repository, modelPath } = writeRepository(mlp);
  const dataDir = mkdtempSync(join(tmpdir(), 'sibyl-bench-batching-data-'));
  let server: RunningServer | null = null;
  try {
    const row = Float32Array.from({ length: mlp.width }, (_, i) => Math.sin(i + 1));
    const floor = await inProcess(mlp, modelPath, row);
    log(`batching: in-process session.run, batch 1 ${floor.batch1Us} us, batch ${mlp.maxBatchSize} ${floor.batch64Us} us (median)`);
    const env = { ...process.env };
    for (const v of o.stateVariables) delete env[v];
    server = await startServer({
      name: 'sibyl-batching',
      command: process.execPath,
      // A data directory of its own: the default one is the iris server's (and a running `npm start`'s).
      args: [...SERVER_NODE_FLAGS, SIBYL_MAIN, '--model-repository', repository, '--data-dir', dataDir, '--http-port', '0', '--grpc-port', '0', '--metrics-port', '0', '--management-port', '0', '--log-format', 'json'],
      listeners: ['http', 'metrics'],
      timeoutMs: config.startTimeoutSeconds * 1000,
      env,
    });
    const http = `http://127.0.0.1:${server.ports.http}`;
    const metricsUrl = `http://127.0.0.1:${server.ports.metrics}/metrics`;
    for (const name of Object.values(MODELS)) {
      const res = await fetch(`${http}/v2/models/${name}/ready`);
      if (res.status !== 200) throw new Error(`GET /v2/models/${name}/ready answered ${res.status} after the ready line`);
    }
    const tensor: TensorCase = { input: 'x', shape: [1, mlp.width], data: Array.from(row), output: 'y', outputShape: [1, mlp.outputs], expected: floor.expected, tolerance: 1e-4 };
    const cells: BatchingCell[] = [];
    for (const variant of ['off', 'on'] as const) {
      const model = MODELS[variant];
      const spec: LoadSpec = {
        workload: 'tensor-binary',
        address: http,
        model,
        plan: { kind: 'duration', concurrency: BATCHING_CONCURRENCY, warmupSeconds: config.warmupSeconds, seconds: config.seconds },
        tensor,
        serverPids: [server.pid],
      };
      const cell: BatchingCell = { variant, model, result: null };
      try {
        const before = await scrapeCounters(metricsUrl, model);
        const result: LoadResult = await runLoad(spec, o.generatorTimeoutMs(config.seconds, config.warmupSeconds));
        const after = await scrapeCounters(metricsUrl, model);
        cell.result = result;
        cell.metrics = metricsDelta(before, after);
        if (result.errors > 0) cell.error = `${result.errors} failed requests: ${result.firstError}`;
        const m = cell.metrics;
        log(
          `batching ${variant === 'on' ? 'on ' : 'off'} (${model}), c=${BATCHING_CONCURRENCY}: ${Math.round(result.requestsPerSecond)} req/s, p50 ${result.latency.p50Us} us, p99 ${result.latency.p99Us} us` +
            (m !== null ? `; ${m.executions} executions, mean batch ${m.meanBatch}, compute ${m.computeUsPerRequest} us/request` : '') +
            (cell.error !== undefined ? `; ERROR ${cell.error}` : ''),
        );
      } catch (err) {
        cell.error = err instanceof Error ? err.message : String(err);
        if (!server.alive()) cell.error += `\nthe server has exited; its last output:\n${server.lastOutput()}`;
        log(`batching ${variant}: ERROR ${cell.error}`);
      }
      cells.push(cell);
    }
    return { ...base, inProcess: { batch1Us: floor.batch1Us, batch64Us: floor.batch64Us }, server: { pid: server.pid }, cells };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    log(`batching: ERROR ${message}`);
    return { ...base, cells: [], error: message };
  } finally {
    await server?.stop();
    rmSync(repository, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  }
}
