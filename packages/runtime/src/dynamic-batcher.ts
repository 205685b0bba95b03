/**
 * The dynamic batcher of one model version (Triton's dynamic_batch_scheduler): requests queue per
 * priority level, are combined into one batch along their first dimension, run once on the version's
 * instance pool, and split back. Attached at load time to a version whose config has
 * `dynamic_batching` (model-loader.ts); a version without it never reaches this file.
 *
 * When a batch forms (Triton's rules): at most one batch per execution instance is in flight; while
 * one can start, the candidates are the queued requests in priority order (within a level, arrival
 * order; requests delayed by timeout_action DELAY after the others), keeping those whose inputs have the
 * same non-batch dimensions as the first (a request of another shape waits for a later batch), up to
 * the largest preferred batch size (max_batch_size when none is set). They run at once when they fill
 * that size, or when the next one does not fit; otherwise once the oldest has waited
 * max_queue_delay_microseconds, taking the longest prefix whose size is a preferred size (all of them
 * when none is).
 *
 * Each response is what the request alone would give: same outputs (only those it asked for, in its
 * order), same bytes; its output data are views into the batch's output buffers.
 *
 * Ownership: the feeds of a request that runs alone are handed to the pool as they are (a thread
 * instance takes their buffers, as without batching); those of a combined batch are copied once into
 * the batch's own buffers.
 */
import type { SibylMetrics } from '@sibyl/observability';
import { toSibylError, type InferContext, type ParameterValue, type Parameters, type SibylError } from '@sibyl/protocol';
import { deadlineExceeded, inferenceFailed, modelNotReady, queueFull, requestCancelled, requestParameterInvalid } from './errors.js';
import type { InstancePool, PoolRunResult } from './instance-pool.js';
import type { DynamicBatchingConfig } from './model-config.js';
import type { FixedData, WireTensor } from './wire.js';

/** Retry-After of SIBYL_QUEUE_FULL, seconds: a full queue drains in far less on any model worth batching. */
const QUEUE_FULL_RETRY_AFTER_SECONDS = 1;

export interface DynamicBatcherOptions {
  model: string;
  version: string;
  /** The runtime named in failures; default `onnxruntime`. */
  runtime?: string;
  /** The version's resolved max_batch_size (> 0). */
  maxBatchSize: number;
  config: DynamicBatchingConfig;
  pool: InstancePool;
  metrics: SibylMetrics;
}

export interface DynamicBatcher {
  /** Requests waiting for a batch. */
  readonly queued: number;
  /**
   * Queues one validated request whose inputs all have first dimension `batchSize`, and resolves with
   * its own outputs (`fetches`, in that order). Reads the request parameters `priority` and `timeout`
   * (microseconds; only with allow_timeout_override). Rejects with SIBYL_QUEUE_FULL,
   * SIBYL_DEADLINE_EXCEEDED (the request did not run), SIBYL_REQUEST_CANCELLED,
   * SIBYL_REQUEST_PARAMETER_INVALID, or the batch's execution error.
   */
  submit(
    feeds: readonly WireTensor[],
    fetches: readonly string[],
    batchSize: number,
    parameters: Parameters | undefined,
    context: InferContext,
  ): Promise<PoolRunResult>;
  /** Fails every queued request (SIBYL_MODEL_NOT_READY); batches already running finish. Idempotent. */
  close(): void;
}

type Outcome = { result: PoolRunResult } | { error: SibylError };

interface Entry {
  readonly feeds: readonly WireTensor[];
  readonly fetches: readonly string[];
  readonly batchSize: number;
  /** Non-batch dimensions of every input: requests batch together only when theirs are equal. */
  readonly shapeKey: string;
  /** Index into `levels`: 0 is the highest priority. */
  readonly level: number;
  readonly enqueuedAt: number;
  /** The caller's deadline (InferContext), Date.now() ms: always rejects once passed. */
  readonly deadlineMs: number | undefined;
  /** The queue policy's timeout (default or the request's override), Date.now() ms: REJECT or DELAY. */
  readonly timeoutAtMs: number | undefined;
  delayed: boolean;
  state: 'queued' | 'running' | 'done';
  queueUs: number;
  timer: NodeJS.Timeout | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  /** Set once finished while an earlier request (preserve_ordering) is still pending. */
  outcome: Outcome | undefined;
  resolve: (r: PoolRunResult) => void;
  reject: (e: SibylError) => void;
}

interface Level {
  queue: Entry[];
  /** Requests past their timeout under timeout_action DELAY: served after `queue`. */
  delayed: Entry[];
}

/** A non-negative integer request parameter (JSON number, or int64/uint64 from gRPC). */
function nonNegativeInteger(model: string, name: string, value: ParameterValue): number {
  const n = typeof value === 'bigint' && value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= 0n ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw requestParameterInvalid(model, name, `must be a non-negative integer, got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`);
  }
  return n;
}

function concatData(parts: ReadonlyArray<FixedData | string[]>): FixedData | string[] {
  const first = parts[0]!;
  if (Array.isArray(first)) return ([] as string[]).concat(...(parts as string[][]));
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new (first.constructor as new (n: number) => FixedData)(length);
  let offset = 0;
  for (const p of parts) {
    (out as Uint8Array).set(p as Uint8Array, offset);
    offset += p.length;
  }
  return out;
}

/** Rows [start, start + rows) of a batch output: a view, not a copy, for fixed-size data. */
function sliceRows(tensor: WireTensor, start: number, rows: number): WireTensor {
  let rowElements = 1;
  for (let i = 1; i < tensor.dims.length; i++) rowElements *= tensor.dims[i]!;
  const from = start * rowElements;
  const to = from + rows * rowElements;
  const data = Array.isArray(tensor.data) ? tensor.data.slice(from, to) : tensor.data.subarray(from, to);
  return { name: tensor.name, type: tensor.type, dims: [rows, ...tensor.dims.slice(1)], data };
}

function shapeKeyOf(feeds: readonly WireTensor[]): string {
  const parts = feeds.map((f) => `${f.name}:${f.dims.slice(1).join(',')}`);
  return parts.length === 1 ? parts[0]! : parts.sort().join(';');
}

export function createDynamicBatcher(options: DynamicBatcherOptions): DynamicBatcher {
  const { model, version, config, pool, metrics, maxBatchSize, runtime } = options;
  const policy = config.default_queue_policy;
  const preferred = config.preferred_batch_size;
  const fullSize = preferred.length > 0 ? Math.min(preferred[preferred.length - 1]!, maxBatchSize) : maxBatchSize;
  const maxDelayUs = config.max_queue_delay_microseconds;
  const levels: Level[] = Array.from({ length: Math.max(1, config.priority_levels) }, () => ({ queue: [], delayed: [] }));
  const defaultLevel = config.priority_levels === 0 ? 0 : config.default_priority_level - 1;
  /** preserve_ordering: every request that entered the queue and has not been answered, in arrival order. */
  const order: Entry[] = [];
  let queued = 0;
  let running = 0;
  let closed = false;
  let delayTimer: NodeJS.Timeout | undefined;

  const answer = (entry: Entry, outcome: Outcome) => {
    if ('result' in outcome) entry.resolve(outcome.result);
    else entry.reject(outcome.error);
  };

  /** Settles a request, or (preserve_ordering) holds it until every earlier request is settled. */
  const finish = (entry: Entry, outcome: Outcome) => {
    if (entry.state === 'done') return;
    entry.state = 'done';
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    if (entry.onAbort !== undefined) entry.signal?.removeEventListener('abort', entry.onAbort);
    if (!config.preserve_ordering) {
      answer(entry, outcome);
      return;
    }
    entry.outcome = outcome;
    while (order.length > 0 && order[0]!.outcome !== undefined) {
      const head = order.shift()!;
      answer(head, head.outcome!);
    }
  };

  const unqueue = (entry: Entry) => {
    const level = levels[entry.level]!;
    const list = entry.delayed ? level.delayed : level.queue;
    const at = list.indexOf(entry);
    if (at >= 0) {
      list.splice(at, 1);
      queued--;
    }
  };

  const isExpired = (entry: Entry, now: number) =>
    (entry.deadlineMs !== undefined && now >= entry.deadlineMs) ||
    (policy.timeout_action === 'REJECT' && entry.timeoutAtMs !== undefined && now >= entry.timeoutAtMs);

  const expire = (entry: Entry, now: number) => {
    unqueue(entry);
    const passed = Math.min(entry.deadlineMs ?? Infinity, policy.timeout_action === 'REJECT' ? (entry.timeoutAtMs ?? Infinity) : Infinity);
    metrics.batcherExpired(model, version);
    finish(entry, { error: deadlineExceeded(model, version, 'while queued in the dynamic batcher', Math.max(0, now - passed)) });
  };

  /** Sets the entry's timer for its next deadline event: expiry, or (DELAY) moving behind the others. */
  const arm = (entry: Entry) => {
    const soft = entry.delayed ? undefined : entry.timeoutAtMs;
    const next = Math.min(entry.deadlineMs ?? Infinity, soft ?? Infinity);
    if (next === Infinity) return;
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      if (entry.state !== 'queued') return;
      const now = Date.now();
      if (isExpired(entry, now)) {
        expire(entry, now);
        schedule();
        return;
      }
      if (!entry.delayed && entry.timeoutAtMs !== undefined && now >= entry.timeoutAtMs) {
        unqueue(entry);
        entry.delayed = true;
        levels[entry.level]!.delayed.push(entry);
        queued++;
      }
      arm(entry);
    }, Math.max(0, next - Date.now()));
  };

  /** The next batch to run now, or undefined (nothing queued, or waiting for a fuller batch). */
  const nextBatch = (): Entry[] | undefined => {
    const nowMs = Date.now();
    const expired: Entry[] = [];
    const candidates: Entry[] = [];
    let total = 0;
    let shapeKey: string | undefined;
    let full = false;
    scan: for (const level of levels) {
      for (const list of [level.queue, level.delayed]) {
        for (const entry of list) {
          if (isExpired(entry, nowMs)) {
            expired.push(entry);
            continue;
          }
          shapeKey ??= entry.shapeKey;
          if (entry.shapeKey !== shapeKey) continue;
          if (total + entry.batchSize > fullSize) {
            // A request larger than the preferred size (but within max_batch_size) runs alone.
            if (candidates.length === 0) {
              candidates.push(entry);
              total = entry.batchSize;
            }
            full = true;
            break scan;
          }
          candidates.push(entry);
          total += entry.batchSize;
          if (total === fullSize) {
            full = true;
            break scan;
          }
        }
      }
    }
    for (const entry of expired) expire(entry, nowMs);
    if (candidates.length === 0) return undefined;
    if (!full && maxDelayUs > 0) {
      let oldest = Infinity;
      for (const c of candidates) oldest = Math.min(oldest, c.enqueuedAt);
      const waitedUs = (performance.now() - oldest) * 1000;
      if (waitedUs < maxDelayUs) {
        delayTimer = setTimeout(schedule, Math.max(1, Math.ceil((maxDelayUs - waitedUs) / 1000)));
        return undefined;
      }
    }
    if (total !== fullSize && preferred.length > 0) {
      // The longest prefix whose size is a preferred one; the rest waits for the next batch.
      let size = 0;
      let keep = 0;
      for (let i = 0; i < candidates.length; i++) {
        size += candidates[i]!.batchSize;
        if (preferred.includes(size)) keep = i + 1;
      }
      if (keep > 0) candidates.length = keep;
    }
    for (const entry of candidates) unqueue(entry);
    return candidates;
  };

  const execute = (batch: Entry[]) => {
    running++;
    const started = performance.now();
    let rows = 0;
    for (const entry of batch) {
      entry.state = 'running';
      entry.queueUs = Math.round((started - entry.enqueuedAt) * 1000);
      rows += entry.batchSize;
      if (entry.timer !== undefined) clearTimeout(entry.timer);
      entry.timer = undefined;
    }
    let feeds: readonly WireTensor[];
    let fetches: readonly string[];
    let joinNs = 0;
    if (batch.length === 1) {
      feeds = batch[0]!.feeds;
      fetches = batch[0]!.fetches;
    } else {
      const first = batch[0]!;
      feeds = first.feeds.map((input) => {
        const parts = batch.map((entry) => (entry === first ? input : entry.feeds.find((f) => f.name === input.name)!).data);
        return { name: input.name, type: input.type, dims: [rows, ...input.dims.slice(1)], data: concatData(parts) };
      });
      const names = new Set<string>();
      for (const entry of batch) for (const name of entry.fetches) names.add(name);
      fetches = [...names];
      joinNs = Math.round((performance.now() - started) * 1e6);
    }
    pool.run(feeds, fetches).then(
      (result) => {
        running--;
        metrics.batchExecuted(model, version, rows);
        const execution = { rows, joinNs };
        if (batch.length === 1) {
          const entry = batch[0]!;
          finish(entry, { result: { outputs: result.outputs, computeUs: result.computeUs, queueUs: entry.queueUs + result.queueUs, execution } });
        } else {
          split(batch, rows, result, execution);
        }
        schedule();
      },
      (err: unknown) => {
        running--;
        const error = toSibylError(err);
        for (const entry of batch) finish(entry, { error });
        schedule();
      },
    );
  };

  const split = (batch: Entry[], rows: number, result: PoolRunResult, execution: PoolRunResult['execution']) => {
    const byName = new Map(result.outputs.map((o) => [o.name, o]));
    const misfit = result.outputs.find((o) => o.dims[0] !== rows);
    if (misfit !== undefined) {
      const error = inferenceFailed(model, version,
        `output '${misfit.name}' has first dimension ${String(misfit.dims[0])} for a batch of ${rows}: the model does not keep the batch dimension, so it cannot be batched dynamically`, runtime);
      for (const entry of batch) finish(entry, { error });
      return;
    }
    let start = 0;
    for (const entry of batch) {
      const outputs = entry.fetches.map((name) => sliceRows(byName.get(name)!, start, entry.batchSize));
      start += entry.batchSize;
      const own: PoolRunResult = { outputs, computeUs: result.computeUs, queueUs: entry.queueUs + result.queueUs };
      if (entry === batch[0]) own.execution = execution;
      finish(entry, { result: own });
    }
  };

  function schedule(): void {
    if (delayTimer !== undefined) {
      clearTimeout(delayTimer);
      delayTimer = undefined;
    }
    while (!closed && queued > 0 && running < Math.max(1, pool.size)) {
      const batch = nextBatch();
      if (batch === undefined) return;
      execute(batch);
    }
  }

  /** The queue level of a request: `priority` 0 or absent is the default level; 1 is the highest. */
  const levelOf = (parameters: Parameters | undefined): number => {
    const value = parameters?.['priority'];
    if (value === undefined) return defaultLevel;
    const priority = nonNegativeInteger(model, 'priority', value);
    if (priority === 0 || config.priority_levels === 0) return defaultLevel;
    if (priority > config.priority_levels) {
      throw requestParameterInvalid(model, 'priority', `must be between 0 (the default level) and ${config.priority_levels} (the model's priority_levels), got ${priority}`);
    }
    return priority - 1;
  };

  const timeoutUsOf = (parameters: Parameters | undefined): number => {
    const value = policy.allow_timeout_override ? parameters?.['timeout'] : undefined;
    if (value === undefined) return policy.default_timeout_microseconds;
    const timeout = nonNegativeInteger(model, 'timeout', value);
    return timeout === 0 ? policy.default_timeout_microseconds : timeout;
  };

  return {
    get queued() {
      return queued;
    },
    submit(feeds, fetches, batchSize, parameters, context) {
      try {
        if (closed) throw modelNotReady(model, version, 'the service is closed');
        if (context.signal?.aborted) throw requestCancelled(model, version);
        const level = levelOf(parameters);
        const timeoutUs = timeoutUsOf(parameters);
        const inLevel = levels[level]!.queue.length + levels[level]!.delayed.length;
        if (policy.max_queue_size > 0 && inLevel >= policy.max_queue_size) {
          metrics.batcherRejected(model, version);
          throw queueFull(model, version, inLevel, QUEUE_FULL_RETRY_AFTER_SECONDS);
        }
        return new Promise<PoolRunResult>((resolve, reject) => {
          const entry: Entry = {
            feeds,
            fetches,
            batchSize,
            shapeKey: shapeKeyOf(feeds),
            level,
            enqueuedAt: performance.now(),
            deadlineMs: context.deadlineMs,
            timeoutAtMs: timeoutUs > 0 ? Date.now() + timeoutUs / 1000 : undefined,
            delayed: false,
            state: 'queued',
            queueUs: 0,
            timer: undefined,
            signal: context.signal,
            onAbort: undefined,
            outcome: undefined,
            resolve,
            reject,
          };
          levels[level]!.queue.push(entry);
          queued++;
          if (config.preserve_ordering) order.push(entry);
          if (context.signal !== undefined) {
            entry.onAbort = () => {
              if (entry.state !== 'queued') return;
              unqueue(entry);
              finish(entry, { error: requestCancelled(model, version) });
            };
            context.signal.addEventListener('abort', entry.onAbort, { once: true });
          }
          arm(entry);
          schedule();
        });
      } catch (err) {
        return Promise.reject(toSibylError(err));
      }
    },
    close() {
      if (closed) return;
      closed = true;
      if (delayTimer !== undefined) clearTimeout(delayTimer);
      for (const level of levels) {
        for (const entry of [...level.queue, ...level.delayed]) finish(entry, { error: modelNotReady(model, version, 'the service is closed') });
        level.queue.length = 0;
        level.delayed.length = 0;
      }
      queued = 0;
    },
  };
}
