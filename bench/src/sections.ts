/**
 * The dynamic batching and TensorFlow.js sections: their shape in bench/results/<name>.json, the
 * server-metrics arithmetic they use, and their verdicts. Pure (no processes), so tested directly.
 */
import type { LoadResult } from './load-spec.js';
import type { Verdict } from './results.js';

/** The issue's targets. */
export const BATCHING_MIN_SPEEDUP = 3;
export const TF_MIN_RATIO = 0.8;

/** Per-model counters from the server's Prometheus endpoint (Triton's names). */
export interface ModelCounters {
  success: number;
  count: number;
  executions: number;
  computeUs: number;
  queueUs: number;
}

/** What the server did during a cell (warm-up and the checked requests included). */
export interface MetricsDelta {
  requests: number;
  executions: number;
  /** Inferences (rows) per execution. */
  meanBatch: number;
  /**
   * nv_inference_compute_infer_duration_us / nv_inference_request_success: Sibyl, as Triton, adds a
   * batch's compute time to every request in it, so this is the compute time of the batch a request
   * ran in (per execution it would count each batch once per request).
   */
  computeUsPerRequest: number;
  queueUsPerRequest: number;
}

const COUNTERS: Record<keyof ModelCounters, string> = {
  success: 'nv_inference_request_success',
  count: 'nv_inference_count',
  executions: 'nv_inference_exec_count',
  computeUs: 'nv_inference_compute_infer_duration_us',
  queueUs: 'nv_inference_queue_duration_us',
};

/** Sums each counter over the series of `model` (every version) in a Prometheus text exposition. */
export function parseCounters(text: string, model: string): ModelCounters {
  const out: ModelCounters = { success: 0, count: 0, executions: 0, computeUs: 0, queueUs: 0 };
  const names = new Map(Object.entries(COUNTERS).map(([k, v]) => [v, k as keyof ModelCounters]));
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}\s+(\S+)/.exec(line);
    if (m === null) continue;
    const key = names.get(m[1]!);
    if (key === undefined) continue;
    if (!new RegExp(`(^|,)\\s*model="${model.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"`).test(m[2]!)) continue;
    const v = Number(m[3]);
    if (Number.isFinite(v)) out[key] += v;
  }
  return out;
}

export async function scrapeCounters(url: string, model: string): Promise<ModelCounters> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}`);
  return parseCounters(await res.text(), model);
}

const round1 = (x: number) => Math.round(x * 10) / 10;

/** Null when the server ran nothing in between (no metrics to speak of). */
export function metricsDelta(a: ModelCounters, b: ModelCounters): MetricsDelta | null {
  const requests = b.success - a.success;
  const executions = b.executions - a.executions;
  if (requests <= 0 || executions <= 0) return null;
  return {
    requests,
    executions,
    meanBatch: round1((b.count - a.count) / executions),
    computeUsPerRequest: round1((b.computeUs - a.computeUs) / requests),
    queueUsPerRequest: round1((b.queueUs - a.queueUs) / requests),
  };
}

export interface BatchingCell {
  variant: 'off' | 'on';
  model: string;
  result: LoadResult | null;
  metrics?: MetricsDelta | null;
  error?: string;
}

export interface BatchingSection {
  model: { width: number; layers: number; outputs: number; maxBatchSize: number; description: string };
  dynamicBatching: { preferred_batch_size: number[]; max_queue_delay_microseconds: number };
  concurrency: number;
  /** Median in-process session.run of the same model, batch 1 and batch max_batch_size, us. */
  inProcess?: { batch1Us: number; batch64Us: number };
  server?: { pid: number };
  cells: BatchingCell[];
  skipped?: string;
  error?: string;
}

/** The churn section's model names: churn_000 ... */
export const churnModelName = (i: number) => `churn_${String(i).padStart(3, '0')}`;

/** Zipf weights of ranks 1..n (exponent s), as a cumulative distribution ending at 1. */
export function zipfCdf(n: number, s: number): Float64Array {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let k = 1; k <= n; k++) cdf[k - 1] = sum += 1 / k ** s;
  for (let i = 0; i < n; i++) cdf[i]! /= sum;
  cdf[n - 1] = 1;
  return cdf;
}

/** The share of requests the `top` most requested models get: the hit rate of a cache that always held exactly them. */
export function zipfTopShare(n: number, s: number, top: number): number {
  return zipfCdf(n, s)[Math.min(top, n) - 1]!;
}

/** Index (0-based rank) of the model a uniform `u` in [0,1) picks. */
export function zipfPick(cdf: Float64Array, u: number): number {
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (u < cdf[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Unlabelled gauges and counters (summed over their series) from a Prometheus text exposition. */
export function parseGauges(text: string, names: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m === null || !names.includes(m[1]!)) continue;
    const v = Number(m[3]);
    if (Number.isFinite(v)) out[m[1]!] = (out[m[1]!] ?? 0) + v;
  }
  return out;
}

/** Cumulative bucket counts of a histogram (`le` → count), summed over its label sets. */
export function parseHistogram(text: string, name: string): Array<{ le: number; count: number }> {
  const byLe = new Map<number, number>();
  for (const line of text.split('\n')) {
    const m = new RegExp(`^${name}_bucket\\{([^}]*)\\}\\s+(\\S+)`).exec(line);
    if (m === null) continue;
    const le = /le="([^"]+)"/.exec(m[1]!)?.[1];
    if (le === undefined) continue;
    const bound = le === '+Inf' ? Infinity : Number(le);
    byLe.set(bound, (byLe.get(bound) ?? 0) + Number(m[2]));
  }
  return [...byLe].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
}

/**
 * The q-quantile of the observations between two scrapes of a histogram, interpolated linearly within
 * its bucket as Prometheus's histogram_quantile does; null without observations, the highest finite
 * bound when it falls in the +Inf bucket.
 */
export function histogramQuantile(q: number, before: ReadonlyArray<{ le: number; count: number }>, after: ReadonlyArray<{ le: number; count: number }>): number | null {
  const delta = after.map((b) => ({ le: b.le, count: b.count - (before.find((x) => x.le === b.le)?.count ?? 0) }));
  const total = delta.at(-1)?.count ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const b of delta) {
    if (b.count >= rank) {
      if (b.le === Infinity) return lower;
      const inBucket = b.count - below;
      return inBucket <= 0 ? b.le : lower + ((b.le - lower) * (rank - below)) / inBucket;
    }
    lower = b.le;
    below = b.count;
  }
  return lower;
}

export interface ChurnSection {
  models: number;
  /** How many models the budget is sized for. */
  fit: number;
  zipfS: number;
  concurrency: number;
  /** The share of requests going to the `fit` most requested models. */
  idealHitRate: number;
  /** Calibration: the charge of one model after the first (which also pays for onnxruntime's start-up), and of the first. */
  chargePerModelBytes?: number;
  firstChargeBytes?: number;
  budgetBytes?: number;
  result: LoadResult | null;
  /**
   * The worker's model cache counters over the cell (warm-up included), and its state at the end; the
   * wait of a request that missed (p50, p99 from sibyl_model_cache_miss_wait_seconds, microseconds),
   * and the most the cache ever charged (sibyl_model_cache_peak_bytes) against its budget.
   */
  cache?: {
    hits: number;
    misses: number;
    evictions: number;
    hitRate: number | null;
    modelsAtEnd: number | null;
    bytesAtEnd: number | null;
    missWaitP50Us?: number | null;
    missWaitP99Us?: number | null;
    peakBytes?: number | null;
    /** The charge of the load that set peakBytes (sibyl_model_cache_peak_load_bytes). */
    peakLoadBytes?: number | null;
  };
  /** onnxruntime-node's InferenceSession.create of one churn model file in-process (median and p99 of 20), microseconds: the floor of a miss. */
  sessionCreateUs?: { p50: number; p99: number };
  skipped?: string;
  error?: string;
}

/**
 * The churn figures the issue asks for: reported, no threshold, except the budget: the cache may pass
 * it by no more than the model being loaded (the issue's contract), checked against the charge of the
 * load that set the peak.
 */
export function churnVerdicts(s: ChurnSection | undefined): Verdict[] {
  if (s === undefined) return [];
  const r = s.error === undefined ? s.result : null;
  const why = (s.skipped ?? s.error ?? 'not run').split('\n')[0]!;
  const peak = r === null ? null : (s.cache?.peakBytes ?? null);
  const limit = s.budgetBytes === undefined || s.cache?.peakLoadBytes == null ? null : s.budgetBytes + s.cache.peakLoadBytes;
  return [
    {
      id: 'churn-hit-rate',
      description: `Cache churn: ${s.models} models, budget for ${s.fit}, Zipf s=${s.zipfS}, c=${s.concurrency}: model cache hit rate`,
      value: r === null ? null : (s.cache?.hitRate ?? null),
      unit: 'x',
      comparison: null,
      threshold: null,
      pass: null,
      detail:
        r === null
          ? why
          : `${Math.round(r.requestsPerSecond)} req/s, p50 ${r.latency.p50Us} us, p99 ${r.latency.p99Us} us; ${s.cache?.evictions ?? '?'} evictions, ${s.cache?.misses ?? '?'} misses; ` +
            `a cache always holding the ${s.fit} most requested would hit ${s.idealHitRate}`,
    },
    {
      id: 'churn-miss-wait-p99',
      description: `Cache churn: what a miss waited, p99 (p50 and in-process session create beside it)`,
      value: r === null ? null : (s.cache?.missWaitP99Us ?? null),
      unit: 'us',
      comparison: null,
      threshold: null,
      pass: null,
      detail:
        r === null
          ? why
          : `miss wait p50 ${s.cache?.missWaitP50Us ?? '?'} us, p99 ${s.cache?.missWaitP99Us ?? '?'} us (worker histogram, interpolated); ` +
            `onnxruntime InferenceSession.create in-process p50 ${s.sessionCreateUs?.p50 ?? '?'} us, p99 ${s.sessionCreateUs?.p99 ?? '?'} us`,
    },
    {
      id: 'churn-peak-bytes',
      description: 'Cache churn: the most the model cache charged, against its budget plus the model loading then',
      value: peak,
      unit: 'bytes',
      comparison: '<=',
      threshold: limit,
      pass: peak === null || limit === null ? null : peak <= limit,
      detail:
        peak === null || s.budgetBytes === undefined
          ? why
          : `peak ${peak} of budget ${s.budgetBytes} bytes (${peak <= s.budgetBytes ? 'never past it' : `past it by ${peak - s.budgetBytes} bytes, while loading a model charged ${s.cache?.peakLoadBytes ?? '?'} bytes; the mean charge is ${s.chargePerModelBytes ?? '?'} bytes`})`,
    },
  ];
}

export type TfTarget = 'raw-predict' | 'runtime' | 'worker-rest';

export const TF_LABEL: Readonly<Record<TfTarget, string>> = Object.freeze({
  'raw-predict': 'raw TensorFlow.js model.predict, in-process (wasm)',
  runtime: '@sibyl/runtime-tf infer, in-process (model thread)',
  'worker-rest': 'worker-tf over REST JSON (own process)',
});

export interface TfCell {
  target: TfTarget;
  result: LoadResult | null;
  error?: string;
  skipped?: string;
}

export interface TfSection {
  model: string;
  /** What the model is (older results files lack it). */
  description?: string;
  /** Whether the worker / raw predict ratio is a target (>= 0.8x) or reported; older results files: gated. */
  gated?: boolean;
  concurrency: number;
  /** What the worker logged it runs on (its tf-backend line), when it started. */
  workerBackend?: string;
  cells: TfCell[];
  skipped?: string;
  error?: string;
}

const good = (r: LoadResult | null | undefined, error: string | undefined): r is LoadResult => r != null && error === undefined && r.errors === 0;

/** Throughput with and without dynamic batching (target >= 3x) and the batched p99 against max_queue_delay + 2 x the batch's compute time. */
export function batchingVerdicts(s: BatchingSection | undefined): Verdict[] {
  if (s === undefined) return [];
  const why = s.skipped ?? s.error?.split('\n')[0];
  const off = s.cells.find((c) => c.variant === 'off');
  const on = s.cells.find((c) => c.variant === 'on');
  const offOk = good(off?.result, off?.error) ? off!.result! : null;
  const onOk = good(on?.result, on?.error) ? on!.result! : null;
  const whyCell = (c: BatchingCell | undefined, label: string) => `${label}: ${(c?.error ?? why ?? 'not run').split('\n')[0]}`;
  const ratio = offOk !== null && onOk !== null && offOk.requestsPerSecond > 0 ? Math.round((onOk.requestsPerSecond / offOk.requestsPerSecond) * 1000) / 1000 : null;
  const out: Verdict[] = [
    {
      id: `batching-throughput-c${s.concurrency}`,
      description: `Dynamic batching throughput, batch-1 requests at c=${s.concurrency} (on / off)`,
      value: ratio,
      unit: 'x',
      comparison: '>=',
      threshold: BATCHING_MIN_SPEEDUP,
      pass: ratio === null ? null : ratio >= BATCHING_MIN_SPEEDUP,
      detail:
        offOk !== null && onOk !== null
          ? `${Math.round(onOk.requestsPerSecond)} vs ${Math.round(offOk.requestsPerSecond)} req/s` +
            (on?.metrics != null ? `; mean batch ${on.metrics.meanBatch} with batching` : '') +
            (onOk.cpu?.serverUsPerRequest != null && offOk.cpu?.serverUsPerRequest != null ? `; server CPU ${onOk.cpu.serverUsPerRequest} vs ${offOk.cpu.serverUsPerRequest} us/req` : '')
          : onOk === null
            ? whyCell(on, 'batching on')
            : whyCell(off, 'batching off'),
    },
  ];
  // The batch's compute time: from the server's metrics when it answered them, else the in-process batch of 64.
  const fromMetrics = on?.metrics?.computeUsPerRequest ?? null;
  const computeUs = fromMetrics ?? s.inProcess?.batch64Us ?? null;
  const delay = s.dynamicBatching.max_queue_delay_microseconds;
  const bound = computeUs === null ? null : Math.round(delay + 2 * computeUs);
  const p99 = onOk === null ? null : round1(onOk.latency.p99Us);
  out.push({
    id: `batching-p99-c${s.concurrency}`,
    description: `Dynamic batching p99, c=${s.concurrency} (<= max_queue_delay + 2 x the batch's compute time)`,
    value: p99,
    unit: 'us',
    comparison: bound === null ? null : '<=',
    threshold: bound,
    pass: p99 === null || bound === null ? null : p99 <= bound,
    detail:
      onOk === null
        ? whyCell(on, 'batching on')
        : `${delay} + 2 x ${computeUs ?? '?'} us (batch compute ${fromMetrics !== null ? 'from the server metrics, per request' : 'of an in-process batch of 64'}` +
          (s.inProcess !== undefined ? `; in-process batch of ${s.model.maxBatchSize}: ${s.inProcess.batch64Us} us` : '') +
          `); p50 ${onOk.latency.p50Us} us` +
          (offOk !== null ? `; without batching p99 ${offOk.latency.p99Us} us` : ''),
  });
  return out;
}

/** worker-tf over REST against raw predict in-process (target >= 0.8x), and the runtime in-process against raw predict (reported). */
export function tfVerdicts(s: TfSection | undefined): Verdict[] {
  if (s === undefined) return [];
  const why = s.skipped ?? s.error?.split('\n')[0];
  const get = (t: TfTarget) => s.cells.find((c) => c.target === t);
  const raw = get('raw-predict');
  const rawOk = good(raw?.result, raw?.error) ? raw!.result! : null;
  const pair = (t: TfTarget, id: string, description: string, gated: boolean): Verdict => {
    const c = get(t);
    const ok = good(c?.result, c?.error) ? c!.result! : null;
    const ratio = ok !== null && rawOk !== null && rawOk.requestsPerSecond > 0 ? Math.round((ok.requestsPerSecond / rawOk.requestsPerSecond) * 1000) / 1000 : null;
    const missing = ok === null ? [t, c] : [('raw-predict' as TfTarget), raw];
    return {
      id,
      description,
      value: ratio,
      unit: 'x',
      comparison: gated ? '>=' : null,
      threshold: gated ? TF_MIN_RATIO : null,
      pass: ratio === null || !gated ? null : ratio >= TF_MIN_RATIO,
      detail:
        ok !== null && rawOk !== null
          ? `${Math.round(ok.requestsPerSecond)} vs ${Math.round(rawOk.requestsPerSecond)} req/s; p50 ${ok.latency.p50Us} vs ${rawOk.latency.p50Us} us` +
            (ok.cpu?.serverUsPerRequest != null && rawOk.cpu?.serverUsPerRequest != null ? `; CPU ${ok.cpu.serverUsPerRequest} vs ${rawOk.cpu.serverUsPerRequest} us/req` : '')
          : `${TF_LABEL[missing[0] as TfTarget]}: ${((missing[1] as TfCell | undefined)?.error ?? (missing[1] as TfCell | undefined)?.skipped ?? why ?? 'not run').split('\n')[0]}`,
    };
  };
  return [
    pair('worker-rest', `tf-worker-rest-vs-raw-${s.model}-c${s.concurrency}`, `TF worker throughput (REST JSON) vs raw TensorFlow.js predict in-process, ${s.model}, c=${s.concurrency}`, s.gated ?? true),
    pair('runtime', `tf-runtime-vs-raw-${s.model}-c${s.concurrency}`, `TF runtime in-process infer vs raw TensorFlow.js predict, ${s.model}, c=${s.concurrency}`, false),
  ];
}
