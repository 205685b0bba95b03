import { describe, expect, it } from 'vitest';
import { medianBy, percentile, summarize } from './stats.js';

describe('percentile', () => {
  it('is nearest-rank: the smallest sample with at least q of the samples at or below it', () => {
    const sorted = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(percentile(sorted, 0.5)).toBe(5);
    expect(percentile(sorted, 0.9)).toBe(9);
    expect(percentile(sorted, 0.99)).toBe(10);
    expect(percentile(sorted, 0)).toBe(1);
  });

  it('is NaN for no samples', () => {
    expect(percentile(new Float64Array(0), 0.5)).toBeNaN();
  });
});

describe('summarize', () => {
  it('sorts milliseconds and reports microseconds', () => {
    const s = summarize(Float64Array.from([0.3, 0.1, 0.2]));
    expect(s).toMatchObject({ samples: 3, minUs: 100, p50Us: 200, maxUs: 300, meanUs: 200 });
  });
});

describe('medianBy', () => {
  it('picks a measured item, the lower middle for an even count', () => {
    expect(medianBy([{ v: 3 }, { v: 1 }, { v: 2 }], (x) => x.v)).toEqual({ v: 2 });
    expect(medianBy([{ v: 4 }, { v: 1 }, { v: 3 }, { v: 2 }], (x) => x.v)).toEqual({ v: 2 });
  });
});
