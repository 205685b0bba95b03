/**
 * Triton's per-version statistics (the statistics extension), kept as plain numbers: the hot path
 * adds to a few fields of one object, and the report is built only when someone asks for it. This is
 * the same split as @sibyl/observability's collected counters, without their labels: nothing here
 * touches prom-client.
 *
 * A record belongs to one loaded version (a WeakMap keyed by its LoadedVersion), so a version that
 * reloads starts from zero, as in Triton, and an unloaded version's record goes with it.
 *
 * Durations are summed in nanoseconds as doubles: exact up to 2^53 ns (about 104 days of cumulated
 * time per counter), and still integers, within a relative 1e-16, far beyond.
 */
import type { InferBatchStatistics, ModelStatistics, StatisticDuration } from '@sibyl/protocol';

/** One executed batch size: executions, and their input, run and output times (ns). */
interface BatchRecord {
  count: number;
  inputNs: number;
  inferNs: number;
  outputNs: number;
}

/** The mutable counters of one loaded version. */
export class VersionStatistics {
  lastInferenceMs = 0;
  inferenceCount = 0;
  executionCount = 0;
  successCount = 0;
  successNs = 0;
  failCount = 0;
  failNs = 0;
  queueNs = 0;
  computeInputNs = 0;
  computeInferNs = 0;
  computeOutputNs = 0;
  private readonly batches = new Map<number, BatchRecord>();

  /**
   * One successful request of `batchSize` inferences. Its queue, input, run and output times count
   * in the request statistics (compute_infer: the run it took part in, whole); the run itself is
   * counted separately, once, by executed().
   */
  succeeded(batchSize: number, requestNs: number, queueNs: number, inputNs: number, inferNs: number, outputNs: number): void {
    this.lastInferenceMs = Date.now();
    this.inferenceCount += batchSize;
    this.successCount++;
    this.successNs += requestNs;
    this.queueNs += queueNs;
    this.computeInputNs += inputNs;
    this.computeInferNs += inferNs;
    this.computeOutputNs += outputNs;
  }

  failed(requestNs: number): void {
    this.lastInferenceMs = Date.now();
    this.failCount++;
    this.failNs += requestNs;
  }

  /** One model execution of `rows` inferences (a dynamic batch counts once). */
  executed(rows: number, inputNs: number, inferNs: number, outputNs: number): void {
    this.executionCount++;
    let batch = this.batches.get(rows);
    if (batch === undefined) {
      batch = { count: 0, inputNs: 0, inferNs: 0, outputNs: 0 };
      this.batches.set(rows, batch);
    }
    batch.count++;
    batch.inputNs += inputNs;
    batch.inferNs += inferNs;
    batch.outputNs += outputNs;
  }

  /** A snapshot in the protocol's form. */
  report(name: string, version: string): ModelStatistics {
    const duration = (count: number, ns: number): StatisticDuration => ({ count, ns: Math.round(ns) });
    const ok = this.successCount;
    const batchStats: InferBatchStatistics[] = [...this.batches]
      .sort(([a], [b]) => a - b)
      .map(([batchSize, b]) => ({
        batchSize,
        computeInput: duration(b.count, b.inputNs),
        computeInfer: duration(b.count, b.inferNs),
        computeOutput: duration(b.count, b.outputNs),
      }));
    return {
      name,
      version,
      lastInference: this.lastInferenceMs,
      inferenceCount: this.inferenceCount,
      executionCount: this.executionCount,
      inferenceStats: {
        success: duration(ok, this.successNs),
        fail: duration(this.failCount, this.failNs),
        queue: duration(ok, this.queueNs),
        computeInput: duration(ok, this.computeInputNs),
        computeInfer: duration(ok, this.computeInferNs),
        computeOutput: duration(ok, this.computeOutputNs),
        cacheHit: duration(0, 0),
        cacheMiss: duration(0, 0),
      },
      batchStats,
    };
  }
}

/** The statistics of every loaded version, found by the version's own object. */
export class StatisticsTable<K extends object> {
  private readonly records = new WeakMap<K, VersionStatistics>();

  /** The record of `key`, created on first use. */
  of(key: K): VersionStatistics {
    let record = this.records.get(key);
    if (record === undefined) {
      record = new VersionStatistics();
      this.records.set(key, record);
    }
    return record;
  }

  /** The snapshot of `key`: all zeros when it never served a request. */
  report(key: K | undefined, name: string, version: string): ModelStatistics {
    const record = key === undefined ? undefined : this.records.get(key);
    return (record ?? new VersionStatistics()).report(name, version);
  }
}
