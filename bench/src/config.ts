/**
 * The bench's settings: declared once with defaults and units, read from `BENCH_*` environment
 * variables, validated, frozen. A bad value stops the bench with a message naming the variable.
 */

/** Every measured target, in the order the table lists them. */
export const TARGETS = ['session-run', 'baseline', 'sibyl-json', 'sibyl-binary', 'sibyl-grpc', 'split-json', 'split-binary', 'proxy-json', 'large', 'batching', 'tf', 'churn'] as const;
export type TargetName = (typeof TARGETS)[number];

export interface BenchConfig {
  /** Measured seconds per (target, concurrency) cell. Default 10; 2 in quick mode. */
  readonly seconds: number;
  /** Warm-up seconds before each cell, not recorded. Default 2; 0.5 in quick mode. */
  readonly warmupSeconds: number;
  /** Concurrency levels of the iris runs. Default 1,16,64. */
  readonly concurrency: readonly number[];
  /** Targets to run. Default all of TARGETS. */
  readonly targets: readonly TargetName[];
  /** Rounds over every cell; a cell's figure is the median round (by req/s). Default 1. */
  readonly rounds: number;
  /** Sequential 16 MiB requests measured, after `largeWarmup` unrecorded ones (the first few pay for page faults). Defaults 20 and 5; 5 and 2 in quick mode. */
  readonly largeRequests: number;
  readonly largeWarmup: number;
  /** `auto` skips the Sibyl targets when apps/sibyl/dist/main.js is missing; `require` fails instead; `off` never runs them. */
  readonly sibyl: 'auto' | 'require' | 'off';
  /**
   * The split topology (management, router, workers, gateway; needs DATABASE_URL and REDIS_URL):
   * `auto` skips it, saying why, when something it needs is missing; `require` fails instead; `off` never runs it.
   */
  readonly split: 'auto' | 'require' | 'off';
  /** ONNX workers behind the split gateway. Default 1 (one process per hop, as the all-in-one is one process). */
  readonly splitWorkers: number;
  /** Diagnostics: a directory where the split gateway and workers write V8 CPU profiles (`node --cpu-prof`) when they stop. Default none. */
  readonly splitCpuProfileDir: string | null;
  /** The dynamic batching section (an MLP served with and without dynamic_batching at concurrency 64): `auto` runs it when the all-in-one is built, `off` never. */
  readonly batching: 'auto' | 'off';
  /** The batching section's MLP: width of each square MatMul, and how many. Defaults 1024 and 8. */
  readonly batchingWidth: number;
  readonly batchingLayers: number;
  /** The TensorFlow.js section (worker-tf over REST and the runtime in-process against raw predict): `auto` runs it when DATABASE_URL is set and the worker is built, `off` never. */
  readonly tf: 'auto' | 'off';
  /** The cache churn section (200 models, a worker budget for 20, Zipf requests; needs DATABASE_URL and the built apps): `auto` runs it when it can, `off` never. */
  readonly churn: 'auto' | 'off';
  /** Also cross-check baseline and Sibyl REST JSON throughput with wrk when it is on PATH: auto, off. Default auto. */
  readonly wrk: 'auto' | 'off';
  /** Longest wait for a server to print its ready line, seconds. Default 60. */
  readonly startTimeoutSeconds: number;
  /** Results file name, without `.json`. Default `run-<UTC timestamp>`. */
  readonly name: string;
  readonly quick: boolean;
}

/** An error the bench expects and explains in its message (printed without a stack trace). */
export class BenchError extends Error {
  constructor(
    readonly code: 'BENCH_CONFIG_INVALID' | 'BENCH_TARGET_UNAVAILABLE',
    message: string,
  ) {
    super(message);
    this.name = 'BenchError';
  }
}

export class BenchConfigError extends BenchError {
  constructor(variable: string, why: string) {
    super('BENCH_CONFIG_INVALID', `invalid ${variable}: ${why}`);
    this.name = 'BenchConfigError';
  }
}

function num(env: NodeJS.ProcessEnv, variable: string, fallback: number, opts: { min: number; integer?: boolean }): number {
  const raw = env[variable];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < opts.min || (opts.integer === true && !Number.isInteger(n))) {
    throw new BenchConfigError(variable, `expected ${opts.integer === true ? 'an integer' : 'a number'} >= ${opts.min}, got '${raw}'`);
  }
  return n;
}

function choice<T extends string>(env: NodeJS.ProcessEnv, variable: string, choices: readonly T[], fallback: T): T {
  const raw = env[variable]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!(choices as readonly string[]).includes(raw)) throw new BenchConfigError(variable, `expected one of ${choices.join(', ')}, got '${raw}'`);
  return raw as T;
}

function flag(env: NodeJS.ProcessEnv, variable: string): boolean {
  const raw = env[variable]?.trim().toLowerCase();
  if (raw === undefined || raw === '' || ['0', 'false', 'no', 'off'].includes(raw)) return false;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  throw new BenchConfigError(variable, `expected 1 or 0, got '${raw}'`);
}

function timestamp(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
}

export function loadBenchConfig(env: NodeJS.ProcessEnv = process.env, now = new Date()): BenchConfig {
  const quick = flag(env, 'BENCH_QUICK');
  const concurrencyRaw = env.BENCH_CONCURRENCY?.trim() || '1,16,64';
  const concurrency = concurrencyRaw.split(',').map((s) => Number(s.trim()));
  if (concurrency.some((c) => !Number.isInteger(c) || c < 1 || c > 1024)) {
    throw new BenchConfigError('BENCH_CONCURRENCY', `expected a comma-separated list of integers 1..1024, got '${concurrencyRaw}'`);
  }
  const targetsRaw = env.BENCH_TARGETS?.trim() || TARGETS.join(',');
  const targets = targetsRaw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const t of targets) {
    if (!(TARGETS as readonly string[]).includes(t)) throw new BenchConfigError('BENCH_TARGETS', `unknown target '${t}'; known: ${TARGETS.join(', ')}`);
  }
  const name = env.BENCH_NAME?.trim() || `run-${timestamp(now)}`;
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(name) || name === 'latest') {
    throw new BenchConfigError('BENCH_NAME', `'${name}' must match ^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$ and not be 'latest'`);
  }
  return Object.freeze({
    seconds: num(env, 'BENCH_SECONDS', quick ? 2 : 10, { min: 0.1 }),
    warmupSeconds: num(env, 'BENCH_WARMUP_SECONDS', quick ? 0.5 : 2, { min: 0 }),
    concurrency: Object.freeze([...new Set(concurrency)]),
    targets: Object.freeze(TARGETS.filter((t) => targets.includes(t))),
    rounds: num(env, 'BENCH_ROUNDS', 1, { min: 1, integer: true }),
    largeRequests: num(env, 'BENCH_LARGE_REQUESTS', quick ? 5 : 20, { min: 1, integer: true }),
    largeWarmup: num(env, 'BENCH_LARGE_WARMUP', quick ? 2 : 5, { min: 0, integer: true }),
    sibyl: choice(env, 'BENCH_SIBYL', ['auto', 'require', 'off'] as const, 'auto'),
    split: choice(env, 'BENCH_SPLIT', ['auto', 'require', 'off'] as const, 'auto'),
    splitWorkers: num(env, 'BENCH_SPLIT_WORKERS', 1, { min: 1, integer: true }),
    splitCpuProfileDir: env.BENCH_SPLIT_CPU_PROF?.trim() || null,
    batching: choice(env, 'BENCH_BATCHING', ['auto', 'off'] as const, 'auto'),
    batchingWidth: num(env, 'BENCH_BATCHING_WIDTH', 1024, { min: 1, integer: true }),
    batchingLayers: num(env, 'BENCH_BATCHING_LAYERS', 8, { min: 1, integer: true }),
    tf: choice(env, 'BENCH_TF', ['auto', 'off'] as const, 'auto'),
    churn: choice(env, 'BENCH_CHURN', ['auto', 'off'] as const, 'auto'),
    wrk: choice(env, 'BENCH_WRK', ['auto', 'off'] as const, 'auto'),
    startTimeoutSeconds: num(env, 'BENCH_START_TIMEOUT_SECONDS', 60, { min: 1 }),
    name,
    quick,
  });
}

/** Where the split topology keeps its state, from DATABASE_URL and REDIS_URL; `skip` says why it cannot run. */
export type SplitEnvironment = { databaseUrl: string; redisUrl: string } | { skip: string };

export function splitEnvironment(env: NodeJS.ProcessEnv = process.env): SplitEnvironment {
  const databaseUrl = env.DATABASE_URL?.trim() ?? '';
  const redisUrl = env.REDIS_URL?.trim() ?? '';
  const unset = [databaseUrl === '' ? 'DATABASE_URL' : null, redisUrl === '' ? 'REDIS_URL' : null].filter((v) => v !== null);
  if (unset.length > 0) return { skip: `${unset.join(' and ')} ${unset.length > 1 ? 'are' : 'is'} unset (the split topology needs PostgreSQL and Redis)` };
  if (!/^postgres(ql)?:\/\//.test(databaseUrl)) throw new BenchConfigError('DATABASE_URL', 'expected a postgres:// or postgresql:// URL');
  if (!/^rediss?:\/\//.test(redisUrl)) throw new BenchConfigError('REDIS_URL', 'expected a redis:// URL');
  return { databaseUrl, redisUrl };
}
