import { describe, expect, it } from 'vitest';
import { checkTensor } from './checks.js';
import type { LoadResult } from './load-spec.js';
import { batchingMarkdown, churnMarkdown, tfMarkdown } from './report.js';
import {
  batchingVerdicts,
  churnModelName,
  churnVerdicts,
  histogramQuantile,
  parseHistogram,
  metricsDelta,
  parseCounters,
  parseGauges,
  tfVerdicts,
  zipfCdf,
  zipfPick,
  zipfTopShare,
  type BatchingSection,
  type TfSection,
} from './sections.js';

function result(rps: number, p50Us: number, p99Us = p50Us * 2, extra: Partial<LoadResult> = {}): LoadResult {
  return {
    workload: 'tensor-binary',
    plan: { kind: 'duration', concurrency: 64, warmupSeconds: 0, seconds: 1 },
    completed: rps,
    measuredSeconds: 1,
    requestsPerSecond: rps,
    latency: { samples: rps, meanUs: p50Us, minUs: p50Us, p50Us, p90Us: p50Us, p99Us, p999Us: p99Us, maxUs: p99Us },
    errors: 0,
    checked: 2,
    checkedOk: 2,
    droppedSamples: 0,
    ...extra,
  };
}

const EXPOSITION = [
  '# HELP nv_inference_exec_count Number of model executions performed',
  '# TYPE nv_inference_exec_count counter',
  'nv_inference_exec_count{model="mlp_batched",version="1"} 10',
  'nv_inference_exec_count{model="mlp",version="1"} 999',
  'nv_inference_request_success{model="mlp_batched",version="1"} 320',
  'nv_inference_count{model="mlp_batched",version="1"} 320',
  'nv_inference_compute_infer_duration_us{model="mlp_batched",version="1"} 64000',
  'nv_inference_queue_duration_us{model="mlp_batched",version="1"} 3200',
  'nv_inference_exec_count{model="mlp_batched_other",version="1"} 5',
].join('\n');

describe('server counters', () => {
  it('reads the counters of one model only, and their differences per request and per execution', () => {
    const after = parseCounters(EXPOSITION, 'mlp_batched');
    expect(after).toEqual({ success: 320, count: 320, executions: 10, computeUs: 64000, queueUs: 3200 });
    expect(parseCounters(EXPOSITION, 'mlp').executions).toBe(999);
    const before = { success: 0, count: 0, executions: 0, computeUs: 0, queueUs: 0 };
    // A batch's compute time is added to each of its requests: per request it is the batch's time.
    expect(metricsDelta(before, after)).toEqual({ requests: 320, executions: 10, meanBatch: 32, computeUsPerRequest: 200, queueUsPerRequest: 10 });
    expect(metricsDelta(after, after)).toBeNull();
  });
});

const section = (on: LoadResult | null, off: LoadResult | null, computeUsPerRequest: number | null): BatchingSection => ({
  model: { width: 256, layers: 4, outputs: 16, maxBatchSize: 64, description: 'MLP' },
  dynamicBatching: { preferred_batch_size: [16, 32, 64], max_queue_delay_microseconds: 2000 },
  concurrency: 64,
  inProcess: { batch1Us: 30, batch64Us: 400 },
  cells: [
    { variant: 'off', model: 'mlp', result: off },
    {
      variant: 'on',
      model: 'mlp_batched',
      result: on,
      metrics: computeUsPerRequest === null ? null : { requests: 1, executions: 1, meanBatch: 32, computeUsPerRequest, queueUsPerRequest: 1 },
    },
  ],
});

describe('batchingVerdicts', () => {
  it('passes at exactly 3x and at p99 = max_queue_delay + 2 x the compute time from the metrics', () => {
    const [throughput, p99] = batchingVerdicts(section(result(3000, 1000, 2600), result(1000, 5000), 300));
    expect(throughput).toMatchObject({ id: 'batching-throughput-c64', value: 3, threshold: 3, pass: true });
    expect(p99).toMatchObject({ id: 'batching-p99-c64', value: 2600, threshold: 2600, comparison: '<=', pass: true });
    const [t2, p2] = batchingVerdicts(section(result(2999, 1000, 2601), result(1000, 5000), 300));
    expect([t2!.pass, p2!.pass]).toEqual([false, false]);
  });

  it('falls back on the in-process batch of 64 without metrics, and reads not measured without a cell', () => {
    const [, p99] = batchingVerdicts(section(result(3000, 1000, 2000), result(1000, 5000), null));
    expect(p99).toMatchObject({ threshold: 2800, pass: true });
    expect(p99!.detail).toContain('in-process');
    const failed = section(null, result(1000, 5000), null);
    failed.cells[1]!.error = 'boom';
    expect(batchingVerdicts(failed).map((v) => [v.pass, v.detail])).toEqual([
      [null, 'batching on: boom'],
      [null, 'batching on: boom'],
    ]);
    const errors = section(result(9000, 1000, 2000, { errors: 3, firstError: 'x' }), result(1000, 5000), 300);
    expect(batchingVerdicts(errors)[0]!.pass).toBeNull();
    expect(batchingVerdicts(undefined)).toEqual([]);
  });

  it('renders a table row per variant, or why the section was skipped', () => {
    const md = batchingMarkdown(section(result(3000, 1000), result(1000, 5000), 300)).join('\n');
    expect(md).toContain('| on | mlp_batched | 3,000 |');
    expect(md).toContain('max_queue_delay_microseconds: 2000');
    expect(batchingMarkdown({ ...section(null, null, null), skipped: 'BENCH_BATCHING=off' }).join('\n')).toContain('Skipped: BENCH_BATCHING=off.');
  });
});

describe('tfVerdicts', () => {
  const tf = (worker: LoadResult | null, runtime: LoadResult | null, raw: LoadResult | null): TfSection => ({
    model: 'iris_tf',
    concurrency: 16,
    cells: [
      { target: 'raw-predict', result: raw },
      { target: 'runtime', result: runtime },
      worker === null ? { target: 'worker-rest', result: null, skipped: 'DATABASE_URL is unset' } : { target: 'worker-rest', result: worker },
    ],
  });

  it('gates the worker over REST at 0.8x raw predict and reports the runtime in-process', () => {
    const [worker, runtime] = tfVerdicts(tf(result(800, 10), result(900, 10), result(1000, 5)));
    expect(worker).toMatchObject({ id: 'tf-worker-rest-vs-raw-iris_tf-c16', value: 0.8, threshold: 0.8, pass: true });
    expect(runtime).toMatchObject({ id: 'tf-runtime-vs-raw-iris_tf-c16', value: 0.9, threshold: null, pass: null });
    expect(tfVerdicts(tf(result(799, 10), null, result(1000, 5)))[0]!.pass).toBe(false);
    // A model measured for the record only: the same ratio, no threshold.
    expect(tfVerdicts({ ...tf(result(100, 10), null, result(1000, 5)), gated: false })[0]).toMatchObject({ value: 0.1, threshold: null, pass: null });
  });

  it('says why the worker row is missing', () => {
    const [worker] = tfVerdicts(tf(null, result(900, 10), result(1000, 5)));
    expect(worker).toMatchObject({ value: null, pass: null });
    expect(worker!.detail).toContain('DATABASE_URL is unset');
    expect(tfMarkdown(tf(null, result(900, 10), result(1000, 5))).join('\n')).toContain('| worker-tf over REST JSON (own process) | skipped |');
  });
});

describe('checkTensor', () => {
  const c = { output: 'y', outputShape: [1, 2], expected: [1, -2], tolerance: 1e-4 };
  it('accepts values within tolerance and refuses a wrong shape, datatype or value', () => {
    expect(() => checkTensor({ name: 'y', datatype: 'FP32', shape: [1, 2], values: [1.00005, -2.0002] }, c)).not.toThrow();
    expect(() => checkTensor({ name: 'y', datatype: 'FP32', shape: [2], values: [1, -2] }, c)).toThrow(/expected FP32 \[1,2\]/);
    expect(() => checkTensor({ name: 'y', datatype: 'FP64', shape: [1, 2], values: [1, -2] }, c)).toThrow(/FP64/);
    expect(() => checkTensor({ name: 'y', datatype: 'FP32', shape: [1, 2], values: [1, -2.01] }, c)).toThrow(/value 1 is -2.01/);
    expect(() => checkTensor({ name: 'y', datatype: 'FP32', shape: [1, 2], values: [1, Number.NaN] }, c)).toThrow();
  });
});

describe('cache churn helpers', () => {
  it('draws ranks by a Zipf law and knows the share of the most requested', () => {
    const cdf = zipfCdf(4, 1);
    // weights 1, 1/2, 1/3, 1/4 over 25/12
    expect(Array.from(cdf).map((x) => Math.round(x * 1000) / 1000)).toEqual([0.48, 0.72, 0.88, 1]);
    expect(zipfPick(cdf, 0)).toBe(0);
    expect(zipfPick(cdf, 0.479)).toBe(0);
    expect(zipfPick(cdf, 0.481)).toBe(1);
    expect(zipfPick(cdf, 0.9999)).toBe(3);
    expect(zipfTopShare(200, 1, 20)).toBeCloseTo(0.612, 3);
    expect(churnModelName(7)).toBe('churn_007');
  });

  it('reads unlabelled gauges and sums labelled series', () => {
    const text = '# HELP sibyl_model_cache_bytes x\nsibyl_model_cache_bytes 1048576\nsibyl_model_cache_hits_total{pool="onnx"} 3\nsibyl_model_cache_hits_total{pool="b"} 4\nother 9\n';
    expect(parseGauges(text, ['sibyl_model_cache_bytes', 'sibyl_model_cache_hits_total'])).toEqual({ sibyl_model_cache_bytes: 1048576, sibyl_model_cache_hits_total: 7 });
  });

  it('reports the hit rate with no threshold, or why it was not measured', () => {
    const base = { models: 200, fit: 20, zipfS: 1, concurrency: 16, idealHitRate: 0.612 };
    const [v] = churnVerdicts({ ...base, result: result(20, 1000), cache: { hits: 40, misses: 60, evictions: 5, hitRate: 0.4, modelsAtEnd: 20, bytesAtEnd: 1 } });
    expect(v).toMatchObject({ id: 'churn-hit-rate', value: 0.4, threshold: null, pass: null });
    expect(v!.detail).toContain('60 misses');
    expect(churnVerdicts({ ...base, result: null, skipped: 'DATABASE_URL is unset' })[0]).toMatchObject({ value: null, detail: 'DATABASE_URL is unset' });
    expect(churnMarkdown({ ...base, result: null, skipped: 'BENCH_CHURN=off' }).join('\n')).toContain('Skipped: BENCH_CHURN=off.');
  });

  it('passes the peak when the budget was passed by no more than the model loading then, and fails it past that', () => {
    const base = { models: 200, fit: 20, zipfS: 1, concurrency: 16, idealHitRate: 0.612, budgetBytes: 1000, chargePerModelBytes: 50 };
    const cache = { hits: 40, misses: 60, evictions: 5, hitRate: 0.4, modelsAtEnd: 20, bytesAtEnd: 1 };
    const peak = (peakBytes: number, peakLoadBytes: number) =>
      churnVerdicts({ ...base, result: result(20, 1000), cache: { ...cache, peakBytes, peakLoadBytes } }).find((v) => v.id === 'churn-peak-bytes')!;
    expect(peak(900, 50)).toMatchObject({ value: 900, threshold: 1050, pass: true });
    expect(peak(1120, 150)).toMatchObject({ threshold: 1150, pass: true });
    expect(peak(1120, 150).detail).toContain('past it by 120 bytes, while loading a model charged 150 bytes');
    expect(peak(1200, 150)).toMatchObject({ pass: false });
  });
});

describe('histogramQuantile', () => {
  const h = (counts: number[], les = [0.01, 0.1, 1, Infinity]) => les.map((le, i) => ({ le, count: counts[i]! }));

  it('interpolates within the bucket of the observations between two scrapes', () => {
    // 100 new observations: 50 in (0, 0.01], 40 in (0.01, 0.1], 10 in (0.1, 1].
    expect(histogramQuantile(0.5, h([5, 5, 5, 5]), h([55, 95, 105, 105]))).toBeCloseTo(0.01, 6);
    expect(histogramQuantile(0.9, h([0, 0, 0, 0]), h([50, 90, 100, 100]))).toBeCloseTo(0.1, 6);
    expect(histogramQuantile(0.99, h([0, 0, 0, 0]), h([50, 90, 100, 100]))).toBeCloseTo(0.1 + 0.9 * 0.9, 6);
  });

  it('is null without observations, and the highest finite bound past it', () => {
    expect(histogramQuantile(0.5, h([3, 3, 3, 3]), h([3, 3, 3, 3]))).toBeNull();
    expect(histogramQuantile(0.99, h([0, 0, 0, 0]), h([0, 0, 0, 10]))).toBe(1);
  });

  it('reads cumulative buckets from the exposition text, summed over label sets', () => {
    const text = ['m_bucket{le="0.1"} 2', 'm_bucket{le="+Inf"} 3', 'm_bucket{model="a",le="0.1"} 1', 'm_bucket{model="a",le="+Inf"} 1', 'm_sum 1', 'other_bucket{le="0.1"} 9'].join('\n');
    expect(parseHistogram(text, 'm')).toEqual([{ le: 0.1, count: 3 }, { le: Infinity, count: 4 }]);
  });
});
