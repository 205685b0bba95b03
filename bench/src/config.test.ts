import { describe, expect, it } from 'vitest';
import { BenchConfigError, loadBenchConfig, splitEnvironment, TARGETS } from './config.js';

const now = new Date('2026-01-02T03:04:05.678Z');

describe('loadBenchConfig', () => {
  it('defaults to every target at 1, 16 and 64 for 10 s each', () => {
    const c = loadBenchConfig({}, now);
    expect(c).toMatchObject({ seconds: 10, warmupSeconds: 2, concurrency: [1, 16, 64], rounds: 1, sibyl: 'auto', name: 'run-2026-01-02T03-04-05Z' });
    expect(c.targets).toEqual(TARGETS);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('shortens everything in quick mode, and explicit settings still win', () => {
    expect(loadBenchConfig({ BENCH_QUICK: '1' }, now)).toMatchObject({ seconds: 2, warmupSeconds: 0.5, largeRequests: 5, quick: true });
    expect(loadBenchConfig({ BENCH_QUICK: '1', BENCH_SECONDS: '3' }, now).seconds).toBe(3);
  });

  it('runs the batching and TF sections by default; BENCH_BATCHING=off and BENCH_TF=off turn them off', () => {
    expect(loadBenchConfig({}, now)).toMatchObject({ batching: 'auto', tf: 'auto', batchingWidth: 1024, batchingLayers: 8 });
    expect(loadBenchConfig({}, now).targets).toEqual(expect.arrayContaining(['batching', 'tf']));
    expect(loadBenchConfig({ BENCH_BATCHING: 'off', BENCH_TF: 'off', BENCH_BATCHING_WIDTH: '512' }, now)).toMatchObject({ batching: 'off', tf: 'off', batchingWidth: 512 });
  });

  it('keeps targets in table order whatever order they are given in', () => {
    expect(loadBenchConfig({ BENCH_TARGETS: 'large, baseline' }, now).targets).toEqual(['baseline', 'large']);
  });

  it.each([
    ['BENCH_SECONDS', 'ten'],
    ['BENCH_CONCURRENCY', '1,0'],
    ['BENCH_TARGETS', 'triton'],
    ['BENCH_BATCHING', 'maybe'],
    ['BENCH_TF', 'require'],
    ['BENCH_BATCHING_WIDTH', '0'],
    ['BENCH_ROUNDS', '1.5'],
    ['BENCH_SIBYL', 'maybe'],
    ['BENCH_SPLIT', 'sometimes'],
    ['BENCH_SPLIT_WORKERS', '0'],
    ['BENCH_NAME', '../escape'],
    ['BENCH_NAME', 'latest'],
    ['BENCH_QUICK', 'sure'],
  ])('names %s when it is %s', (variable, value) => {
    expect(() => loadBenchConfig({ [variable]: value }, now)).toThrow(BenchConfigError);
    expect(() => loadBenchConfig({ [variable]: value }, now)).toThrow(variable);
  });
});

describe('splitEnvironment', () => {
  const db = 'postgres://postgres@127.0.0.1:5432/test';
  const redis = 'redis://127.0.0.1:6379';

  it('runs the split topology on DATABASE_URL and REDIS_URL, with one worker by default', () => {
    expect(splitEnvironment({ DATABASE_URL: db, REDIS_URL: redis })).toEqual({ databaseUrl: db, redisUrl: redis });
    expect(loadBenchConfig({}, now)).toMatchObject({ split: 'auto', splitWorkers: 1 });
  });

  it('says which variable is missing when it cannot', () => {
    expect(splitEnvironment({})).toEqual({ skip: expect.stringMatching(/^DATABASE_URL and REDIS_URL are unset/) });
    expect(splitEnvironment({ DATABASE_URL: db, REDIS_URL: ' ' })).toEqual({ skip: expect.stringMatching(/^REDIS_URL is unset/) });
  });

  it('names a URL of the wrong kind', () => {
    expect(() => splitEnvironment({ DATABASE_URL: 'mysql://x@y/z', REDIS_URL: redis })).toThrow(/DATABASE_URL/);
    expect(() => splitEnvironment({ DATABASE_URL: db, REDIS_URL: 'http://y' })).toThrow(/REDIS_URL/);
  });
});
