/** Latency summaries. Samples are milliseconds (performance.now() differences); summaries are microseconds. */

export interface LatencySummary {
  /** Samples summarised. */
  readonly samples: number;
  readonly meanUs: number;
  readonly minUs: number;
  readonly p50Us: number;
  readonly p90Us: number;
  readonly p99Us: number;
  readonly p999Us: number;
  readonly maxUs: number;
}

/** Nearest-rank percentile of an ascending array: the smallest sample with at least q of the samples at or below it. */
export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** Sorts `samplesMs` in place and summarises it in microseconds, rounded to 0.1 us. */
export function summarize(samplesMs: Float64Array): LatencySummary {
  samplesMs.sort();
  let sum = 0;
  for (let i = 0; i < samplesMs.length; i++) sum += samplesMs[i]!;
  const us = (ms: number) => Math.round(ms * 10_000) / 10;
  return {
    samples: samplesMs.length,
    meanUs: us(samplesMs.length === 0 ? Number.NaN : sum / samplesMs.length),
    minUs: us(samplesMs[0] ?? Number.NaN),
    p50Us: us(percentile(samplesMs, 0.5)),
    p90Us: us(percentile(samplesMs, 0.9)),
    p99Us: us(percentile(samplesMs, 0.99)),
    p999Us: us(percentile(samplesMs, 0.999)),
    maxUs: us(samplesMs[samplesMs.length - 1] ?? Number.NaN),
  };
}

/** Median of a non-empty list (the lower middle for an even count, so it is always a measured value). */
export function medianBy<T>(items: readonly T[], key: (item: T) => number): T {
  const sorted = [...items].sort((a, b) => key(a) - key(b));
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}
