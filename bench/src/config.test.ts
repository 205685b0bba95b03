import { describe, expect, it } from 'vitest';
import { BenchConfigError, loadBenchConfig, TARGETS } from './config.js';

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

  it('keeps targets in table order whatever order they are given in', () => {
    expect(loadBenchConfig({ BENCH_TARGETS: 'large, baseline' }, now).targets).toEqual(['baseline', 'large']);
  });

  it.each([
    ['BENCH_SECONDS', 'ten'],
    ['BENCH_CONCURRENCY', '1,0'],
    ['BENCH_TARGETS', 'triton'],
    ['BENCH_ROUNDS', '1.5'],
    ['BENCH_SIBYL', 'maybe'],
    ['BENCH_NAME', '../escape'],
    ['BENCH_NAME', 'latest'],
    ['BENCH_QUICK', 'sure'],
  ])('names %s when it is %s', (variable, value) => {
    expect(() => loadBenchConfig({ [variable]: value }, now)).toThrow(BenchConfigError);
    expect(() => loadBenchConfig({ [variable]: value }, now)).toThrow(variable);
  });
});
