/**
 * `npm run bench`: serves the iris and identity models from the baseline service and from Sibyl,
 * drives each from a separate load-generator process, and writes bench/results/<name>.json and
 * bench/results/latest.md (also printed). Exits 1 when a measurement could not be made; a target
 * that is measured and missed is reported as FAIL, not as an exit status.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BenchError, loadBenchConfig, splitEnvironment, type BenchConfig, type TargetName } from './config.js';
import type { LoadPlan, LoadResult, LoadSpec, Workload } from './load-spec.js';
import { machineInfo } from './machine.js';
import { prepareModels, type BenchModels } from './models.js';
import { IDENTITY_MODEL, IRIS_MODEL } from './payloads.js';
import { BENCH_DIST, RESULTS_DIR, SERVER_NODE_FLAGS, SIBYL_MAIN } from './paths.js';
import { installCleanup, runLoad, startServer, type RunningServer } from './processes.js';
import { renderMarkdown } from './report.js';
import { runBatching } from './batching.js';
import { isIrisTarget, LARGE_LABEL, TARGET_LABEL, verdicts, type BenchResults, type IrisCell, type IrisTarget, type LargeCell, type LargeTarget } from './results.js';
import { batchingVerdicts, churnVerdicts, tfVerdicts, type BatchingSection, type ChurnSection, type TfSection } from './sections.js';
import { runChurn } from './churn.js';
import { runTf, TF_MLP, tfMlpBench } from './tf-section.js';
import { writeTfMlp } from './tf-loader.js';
import { medianBy } from './stats.js';
import { missingApps, startSplit, type SplitTopology } from './split-topology.js';
import { runWrk, wrkAvailable } from './wrk.js';

const IRIS_WORKLOAD: Readonly<Record<IrisTarget, Workload>> = {
  'session-run': 'iris-session',
  baseline: 'iris-json',
  'sibyl-json': 'iris-json',
  'sibyl-binary': 'iris-binary',
  'sibyl-grpc': 'iris-grpc',
  'split-json': 'iris-json',
  'split-binary': 'iris-binary',
  'proxy-json': 'iris-json',
};

const SIBYL_TARGETS: readonly TargetName[] = ['sibyl-json', 'sibyl-binary', 'sibyl-grpc', 'large'];
const SPLIT_TARGETS: readonly TargetName[] = ['split-json', 'split-binary'];
/** Where the apps keep state: the all-in-one keeps its embedded registry, whatever DATABASE_URL and REDIS_URL the bench was given. */
const STATE_VARIABLES = ['DATABASE_URL', 'REDIS_URL', 'SIBYL_DATABASE_URL', 'SIBYL_REDIS_URL'];

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

interface Servers {
  baseline: RunningServer | null;
  baselineBinary: RunningServer | null;
  echo: RunningServer | null;
  sibyl: RunningServer | null;
  /** A bare node:http proxy in front of the baseline: the floor of one extra hop. */
  proxy: RunningServer | null;
  split: SplitTopology | null;
  notes: BenchResults['servers'];
  splitNote?: BenchResults['split'];
  /** The all-in-one's data directory, a scratch one (never ./.sibyl/data, which a running `npm start` holds). */
  sibylDataDir: string;
}

async function timedStart(notes: BenchResults['servers'], name: string, start: () => Promise<RunningServer>): Promise<RunningServer | null> {
  const t = performance.now();
  try {
    const server = await start();
    notes[name] = { pid: server.pid, ports: { ...server.ports }, startMs: Math.round(performance.now() - t) };
    log(`${name}: pid ${server.pid}, ports ${JSON.stringify(server.ports)}, ready in ${Math.round(performance.now() - t)} ms`);
    return server;
  } catch (err) {
    notes[name] = { error: message(err) };
    process.stderr.write(`\nbench: ${message(err)}\n\n`);
    return null;
  }
}

async function startServers(config: BenchConfig, models: BenchModels): Promise<Servers> {
  const notes: BenchResults['servers'] = {};
  const sibylDataDir = mkdtempSync(join(tmpdir(), 'sibyl-bench-data-'));
  const timeoutMs = config.startTimeoutSeconds * 1000;
  const baseline = config.targets.includes('baseline')
    ? await timedStart(notes, 'baseline', () =>
        startServer({ name: 'baseline', command: process.execPath, args: [join(BENCH_DIST, 'baseline-server.js'), models.iris.path, IRIS_MODEL], listeners: ['http'], timeoutMs }),
      )
    : null;
  const echo = config.targets.includes('large')
    ? await timedStart(notes, 'echo', () =>
        startServer({ name: 'echo', command: process.execPath, args: [join(BENCH_DIST, 'echo-server.js')], listeners: ['http'], timeoutMs }),
      )
    : null;
  const baselineBinary = config.targets.includes('large')
    ? await timedStart(notes, 'baseline-binary', () =>
        startServer({
          name: 'baseline-binary',
          command: process.execPath,
          args: [join(BENCH_DIST, 'baseline-binary-server.js'), models.identity.path, IDENTITY_MODEL],
          listeners: ['http'],
          timeoutMs,
        }),
      )
    : null;

  let sibyl: RunningServer | null = null;
  if (config.targets.some((t) => SIBYL_TARGETS.includes(t))) {
    if (config.sibyl === 'off') {
      notes.sibyl = { skipped: 'BENCH_SIBYL=off' };
    } else if (!existsSync(SIBYL_MAIN)) {
      const why = `${SIBYL_MAIN} does not exist (run \`npm run build\` once apps/sibyl builds)`;
      if (config.sibyl === 'require') throw new BenchError('BENCH_TARGET_UNAVAILABLE', `Sibyl is required (BENCH_SIBYL=require) but ${why}`);
      notes.sibyl = { skipped: why };
      log(`sibyl: skipped, ${why}`);
    } else {
      // Loopback only: the bench has no reason to listen on every interface of a shared machine.
      for (const v of ['SIBYL_HTTP_ADDRESS', 'SIBYL_GRPC_ADDRESS', 'SIBYL_METRICS_ADDRESS']) process.env[v] ??= '127.0.0.1';
      const env = { ...process.env };
      for (const v of STATE_VARIABLES) delete env[v];
      sibyl = await timedStart(notes, 'sibyl', () =>
        startServer({
          name: 'sibyl',
          command: process.execPath,
          args: [
            ...SERVER_NODE_FLAGS,
            SIBYL_MAIN,
            ...['--model-repository', models.repository, '--data-dir', sibylDataDir, '--http-port', '0', '--grpc-port', '0', '--metrics-port', '0', '--management-port', '0', '--log-format', 'json'],
          ],
          listeners: ['http', 'grpc'],
          timeoutMs,
          env,
        }),
      );
      if (sibyl !== null) await checkSibylReady(sibyl, notes);
      if (sibyl === null && config.sibyl === 'require') throw new BenchError('BENCH_TARGET_UNAVAILABLE', 'Sibyl is required (BENCH_SIBYL=require) but did not start (see above)');
    }
  }
  const proxy =
    config.targets.includes('proxy-json') && baseline !== null
      ? await timedStart(notes, 'proxy', () =>
          startServer({ name: 'proxy', command: process.execPath, args: [join(BENCH_DIST, 'proxy-server.js'), `http://127.0.0.1:${baseline.ports.http}`], listeners: ['http'], timeoutMs }),
        )
      : null;
  const { split, note } = await startSplitServers(config, models, notes);
  return { baseline, baselineBinary, echo, sibyl, proxy, split, notes, sibylDataDir, ...(note !== undefined ? { splitNote: note } : {}) };
}

function splitWhy(note: BenchResults['split']): string {
  if (note === undefined || 'ran' in note) return 'see above';
  return 'skipped' in note ? note.skipped : (note.error.split('\n')[0] ?? '');
}

async function startSplitServers(
  config: BenchConfig,
  models: BenchModels,
  notes: BenchResults['servers'],
): Promise<{ split: SplitTopology | null; note?: BenchResults['split'] }> {
  if (!config.targets.some((t) => SPLIT_TARGETS.includes(t))) return { split: null };
  const skip = (why: string) => {
    if (config.split === 'require') throw new BenchError('BENCH_TARGET_UNAVAILABLE', `the split topology is required (BENCH_SPLIT=require) but ${why}`);
    log(`split: skipped, ${why}`);
    return { split: null, note: { skipped: why } };
  };
  if (config.split === 'off') return { split: null, note: { skipped: 'BENCH_SPLIT=off' } };
  const where = splitEnvironment();
  if ('skip' in where) return skip(where.skip);
  const missing = missingApps();
  if (missing !== null) return skip(missing);
  try {
    const split = await startSplit({
      ...where,
      workers: config.splitWorkers,
      cpuProfileDir: config.splitCpuProfileDir,
      timeoutMs: config.startTimeoutSeconds * 1000,
      models,
      start: (name, start) => timedStart(notes, name, start),
      log,
    });
    if (split === null) {
      if (config.split === 'require') throw new BenchError('BENCH_TARGET_UNAVAILABLE', 'the split topology is required (BENCH_SPLIT=require) but did not start (see above)');
      return { split: null, note: { error: 'an app of the split topology did not start (see servers)' } };
    }
    return { split, note: { ran: split.description } };
  } catch (err) {
    if (err instanceof BenchError) throw err;
    process.stderr.write(`\nbench: split topology: ${message(err)}\n\n`);
    if (config.split === 'require') throw new BenchError('BENCH_TARGET_UNAVAILABLE', `the split topology is required (BENCH_SPLIT=require) but: ${message(err)}`);
    return { split: null, note: { error: message(err) } };
  }
}

/** The ready log line should mean both models are loaded; confirm over the API before timing anything. */
async function checkSibylReady(sibyl: RunningServer, notes: BenchResults['servers']): Promise<void> {
  for (const path of ['/v2/health/ready', `/v2/models/${IRIS_MODEL}/ready`, `/v2/models/${IDENTITY_MODEL}/ready`]) {
    const res = await fetch(`http://127.0.0.1:${sibyl.ports.http}${path}`).catch((err: unknown) => ({ status: 0, statusText: message(err) }));
    if (res.status !== 200) {
      const note = `GET ${path} answered ${res.status} ${res.statusText} after the ready line`;
      log(`sibyl: warning: ${note}`);
      const entry = notes.sibyl;
      if (entry !== undefined && 'pid' in entry) entry.warning = note;
    }
  }
}

function generatorTimeoutMs(plan: LoadPlan): number {
  return plan.kind === 'duration' ? (plan.warmupSeconds + plan.seconds) * 1000 + 60_000 : 120_000 + (plan.warmupRequests + plan.requests) * 10_000;
}

const sectionTimeoutMs = (seconds: number, warmupSeconds: number) => generatorTimeoutMs({ kind: 'duration', concurrency: 1, seconds, warmupSeconds });

async function batchingSection(config: BenchConfig): Promise<BatchingSection | undefined> {
  if (!config.targets.includes('batching')) return undefined;
  const skipped = (why: string) => {
    log(`batching: skipped, ${why}`);
    return { model: { width: 0, layers: 0, outputs: 0, maxBatchSize: 0, description: '' }, dynamicBatching: { preferred_batch_size: [], max_queue_delay_microseconds: 0 }, concurrency: 64, cells: [], skipped: why };
  };
  if (config.batching === 'off') return skipped('BENCH_BATCHING=off');
  if (config.sibyl === 'off') return skipped('BENCH_SIBYL=off');
  if (!existsSync(SIBYL_MAIN)) return skipped(`${SIBYL_MAIN} does not exist`);
  return runBatching({ config, stateVariables: STATE_VARIABLES, generatorTimeoutMs: sectionTimeoutMs, log });
}

async function tfSection(config: BenchConfig): Promise<TfSection | undefined> {
  if (!config.targets.includes('tf')) return undefined;
  if (config.tf === 'off') {
    log('tf: skipped, BENCH_TF=off');
    return { model: 'iris_tf', concurrency: 16, cells: [], skipped: 'BENCH_TF=off' };
  }
  return runTf({ config, generatorTimeoutMs: sectionTimeoutMs, log });
}

/** The TF section on a TF.js MLP the bench writes into a scratch repository (the worker target's model). */
async function tfMlpSection(config: BenchConfig): Promise<TfSection | undefined> {
  if (!config.targets.includes('tf') || config.tf === 'off') return undefined;
  const repository = mkdtempSync(join(tmpdir(), 'sibyl-bench-tf-mlp-'));
  try {
    await writeTfMlp(join(repository, TF_MLP.name, '1'), TF_MLP);
    return await runTf({ config, generatorTimeoutMs: sectionTimeoutMs, log }, tfMlpBench(repository));
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    log(`tf ${TF_MLP.name}: ERROR ${message}`);
    return { model: TF_MLP.name, concurrency: 16, cells: [], error: message };
  } finally {
    rmSync(repository, { recursive: true, force: true });
  }
}

async function churnSection(config: BenchConfig): Promise<ChurnSection | undefined> {
  if (!config.targets.includes('churn')) return undefined;
  const skipped = (why: string): ChurnSection => {
    log(`churn: skipped, ${why}`);
    return { models: 200, fit: 20, zipfS: 1, concurrency: 16, idealHitRate: 0, result: null, skipped: why };
  };
  if (config.churn === 'off') return skipped('BENCH_CHURN=off');
  const databaseUrl = process.env.DATABASE_URL?.trim() ?? '';
  if (!/^postgres(ql)?:\/\//.test(databaseUrl)) return skipped('DATABASE_URL is unset (management and the worker need a PostgreSQL registry)');
  const missing = missingApps();
  if (missing !== null) return skipped(missing);
  return runChurn({ config, databaseUrl, generatorTimeoutMs: sectionTimeoutMs, log });
}

/** A section that could not be measured (skipped parts are not failures). */
function sectionFailed(s: { error?: string; cells: Array<{ error?: string }> } | undefined): boolean {
  return s !== undefined && (s.error !== undefined || s.cells.some((c) => c.error !== undefined));
}

function describe(x: LoadResult): string {
  const errors = x.errors > 0 ? `, ${x.errors} errors (${x.firstError})` : '';
  const cpu = x.cpu === undefined ? '' : `, server CPU ${x.cpu.serverUsPerRequest ?? '?'} us/req, other load ${Math.round(x.cpu.otherShare * 100)}%`;
  return `${Math.round(x.requestsPerSecond).toLocaleString('en-US')} req/s, p50 ${x.latency.p50Us} us, p99 ${x.latency.p99Us} us${cpu}${errors}`;
}

async function runIris(config: BenchConfig, models: BenchModels, servers: Servers): Promise<IrisCell[]> {
  const targets = config.targets.filter(isIrisTarget);
  const cells: IrisCell[] = [];
  for (const concurrency of config.concurrency) {
    for (const target of targets) cells.push({ target, concurrency, rounds: [], result: null });
  }
  const total = cells.length * config.rounds;
  let done = 0;
  for (let round = 0; round < config.rounds; round++) {
    // Cells of one concurrency run back to back, so the baseline and Sibyl see the same machine.
    for (const cell of cells) {
      done += 1;
      const prefix = `[${done}/${total}] c=${cell.concurrency} ${TARGET_LABEL[cell.target]}`;
      const isSplit = SPLIT_TARGETS.includes(cell.target);
      const server =
        cell.target === 'baseline'
          ? servers.baseline
          : cell.target === 'proxy-json'
            ? servers.proxy
            : cell.target === 'session-run'
              ? null
              : isSplit
                ? (servers.split?.gateway ?? null)
                : servers.sibyl;
      if (cell.target !== 'session-run' && server === null) {
        cell.skipped =
          cell.target === 'baseline' || cell.target === 'proxy-json'
            ? 'baseline service (or the proxy in front of it) did not start'
            : isSplit
              ? `split topology not running: ${splitWhy(servers.splitNote)}`
              : 'Sibyl not running (see above)';
        if (round === 0) log(`${prefix}: skipped, ${cell.skipped}`);
        continue;
      }
      if (cell.error !== undefined) continue;
      const address =
        cell.target === 'session-run' ? models.iris.path : cell.target === 'sibyl-grpc' ? `127.0.0.1:${server!.ports.grpc}` : `http://127.0.0.1:${server!.ports.http}`;
      const spec: LoadSpec = {
        workload: IRIS_WORKLOAD[cell.target],
        address,
        model: IRIS_MODEL,
        plan: { kind: 'duration', concurrency: cell.concurrency, warmupSeconds: config.warmupSeconds, seconds: config.seconds },
        irisExpected: models.irisExpected,
        ...(server !== null ? { serverPids: isSplit ? servers.split!.servingPids : cell.target === 'proxy-json' ? [server.pid, servers.baseline!.pid] : [server.pid] } : {}),
      };
      try {
        const result = await runLoad(spec, generatorTimeoutMs(spec.plan));
        cell.rounds.push(result);
        if (result.errors > 0) cell.error = `${result.errors} failed requests: ${result.firstError}`;
        log(`${prefix}: ${describe(result)}`);
      } catch (err) {
        cell.error = message(err);
        for (const s of isSplit ? [server!, ...servers.split!.workers] : server !== null ? [server] : []) {
          if (!s.alive()) cell.error += `\n${s.name} has exited; its last output:\n${s.lastOutput()}`;
        }
        log(`${prefix}: ERROR ${cell.error}`);
      }
    }
  }
  for (const cell of cells) cell.result = cell.rounds.length > 0 ? medianBy(cell.rounds, (r) => r.requestsPerSecond) : null;
  return cells;
}

async function runLarge(config: BenchConfig, models: BenchModels, servers: Servers): Promise<LargeCell[]> {
  if (!config.targets.includes('large')) return [];
  const out: LargeCell[] = [];
  const plan: LoadPlan = { kind: 'count', warmupRequests: config.largeWarmup, requests: config.largeRequests };
  const http = (s: RunningServer | null) => (s === null ? null : `http://127.0.0.1:${s.ports.http}`);
  const targets: Array<{ target: LargeTarget; workload: Workload; address: string | null; missing: string }> = [
    { target: 'session-run', workload: 'large-session', address: models.identity.path, missing: '' },
    { target: 'echo', workload: 'large-echo', address: http(servers.echo), missing: 'echo server did not start' },
    { target: 'baseline-binary', workload: 'large-binary', address: http(servers.baselineBinary), missing: 'binary baseline service did not start' },
    { target: 'sibyl-binary', workload: 'large-binary', address: http(servers.sibyl), missing: 'Sibyl not running' },
    { target: 'sibyl-grpc', workload: 'large-grpc', address: servers.sibyl === null ? null : `127.0.0.1:${servers.sibyl.ports.grpc}`, missing: 'Sibyl not running' },
  ];
  for (const { target, workload, address, missing } of targets) {
    const label = `16 MiB ${LARGE_LABEL[target]}`;
    if (address === null) {
      out.push({ target, result: null, skipped: missing });
      log(`${label}: skipped, ${missing}`);
      continue;
    }
    const spec: LoadSpec = { workload, address, model: IDENTITY_MODEL, plan, identity: { input: models.identityInput, output: models.identityOutput } };
    try {
      const result = await runLoad(spec, generatorTimeoutMs(plan));
      const cell: LargeCell = { target, result };
      if (result.errors > 0) cell.error = `${result.errors} failed or inexact: ${result.firstError}`;
      out.push(cell);
      if (result.completed === 0) log(`${label}: ERROR ${result.firstError}`);
      else {
        const errors = result.errors > 0 ? `, ${result.errors} errors: ${result.firstError}` : '';
        log(`${label}: p50 ${(result.latency.p50Us / 1000).toFixed(2)} ms, p99 ${(result.latency.p99Us / 1000).toFixed(2)} ms, ${result.checkedOk}/${result.checked} byte-exact${errors}`);
      }
    } catch (err) {
      out.push({ target, result: null, error: message(err) });
      log(`${label}: ERROR ${message(err)}`);
    }
  }
  return out;
}

async function main(): Promise<number> {
  const started = performance.now();
  installCleanup();
  // Piped into `head`, stdout may close early: the results files still get written.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
  const config = loadBenchConfig();
  const machine = machineInfo();
  log(`sibyl bench ${config.name}: ${machine.cpuModel} x ${machine.cores}, Node ${machine.node}, load ${machine.loadAverage.join(' ')}`);
  log(`${config.seconds} s per cell after ${config.warmupSeconds} s warm-up; concurrency ${config.concurrency.join(', ')}; targets ${config.targets.join(', ')}`);

  const models = await prepareModels();
  process.once('exit', models.remove); // also on an interrupt, which exits from the signal handler
  log(`models: iris ${models.iris.source}, identity ${models.identity.source} (repository ${models.repository})`);
  let servers: Servers | null = null;
  try {
    servers = await startServers(config, models);
    const iris = await runIris(config, models, servers);
    const large = await runLarge(config, models, servers);
    const wrk = config.wrk === 'auto' && wrkAvailable() ? await runWrk(config, servers.baseline, servers.sibyl, log) : [];
    const batching = await batchingSection(config);
    const tf = await tfSection(config);
    const tfMlp = await tfMlpSection(config);
    const churn = await churnSection(config);

    const results: BenchResults = {
      name: config.name,
      machine,
      config,
      serverNodeFlags: [...SERVER_NODE_FLAGS],
      models: {
        iris: { source: models.iris.source, inputs: models.iris.inputs, outputs: models.iris.outputs },
        identity: { source: models.identity.source, inputs: models.identity.inputs, outputs: models.identity.outputs },
      },
      servers: servers.notes,
      ...(servers.splitNote !== undefined ? { split: servers.splitNote } : {}),
      iris,
      large,
      wrk,
      ...(batching !== undefined ? { batching } : {}),
      ...(tf !== undefined ? { tf } : {}),
      ...(tfMlp !== undefined ? { tfMlp } : {}),
      ...(churn !== undefined ? { churn } : {}),
      verdicts: [...verdicts(iris, large, config.concurrency), ...batchingVerdicts(batching), ...tfVerdicts(tf), ...tfVerdicts(tfMlp), ...churnVerdicts(churn)],
      loadAverageEnd: loadavg().map((l) => Math.round(l * 100) / 100),
      totalSeconds: Math.round(performance.now() - started) / 1000,
    };
    mkdirSync(RESULTS_DIR, { recursive: true });
    const jsonPath = join(RESULTS_DIR, `${config.name}.json`);
    writeFileSync(jsonPath, `${JSON.stringify(results, null, 2)}\n`);
    const markdown = renderMarkdown(results);
    writeFileSync(join(RESULTS_DIR, 'latest.md'), markdown);
    log(`\n${markdown}`);
    log(`wrote ${jsonPath} and ${join(RESULTS_DIR, 'latest.md')}`);

    const failedToMeasure =
      Object.values(servers.notes).some((s) => 'error' in s) || (servers.splitNote !== undefined && 'error' in servers.splitNote) || iris.some((c) => c.error !== undefined) || large.some((l) => l.error !== undefined) ||
      sectionFailed(batching) || sectionFailed(tf) || sectionFailed(tfMlp) || churn?.error !== undefined;
    return failedToMeasure ? 1 : 0;
  } finally {
    await Promise.all([servers?.baseline?.stop(), servers?.baselineBinary?.stop(), servers?.echo?.stop(), servers?.sibyl?.stop(), servers?.proxy?.stop(), servers?.split?.stop()]);
    if (servers !== null) rmSync(servers.sibylDataDir, { recursive: true, force: true });
    models.remove();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof BenchError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
