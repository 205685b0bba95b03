/**
 * Prometheus metrics with Triton's names where Triton has one (so Triton dashboards work unchanged),
 * and `sibyl_*` names for what Triton lacks. Durations in Triton's counters are cumulative microseconds.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { createFastHistogram } from './fast-histogram.js';

/** Why a request failed, Triton's `reason` label values. */
export type FailureReason = 'REJECTED' | 'CANCELED' | 'BACKEND' | 'OTHER';

export interface InferenceTiming {
  /** Elements in the request's batch (1 for a model without batching). */
  batchSize: number;
  /** Whole request, from arrival at the data plane to response, microseconds. */
  requestUs: number;
  /** Waiting for an execution instance, microseconds. */
  queueUs: number;
  /** The model's own execution, microseconds. */
  computeUs: number;
}

export interface SibylMetrics {
  readonly registry: Registry;
  inferenceSucceeded(model: string, version: string, timing: InferenceTiming): void;
  inferenceFailed(model: string, version: string, reason: FailureReason): void;
  /** One model execution (a batch counts once). */
  executed(model: string, version: string): void;
  /** One execution of a dynamic batch of `batchSize` inferences: counted as one execution, and its size observed. */
  batchExecuted(model: string, version: string, batchSize: number): void;
  /** A request a dynamic batcher refused because its queue was full. */
  batcherRejected(model: string, version: string): void;
  /** A request a dynamic batcher dropped, without running it, because its deadline passed while queued. */
  batcherExpired(model: string, version: string): void;
  setModelReady(model: string, version: string, ready: boolean): void;
  /** Time spent by a transport on one request, seconds, labelled by protocol (rest, grpc). */
  observeTransport(protocol: 'rest' | 'grpc', seconds: number): void;
}

export interface MetricsOptions {
  /** Collect Node process metrics (CPU, memory, event loop lag). Default true. */
  processMetrics?: boolean;
}

export function createMetrics(options: MetricsOptions = {}): SibylMetrics {
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'sibyl_process_' });
  const labelNames = ['model', 'version'] as const;

  // Per model version, the hot path adds to plain numbers; Prometheus reads them at scrape time
  // (collect). prom-client's inc() validates and hashes the labels on every call, even on a cached
  // child, and a successful request touches six counters: ~5% of the data plane's CPU on iris.
  interface VersionStats {
    readonly labels: { model: string; version: string };
    success: number;
    count: number;
    execCount: number;
    requestUs: number;
    queueUs: number;
    computeUs: number;
  }
  const stats = new Map<string, VersionStats>();
  const statsOf = (model: string, version: string): VersionStats => {
    const key = `${model}\u0000${version}`;
    let s = stats.get(key);
    if (s === undefined) {
      s = { labels: { model, version }, success: 0, count: 0, execCount: 0, requestUs: 0, queueUs: 0, computeUs: 0 };
      stats.set(key, s);
    }
    return s;
  };
  type Field = Exclude<keyof VersionStats, 'labels'>;
  const counter = (name: string, help: string, field: Field) =>
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const s of stats.values()) this.inc(s.labels, s[field]);
      },
    });

  counter('nv_inference_request_success', 'Number of successful inference requests, all batch sizes', 'success');
  const failure = new Counter({
    name: 'nv_inference_request_failure',
    help: 'Number of failed inference requests, all batch sizes',
    labelNames: ['model', 'version', 'reason'] as const,
    registers: [registry],
  });
  counter('nv_inference_count', 'Number of inferences performed (a batch of n counts n)', 'count');
  counter('nv_inference_exec_count', 'Number of model executions performed', 'execCount');
  counter('nv_inference_request_duration_us', 'Cumulative inference request duration in microseconds', 'requestUs');
  counter('nv_inference_queue_duration_us', 'Cumulative inference queuing duration in microseconds', 'queueUs');
  counter('nv_inference_compute_infer_duration_us', 'Cumulative compute inference duration in microseconds', 'computeUs');
  const ready = new Gauge({
    name: 'sibyl_model_ready',
    help: '1 when the model version is loaded and serving, 0 otherwise',
    labelNames,
    registers: [registry],
  });
  // Once per batch, not per request: prom-client's own label handling costs little here.
  const batchSize = new Histogram({
    name: 'sibyl_batch_size',
    help: 'Inferences (batch rows) per execution of a dynamic-batching model',
    labelNames,
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
    registers: [registry],
  });
  const batcherRejected = new Counter({
    name: 'sibyl_batcher_rejected_total',
    help: 'Requests refused because the dynamic batcher queue was full (max_queue_size)',
    labelNames,
    registers: [registry],
  });
  const batcherExpired = new Counter({
    name: 'sibyl_batcher_expired_total',
    help: 'Requests dropped from the dynamic batcher queue, without running, because their deadline passed',
    labelNames,
    registers: [registry],
  });
  const transport = createFastHistogram({
    name: 'sibyl_transport_request_duration_seconds',
    help: 'Time from a request reaching a transport to its response being written',
    labelName: 'protocol',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registry,
  });
  const restTransport = transport.series('rest');
  const grpcTransport = transport.series('grpc');

  return {
    registry,
    inferenceSucceeded(model, version, t) {
      const s = statsOf(model, version);
      s.success += 1;
      s.count += t.batchSize;
      s.requestUs += t.requestUs;
      s.queueUs += t.queueUs;
      s.computeUs += t.computeUs;
    },
    inferenceFailed(model, version, reason) {
      failure.inc({ model, version, reason });
    },
    executed(model, version) {
      statsOf(model, version).execCount += 1;
    },
    batchExecuted(model, version, size) {
      statsOf(model, version).execCount += 1;
      batchSize.observe({ model, version }, size);
    },
    batcherRejected(model, version) {
      batcherRejected.inc({ model, version });
    },
    batcherExpired(model, version) {
      batcherExpired.inc({ model, version });
    },
    setModelReady(model, version, isReady) {
      ready.set({ model, version }, isReady ? 1 : 0);
    },
    observeTransport(protocol, seconds) {
      (protocol === 'rest' ? restTransport : grpcTransport).observe(seconds);
    },
  };
}
