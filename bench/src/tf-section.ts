/**
 * The TensorFlow.js section, on examples/models/iris_tf at concurrency 16, one row per request:
 * raw TensorFlow.js `model.predict` + `data()` in the generator's process (the floor, as
 * packages/runtime-tf/scripts/measure.ts), the data plane with the TF engine in the generator's process (model
 * thread and back), and worker-tf (`apps/worker/dist/main-tf.js`) over REST JSON. Raw predict runs
 * first; its first answer is what the other two must return.
 *
 * worker-tf serves the registry's models (`--database-url`, never PGlite): management imports the
 * model into a scratch database on DATABASE_URL's server (dropped afterwards) and serves its files;
 * no Redis (in-process coordination, one process).
 */
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchConfig } from './config.js';
import type { LoadSpec, TensorCase, Workload } from './load-spec.js';
import { REPO_ROOT, SERVER_NODE_FLAGS, SPLIT_MAIN } from './paths.js';
import { runLoad, startServer, type RunningServer } from './processes.js';
import { TF_LABEL, type TfCell, type TfSection, type TfTarget } from './sections.js';
import { createScratchDatabase, type ScratchDatabase } from './split-state.js';

export const TF_REPOSITORY = join(REPO_ROOT, 'examples/models');
export const TF_MODEL = 'iris_tf';
export const TF_WORKER_MAIN = join(REPO_ROOT, 'apps/worker/dist/main-tf.js');
export const TF_CONCURRENCY = 16;
/** As measure.ts: one virginica flower. */
const ROW = [5.9, 3.0, 5.1, 1.8];
const HOST = '127.0.0.1';

/** A TF.js model the section measures: `<repository>/<name>/1/model.json`, one [1,n] row per request. */
export interface TfBenchModel {
  name: string;
  repository: string;
  /** The request and how its answer is checked (expected values come from raw predict). */
  tensor: TensorCase;
  /** Whether its worker / raw predict ratio is the issue's target (else reported). */
  gated: boolean;
  /** What it is, for the report. */
  description: string;
}

/** The example model: a [1,4] row through a tiny dense network, so its figures are the transport's. */
export const IRIS_TF_BENCH: TfBenchModel = {
  name: TF_MODEL,
  repository: TF_REPOSITORY,
  tensor: { input: 'measurements', shape: [1, 4], data: ROW, output: 'probabilities', outputShape: [1, 3], tolerance: 1e-5 },
  gated: false,
  description: 'the example iris classifier (4 → 10 → 3): a predict costs microseconds, so transport dominates',
};

/** The TF.js MLP the target is measured on: compute a model thread can keep busy (writeTfMlp). */
export const TF_MLP = Object.freeze({ name: 'tf_mlp', width: 2048, layers: 4, outputs: 16 });

export function tfMlpBench(repository: string): TfBenchModel {
  const data = Array.from({ length: TF_MLP.width }, (_, i) => ((i * 37) % 101) / 101 - 0.5);
  return {
    name: TF_MLP.name,
    repository,
    tensor: { input: 'x', shape: [1, TF_MLP.width], data, output: 'y', outputShape: [1, TF_MLP.outputs], tolerance: 1e-4 },
    gated: true,
    description: `a layers model, ${TF_MLP.layers} x dense(${TF_MLP.width}, relu) → dense(${TF_MLP.outputs}), seeded weights, built by the bench`,
  };
}

export interface TfOptions {
  config: BenchConfig;
  generatorTimeoutMs: (seconds: number, warmupSeconds: number) => number;
  log: (line: string) => void;
}

/** Why the TF section cannot run on `model` here, or null. */
export function tfUnavailable(model: TfBenchModel = IRIS_TF_BENCH): string | null {
  if (!existsSync(join(model.repository, model.name, '1/model.json'))) return `${join(model.repository, model.name)} missing`;
  return null;
}

/** Sends one request for the model until it is answered 200 (the worker loads it on the first). */
async function warmUpInfer(server: RunningServer, url: string, tensor: TensorCase, timeoutMs: number): Promise<void> {
  const body = JSON.stringify({ inputs: [{ name: tensor.input, shape: tensor.shape, datatype: 'FP32', data: tensor.data }] });
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(30_000) }).catch((err: unknown) => String(err));
    if (typeof res !== 'string' && res.status === 200) return;
    last = typeof res === 'string' ? res : `HTTP ${res.status} ${(await res.text()).slice(0, 300)}`;
    if (!server.alive()) throw new Error(`${server.name} exited; its last output:\n${server.lastOutput()}`);
    if (Date.now() > deadline) throw new Error(`${url}: not answered within ${timeoutMs / 1000} s (last ${last})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function waitReady(server: RunningServer, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await fetch(url, { signal: AbortSignal.timeout(2000) }).then((r) => r.status, () => 0);
    if (status === 200) return;
    if (!server.alive()) throw new Error(`${server.name} exited; its last output:\n${server.lastOutput()}`);
    if (Date.now() > deadline) throw new Error(`${url}: not 200 within ${timeoutMs / 1000} s (last ${status})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs the section; never throws (a failure is recorded in the section). */
export async function runTf(o: TfOptions, model: TfBenchModel = IRIS_TF_BENCH): Promise<TfSection> {
  const { config, log } = o;
  const TF_MODEL = model.name;
  const TF_REPOSITORY = model.repository;
  const section: TfSection = { model: TF_MODEL, description: model.description, gated: model.gated, concurrency: TF_CONCURRENCY, cells: [] };
  const missing = tfUnavailable(model);
  if (missing !== null) return { ...section, skipped: missing };
  const tensor: TensorCase = { ...model.tensor };
  const plan = { kind: 'duration', concurrency: TF_CONCURRENCY, warmupSeconds: config.warmupSeconds, seconds: config.seconds } as const;

  const run = async (target: TfTarget, workload: Workload, address: string, extra: Partial<LoadSpec> = {}): Promise<TfCell> => {
    const spec: LoadSpec = { workload, address, model: TF_MODEL, plan, tensor, ...extra };
    const cell: TfCell = { target, result: null };
    try {
      cell.result = await runLoad(spec, o.generatorTimeoutMs(config.seconds, config.warmupSeconds));
      if (cell.result.errors > 0) cell.error = `${cell.result.errors} failed requests: ${cell.result.firstError}`;
      const r = cell.result;
      log(`tf ${TF_MODEL} ${TF_LABEL[target]}, c=${TF_CONCURRENCY}: ${Math.round(r.requestsPerSecond)} req/s, p50 ${r.latency.p50Us} us, p99 ${r.latency.p99Us} us${cell.error !== undefined ? `; ERROR ${cell.error}` : ''}`);
    } catch (err) {
      cell.error = err instanceof Error ? err.message : String(err);
      log(`tf ${TF_MODEL} ${TF_LABEL[target]}: ERROR ${cell.error}`);
    }
    section.cells.push(cell);
    return cell;
  };

  const raw = await run('raw-predict', 'tf-predict', join(TF_REPOSITORY, TF_MODEL, '1'));
  // Raw predict's answer is the reference; without it the others are still measured, checked for shape only.
  if (raw.result?.sample !== undefined) tensor.expected = raw.result.sample;
  await run('runtime', 'tf-runtime', TF_REPOSITORY);

  const databaseUrl = process.env.DATABASE_URL?.trim() ?? '';
  if (!existsSync(TF_WORKER_MAIN)) {
    section.cells.push({ target: 'worker-rest', result: null, skipped: `${TF_WORKER_MAIN} missing (run \`npx turbo run build\`)` });
    return section;
  }
  if (!/^postgres(ql)?:\/\//.test(databaseUrl)) {
    section.cells.push({ target: 'worker-rest', result: null, skipped: 'DATABASE_URL is unset (worker-tf needs a PostgreSQL registry)' });
    log('tf worker: skipped, DATABASE_URL is unset');
    return section;
  }
  let database: ScratchDatabase | null = null;
  const servers: RunningServer[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'sibyl-bench-tf-'));
  try {
    database = await createScratchDatabase(databaseUrl);
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const v of ['DATABASE_URL', 'REDIS_URL', 'SIBYL_DATABASE_URL', 'SIBYL_REDIS_URL', 'SIBYL_HTTP_ADDRESS', 'SIBYL_GRPC_ADDRESS', 'SIBYL_METRICS_ADDRESS']) delete env[v];
    // As deployed: management imports the model into the registry and serves its files; the worker
    // loads it on the first request, fetching the files from management.
    const repository = join(dataDir, 'repository');
    cpSync(join(TF_REPOSITORY, TF_MODEL), join(repository, TF_MODEL), { recursive: true });
    const common = ['--database-url', database.url, '--metrics-address', HOST, '--metrics-port', '0', '--log-format', 'json'];
    const management = await startServer({
      name: 'tf-management',
      command: process.execPath,
      args: [...SERVER_NODE_FLAGS, SPLIT_MAIN.management, '--management-address', HOST, '--management-port', '0', ...common, '--data-dir', join(dataDir, 'management'), '--model-repository', repository],
      listeners: ['management'],
      timeoutMs: config.startTimeoutSeconds * 1000,
      env,
    });
    servers.push(management);
    await waitReady(management, `http://${HOST}:${management.ports.management}/v1/health/ready`, config.startTimeoutSeconds * 1000);
    const worker = await startServer({
      name: 'tf-worker',
      command: process.execPath,
      args: [
        ...SERVER_NODE_FLAGS,
        TF_WORKER_MAIN,
        ...common,
        ...['--artifact-url', `http://${HOST}:${management.ports.management}`, '--data-dir', join(dataDir, 'worker'), '--advertise-host', HOST],
        ...['--http-address', HOST, '--http-port', '0', '--grpc-address', HOST, '--grpc-port', '0'],
      ],
      listeners: ['http'],
      timeoutMs: config.startTimeoutSeconds * 1000,
      env,
    });
    servers.push(worker);
    const backendLine = /"event":"tf-backend".*?"backend":"([^"]*)"/.exec(worker.lastOutput());
    const backend = backendLine?.[1];
    // The first request loads the model (on demand); readiness of the model follows.
    await warmUpInfer(worker, `http://${HOST}:${worker.ports.http}/v2/models/${TF_MODEL}/infer`, tensor, config.startTimeoutSeconds * 1000);
    if (backend !== undefined) section.workerBackend = backend;
    log(`tf worker: pid ${worker.pid}, port ${worker.ports.http}${backend !== undefined ? `, model threads on ${backend}` : ''}`);
    await run('worker-rest', 'tensor-json', `http://${HOST}:${worker.ports.http}`, { serverPids: [worker.pid] });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    section.cells.push({ target: 'worker-rest', result: null, error: message });
    log(`tf worker: ERROR ${message}`);
  } finally {
    for (const server of servers.reverse()) await server.stop();
    await database?.drop().catch((err: unknown) => log(`tf: could not drop database ${database?.name}: ${String(err)}`));
    rmSync(dataDir, { recursive: true, force: true });
  }
  return section;
}
