/**
 * The bench's settings: declared once with defaults and units, read from `BENCH_*` environment
 * variables, validated, frozen. A bad value stops the bench with a message naming the variable.
 */

/** Every measured target, in the order the table lists them. */
export const TARGETS = ['session-run', 'baseline', 'sibyl-json', 'sibyl-binary', 'sibyl-grpc', 'large'] as const;
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
    wrk: choice(env, 'BENCH_WRK', ['auto', 'off'] as const, 'auto'),
    startTimeoutSeconds: num(env, 'BENCH_START_TIMEOUT_SECONDS', 60, { min: 1 }),
    name,
    quick,
  });
}
