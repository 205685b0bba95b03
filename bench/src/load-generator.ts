/**
 * The load generator, run as its own process so that client and server never share an event loop.
 *
 *   node bench/dist/load-generator.js '<LoadSpec JSON>'
 *
 * Prints one LoadResult JSON line on stdout; exits 1 with a message on stderr when the target
 * cannot be driven at all. Exits when its stdin closes, so it never outlives the orchestrator.
 */
import { performance } from 'node:perf_hooks';
import { cpuReport, sampleCpu, type CpuSample } from './cpu-usage.js';
import { createDriver, type Driver } from './drivers.js';
import type { LoadResult, LoadSpec, Workload } from './load-spec.js';
import { summarize } from './stats.js';

/** Completions the duration plan can record per measured second before samples are dropped. */
const SAMPLES_PER_SECOND = 200_000;
/** Workloads that run the model in the generator's own process: their CPU is the generator's. */
const IN_PROCESS = new Set<Workload>(['iris-session', 'tf-predict', 'tf-runtime']);
/** A run gives up after this many failed requests: the target is broken, not slow. */
const MAX_ERRORS = 100;

interface Tally {
  errors: number;
  firstError?: string;
  checked: number;
  checkedOk: number;
}

function fail(tally: Tally, err: unknown): void {
  tally.errors += 1;
  tally.firstError ??= err instanceof Error ? err.message : String(err);
}

function checkOne(driver: Driver, tally: Tally, response: unknown): void {
  tally.checked += 1;
  try {
    driver.check(response);
    tally.checkedOk += 1;
  } catch (err) {
    fail(tally, err);
  }
}

async function runDuration(driver: Driver, spec: LoadSpec, concurrency: number, warmupSeconds: number, seconds: number): Promise<LoadResult> {
  const tally: Tally = { errors: 0, checked: 0, checkedOk: 0 };
  // One fully checked request first: a target that answers wrongly fails before any timing.
  const first = await driver.send();
  checkOne(driver, tally, first);
  if (tally.errors > 0) throw new Error(`first response is wrong: ${tally.firstError}`);
  const sample = driver.sample?.(first);

  const capacity = Math.ceil(seconds * SAMPLES_PER_SECOND);
  const samples = new Float64Array(capacity);
  let recorded = 0;
  let dropped = 0;
  const t0 = performance.now() + warmupSeconds * 1000;
  const t1 = t0 + seconds * 1000;
  // CPU is sampled at the span's edges by timers, which fire between requests: close enough.
  let cpuStart: CpuSample | undefined;
  let cpuEnd: CpuSample | undefined;
  const startTimer = setTimeout(() => (cpuStart ??= sampleCpu(performance.now(), spec.serverPids)), Math.max(0, t0 - performance.now()));
  const endTimer = setTimeout(() => (cpuEnd ??= sampleCpu(performance.now(), spec.serverPids)), Math.max(0, t1 - performance.now()));
  // Throughput counts completions inside [t0, t1]; those are also the latency samples.
  const loop = async () => {
    for (;;) {
      const start = performance.now();
      // Also sampled here: a driver whose promises settle without a macrotask (in-process tfjs) would starve the timers.
      if (cpuStart === undefined && start >= t0) cpuStart = sampleCpu(start, spec.serverPids);
      if (start >= t1 || tally.errors >= MAX_ERRORS) {
        if (cpuEnd === undefined && start >= t1) cpuEnd = sampleCpu(start, spec.serverPids);
        return;
      }
      try {
        await driver.send();
      } catch (err) {
        fail(tally, err);
        continue;
      }
      const end = performance.now();
      if (end >= t0 && end <= t1) {
        if (recorded < capacity) samples[recorded++] = end - start;
        else dropped += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  clearTimeout(startTimer);
  clearTimeout(endTimer);
  cpuEnd ??= sampleCpu(performance.now(), spec.serverPids);
  // A last checked request: the target still answers right after the load.
  try {
    checkOne(driver, tally, await driver.send());
  } catch (err) {
    fail(tally, err);
  }
  const completed = recorded + dropped;
  return {
    workload: spec.workload,
    plan: spec.plan,
    completed,
    measuredSeconds: seconds,
    requestsPerSecond: Math.round((completed / seconds) * 10) / 10,
    latency: summarize(samples.subarray(0, recorded)),
    errors: tally.errors,
    ...(tally.firstError !== undefined ? { firstError: tally.firstError } : {}),
    checked: tally.checked,
    checkedOk: tally.checkedOk,
    droppedSamples: dropped,
    ...(cpuStart !== undefined ? { cpu: cpuReport(cpuStart, cpuEnd, completed, IN_PROCESS.has(spec.workload)) } : {}),
    ...(sample !== undefined ? { sample } : {}),
  };
}

async function runCount(driver: Driver, spec: LoadSpec, warmupRequests: number, requests: number): Promise<LoadResult> {
  const tally: Tally = { errors: 0, checked: 0, checkedOk: 0 };
  const samples = new Float64Array(requests);
  let recorded = 0;
  let spentMs = 0;
  for (let i = 0; i < warmupRequests + requests; i++) {
    const start = performance.now();
    let response: unknown;
    try {
      response = await driver.send();
    } catch (err) {
      fail(tally, err);
      if (tally.errors >= MAX_ERRORS) break;
      continue;
    }
    const elapsed = performance.now() - start;
    if (i >= warmupRequests) {
      samples[recorded++] = elapsed;
      spentMs += elapsed;
    }
    checkOne(driver, tally, response);
    response = undefined;
  }
  return {
    workload: spec.workload,
    plan: spec.plan,
    completed: recorded,
    measuredSeconds: Math.round(spentMs) / 1000,
    requestsPerSecond: spentMs > 0 ? Math.round((recorded / spentMs) * 10_000) / 10 : 0,
    latency: summarize(samples.subarray(0, recorded)),
    errors: tally.errors,
    ...(tally.firstError !== undefined ? { firstError: tally.firstError } : {}),
    checked: tally.checked,
    checkedOk: tally.checkedOk,
    droppedSamples: 0,
  };
}

async function main(): Promise<void> {
  const raw = process.argv[2];
  if (raw === undefined) throw new Error('usage: load-generator.js <LoadSpec JSON>');
  const spec = JSON.parse(raw) as LoadSpec;
  process.stdin.on('end', () => process.exit(3)).resume();
  const driver = await createDriver(spec);
  try {
    const result =
      spec.plan.kind === 'duration'
        ? await runDuration(driver, spec, spec.plan.concurrency, spec.plan.warmupSeconds, spec.plan.seconds)
        : await runCount(driver, spec, spec.plan.warmupRequests, spec.plan.requests);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await driver.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`load-generator: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
