/**
 * Prometheus metrics with Triton's names where Triton has one (so Triton dashboards work unchanged),
 * and `sibyl_*` names for what Triton lacks. Durations in Triton's counters are cumulative microseconds.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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
  const counter = (name: string, help: string) => new Counter({ name, help, labelNames, registers: [registry] });

  const success = counter('nv_inference_request_success', 'Number of successful inference requests, all batch sizes');
  const failure = new Counter({
    name: 'nv_inference_request_failure',
    help: 'Number of failed inference requests, all batch sizes',
    labelNames: ['model', 'version', 'reason'] as const,
    registers: [registry],
  });
  const count = counter('nv_inference_count', 'Number of inferences performed (a batch of n counts n)');
  const execCount = counter('nv_inference_exec_count', 'Number of model executions performed');
  const requestUs = counter('nv_inference_request_duration_us', 'Cumulative inference request duration in microseconds');
  const queueUs = counter('nv_inference_queue_duration_us', 'Cumulative inference queuing duration in microseconds');
  const computeUs = counter('nv_inference_compute_infer_duration_us', 'Cumulative compute inference duration in microseconds');
  const ready = new Gauge({
    name: 'sibyl_model_ready',
    help: '1 when the model version is loaded and serving, 0 otherwise',
    labelNames,
    registers: [registry],
  });
  const transport = new Histogram({
    name: 'sibyl_transport_request_duration_seconds',
    help: 'Time from a request reaching a transport to its response being written',
    labelNames: ['protocol'] as const,
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [registry],
  });

  const restTransport = transport.labels('rest');
  const grpcTransport = transport.labels('grpc');

  // Labelled children are resolved once per model version: passing a label object to inc() hashes
  // it on every call, and a successful request touches six counters.
  interface VersionCounters {
    success: Counter.Internal;
    count: Counter.Internal;
    execCount: Counter.Internal;
    requestUs: Counter.Internal;
    queueUs: Counter.Internal;
    computeUs: Counter.Internal;
  }
  const byVersion = new Map<string, VersionCounters>();
  const countersOf = (model: string, version: string): VersionCounters => {
    const key = `${model}\u0000${version}`;
    let c = byVersion.get(key);
    if (c === undefined) {
      c = {
        success: success.labels(model, version),
        count: count.labels(model, version),
        execCount: execCount.labels(model, version),
        requestUs: requestUs.labels(model, version),
        queueUs: queueUs.labels(model, version),
        computeUs: computeUs.labels(model, version),
      };
      byVersion.set(key, c);
    }
    return c;
  };

  return {
    registry,
    inferenceSucceeded(model, version, t) {
      const c = countersOf(model, version);
      c.success.inc();
      c.count.inc(t.batchSize);
      c.requestUs.inc(t.requestUs);
      c.queueUs.inc(t.queueUs);
      c.computeUs.inc(t.computeUs);
    },
    inferenceFailed(model, version, reason) {
      failure.inc({ model, version, reason });
    },
    executed(model, version) {
      countersOf(model, version).execCount.inc();
    },
    setModelReady(model, version, isReady) {
      ready.set({ model, version }, isReady ? 1 : 0);
    },
    observeTransport(protocol, seconds) {
      (protocol === 'rest' ? restTransport : grpcTransport).observe(seconds);
    },
  };
}
