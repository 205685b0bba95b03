/**
 * The cache churn section: CHURN_MODELS small ONNX models (distinct weights, ~1 MiB each) in a
 * repository of their own, imported by management into a scratch registry, served by one ONNX worker
 * whose --model-cache-bytes holds about CHURN_FIT of them; requests pick a model by a Zipf law
 * (exponent CHURN_ZIPF_S, rank 1 the most requested), so the tail keeps evicting.
 *
 * The budget is measured, not guessed: the model cache charges a model what the process grew by while
 * it loaded (at least its file size). A calibration worker with a large budget loads one model (charged
 * onnxruntime's own start-up too), then CHURN_CALIBRATION_MODELS more; their mean charge
 * (the growth of sibyl_model_cache_bytes over them) times CHURN_FIT is the churn worker's budget. Requests go straight to the worker's REST (no gateway).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import ort from 'onnxruntime-node';
import { buildOnnxModel } from '@sibyl/testkit';
import type { BenchConfig } from './config.js';
import type { LoadSpec } from './load-spec.js';
import { SERVER_NODE_FLAGS, SPLIT_MAIN } from './paths.js';
import { runLoad, startServer, type RunningServer } from './processes.js';
import { churnModelName, histogramQuantile, parseGauges, parseHistogram, zipfTopShare, type ChurnSection } from './sections.js';
import { createScratchDatabase, type ScratchDatabase } from './split-state.js';

export const CHURN_MODELS = 200;
export const CHURN_FIT = 20;
export const CHURN_ZIPF_S = 1;
export const CHURN_CONCURRENCY = 16;
const CHURN_CALIBRATION_MODELS = 6;
const HOST = '127.0.0.1';
const HIDDEN = 512;

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

/** x FP32 [batch,8] -> MatMul [8,512] -> MatMul [512,512] -> MatMul [512,4] -> y FP32 [batch,4]; weights from `seed`. */
export function buildChurnModel(seed: number): Uint8Array {
  return buildOnnxModel({
    name: `churn_${seed}`,
    inputs: [{ name: 'x', datatype: 'FP32', shape: ['batch', 8] }],
    outputs: [{ name: 'y', datatype: 'FP32', shape: ['batch', 4] }],
    initializers: [
      { name: 'A', datatype: 'FP32', dims: [8, HIDDEN], values: pseudoRandom(8 * HIDDEN, seed * 3 + 1, 0.5) },
      { name: 'W', datatype: 'FP32', dims: [HIDDEN, HIDDEN], values: pseudoRandom(HIDDEN * HIDDEN, seed * 3 + 2, 0.08) },
      { name: 'V', datatype: 'FP32', dims: [HIDDEN, 4], values: pseudoRandom(HIDDEN * 4, seed * 3 + 3, 0.08) },
    ],
    nodes: [
      { op: 'MatMul', inputs: ['x', 'A'], outputs: ['h'] },
      { op: 'MatMul', inputs: ['h', 'W'], outputs: ['g'] },
      { op: 'MatMul', inputs: ['g', 'V'], outputs: ['y'] },
    ],
  });
}

export interface ChurnOptions {
  config: BenchConfig;
  databaseUrl: string;
  generatorTimeoutMs: (seconds: number, warmupSeconds: number) => number;
  log: (line: string) => void;
}

async function until(what: string, server: RunningServer, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await fetch(url, { signal: AbortSignal.timeout(2000) }).then((r) => r.status, () => 0);
    if (status === 200) return;
    if (!server.alive()) throw new Error(`${server.name} exited before ${what}; its last output:\n${server.lastOutput()}`);
    if (Date.now() > deadline) throw new Error(`${what}: not ready within ${timeoutMs / 1000} s (last status ${status})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function scrape(metricsPort: number): Promise<string> {
  const res = await fetch(`http://${HOST}:${metricsPort}/metrics`, { signal: AbortSignal.timeout(10_000) });
  return res.text();
}

const GAUGES = ['sibyl_model_cache_bytes', 'sibyl_model_cache_models', 'sibyl_model_cache_hits_total', 'sibyl_model_cache_misses_total', 'sibyl_model_cache_evictions_total', 'sibyl_model_cache_peak_bytes', 'sibyl_model_cache_peak_load_bytes'];

async function gauges(metricsPort: number): Promise<Record<string, number>> {
  return parseGauges(await scrape(metricsPort), GAUGES);
}

/** onnxruntime-node's InferenceSession.create of `file` in this process, `n` times after one unmeasured: p50 and p99, microseconds. */
async function sessionCreateUs(file: string, n: number): Promise<{ p50: number; p99: number }> {
  await (await ort.InferenceSession.create(file)).release();
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    const session = await ort.InferenceSession.create(file);
    times.push((performance.now() - started) * 1000);
    await session.release();
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => Math.round(times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)]! * 10) / 10;
  return { p50: at(0.5), p99: at(0.99) };
}

async function infer(port: number, model: string): Promise<void> {
  const res = await fetch(`http://${HOST}:${port}/v2/models/${model}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 8], data: [1, 2, 3, 4, 5, 6, 7, 8] }] }),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${model}: HTTP ${res.status} ${text.slice(0, 300)}`);
}

/** Runs the section; never throws (a failure is recorded in the section). */
export async function runChurn(o: ChurnOptions): Promise<ChurnSection> {
  const { config, log } = o;
  const section: ChurnSection = { models: CHURN_MODELS, fit: CHURN_FIT, zipfS: CHURN_ZIPF_S, concurrency: CHURN_CONCURRENCY, idealHitRate: Math.round(zipfTopShare(CHURN_MODELS, CHURN_ZIPF_S, CHURN_FIT) * 1000) / 1000, result: null };
  const dir = mkdtempSync(join(tmpdir(), 'sibyl-bench-churn-'));
  const repository = join(dir, 'models');
  const started: RunningServer[] = [];
  let database: ScratchDatabase | null = null;
  const timeoutMs = config.startTimeoutSeconds * 1000;
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const v of ['DATABASE_URL', 'REDIS_URL', 'SIBYL_DATABASE_URL', 'SIBYL_REDIS_URL', 'SIBYL_HTTP_ADDRESS', 'SIBYL_GRPC_ADDRESS', 'SIBYL_METRICS_ADDRESS', 'SIBYL_MODEL_CACHE_BYTES', 'SIBYL_PIN_MODELS']) delete env[v];
  try {
    for (let i = 0; i < CHURN_MODELS; i++) {
      const name = churnModelName(i);
      mkdirSync(join(repository, name, '1'), { recursive: true });
      writeFileSync(join(repository, name, '1/model.onnx'), buildChurnModel(i + 1));
      writeFileSync(join(repository, name, 'config.json'), '{ "max_batch_size": 0 }\n');
    }
    database = await createScratchDatabase(o.databaseUrl);
    const app = async (name: string, main: string, args: string[], listeners: string[]) => {
      const s = await startServer({ name, command: process.execPath, args: [...SERVER_NODE_FLAGS, main, ...args, '--log-format', 'json'], listeners, timeoutMs, env });
      started.push(s);
      return s;
    };
    const common = ['--database-url', database.url, '--metrics-address', HOST, '--metrics-port', '0'];
    const management = await app(
      'churn-management',
      SPLIT_MAIN.management,
      ['--management-address', HOST, '--management-port', '0', ...common, '--data-dir', join(dir, 'management'), '--model-repository', repository],
      ['management'],
    );
    await until('management /v1/health/ready', management, `http://${HOST}:${management.ports.management}/v1/health/ready`, timeoutMs);
    const worker = (name: string, budget: number) =>
      app(
        name,
        SPLIT_MAIN.worker,
        [
          ...['--http-address', HOST, '--http-port', '0', '--grpc-address', HOST, '--grpc-port', '0', ...common, '--advertise-host', HOST],
          ...['--artifact-url', `http://${HOST}:${management.ports.management}`, '--data-dir', join(dir, name), '--model-cache-bytes', String(budget)],
        ],
        ['http', 'metrics'],
      );

    // Calibration: what one model is charged here.
    const calibration = await worker('churn-calibration', 4 * 1024 ** 3);
    await until('calibration worker /v2/health/ready', calibration, `http://${HOST}:${calibration.ports.http}/v2/health/ready`, timeoutMs);
    // The first load also pays for onnxruntime's own start-up, and is charged for it: it is left out.
    await infer(calibration.ports.http!, churnModelName(CHURN_MODELS - 1));
    const first = await gauges(calibration.ports.metrics!);
    for (let i = 1; i <= CHURN_CALIBRATION_MODELS; i++) await infer(calibration.ports.http!, churnModelName(CHURN_MODELS - 1 - i));
    const cal = await gauges(calibration.ports.metrics!);
    await calibration.stop();
    const loaded = (cal.sibyl_model_cache_models ?? 0) - (first.sibyl_model_cache_models ?? 0);
    const perModel = loaded > 0 ? ((cal.sibyl_model_cache_bytes ?? 0) - (first.sibyl_model_cache_bytes ?? 0)) / loaded : NaN;
    if (!(perModel > 0)) throw new Error(`calibration: the worker reported ${JSON.stringify(first)} after one model, ${JSON.stringify(cal)} after ${CHURN_CALIBRATION_MODELS} more`);
    section.firstChargeBytes = first.sibyl_model_cache_bytes ?? 0;
    const budget = Math.round(perModel * CHURN_FIT);
    section.chargePerModelBytes = Math.round(perModel);
    section.budgetBytes = budget;
    log(`churn: a model is charged ${(perModel / 2 ** 20).toFixed(2)} MiB here; budget ${(budget / 2 ** 20).toFixed(1)} MiB for ${CHURN_FIT} of ${CHURN_MODELS}`);

    const w = await worker('churn-worker', budget);
    await until('churn worker /v2/health/ready', w, `http://${HOST}:${w.ports.http}/v2/health/ready`, timeoutMs);
    const beforeText = await scrape(w.ports.metrics!);
    const before = parseGauges(beforeText, GAUGES);
    const spec: LoadSpec = {
      workload: 'churn-json',
      address: `http://${HOST}:${w.ports.http}`,
      model: churnModelName(0),
      plan: { kind: 'duration', concurrency: CHURN_CONCURRENCY, warmupSeconds: config.warmupSeconds, seconds: config.seconds },
      churn: { models: CHURN_MODELS, zipfS: CHURN_ZIPF_S, seed: 12345 },
      serverPids: [w.pid],
    };
    const result = await runLoad(spec, o.generatorTimeoutMs(config.seconds, config.warmupSeconds));
    const afterText = await scrape(w.ports.metrics!);
    const after = parseGauges(afterText, GAUGES);
    section.result = result;
    const waits = [parseHistogram(beforeText, 'sibyl_model_cache_miss_wait_seconds'), parseHistogram(afterText, 'sibyl_model_cache_miss_wait_seconds')] as const;
    const waitUs = (q: number) => {
      const seconds = histogramQuantile(q, waits[0], waits[1]);
      return seconds === null ? null : Math.round(seconds * 1e7) / 10;
    };
    const d = (k: string) => (after[k] ?? 0) - (before[k] ?? 0);
    const hits = d('sibyl_model_cache_hits_total');
    const misses = d('sibyl_model_cache_misses_total');
    section.cache = {
      hits,
      misses,
      evictions: d('sibyl_model_cache_evictions_total'),
      hitRate: hits + misses > 0 ? Math.round((hits / (hits + misses)) * 1000) / 1000 : null,
      modelsAtEnd: after.sibyl_model_cache_models ?? null,
      bytesAtEnd: after.sibyl_model_cache_bytes ?? null,
      missWaitP50Us: waitUs(0.5),
      missWaitP99Us: waitUs(0.99),
      peakBytes: after.sibyl_model_cache_peak_bytes ?? null,
      peakLoadBytes: after.sibyl_model_cache_peak_load_bytes ?? null,
    };
    section.sessionCreateUs = await sessionCreateUs(join(repository, churnModelName(0), '1/model.onnx'), 20);
    if (result.errors > 0) section.error = `${result.errors} failed requests: ${result.firstError}`;
    log(
      `churn: ${Math.round(result.requestsPerSecond)} req/s, p50 ${result.latency.p50Us} us, p99 ${result.latency.p99Us} us; hit rate ${section.cache.hitRate} ` +
        `(ideal ${section.idealHitRate}), ${section.cache.evictions} evictions, ${section.cache.modelsAtEnd} models resident; ` +
        `miss wait p50 ${section.cache.missWaitP50Us} us, p99 ${section.cache.missWaitP99Us} us, session create p50 ${section.sessionCreateUs.p50} us; ` +
        `peak ${section.cache.peakBytes} of ${budget} bytes` +
        (section.error !== undefined ? `; ERROR ${section.error}` : ''),
    );
  } catch (err) {
    section.error = err instanceof Error ? err.message : String(err);
    log(`churn: ERROR ${section.error}`);
  } finally {
    for (const s of [...started].reverse()) await s.stop();
    await database?.drop().catch((err: unknown) => log(`churn: could not drop database ${database?.name}: ${String(err)}`));
    rmSync(dir, { recursive: true, force: true });
  }
  return section;
}
