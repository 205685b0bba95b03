/**
 * The execution instances of one model version and the queue in front of them.
 *
 * Each instance runs one request at a time, and a thread instance holds the next one too
 * (THREAD_PIPELINE_DEPTH): a request goes to a free slot at once, or waits in one FIFO queue shared by
 * all instances; whichever slot frees first takes the head of the queue. A queued request whose
 * deadline passes or whose client goes away leaves the queue without running; one already posted to
 * a thread, behind the run it computes, is skipped there for the same reasons (RunControl), so a
 * request past its deadline never runs wherever it waits.
 *
 * Why a second slot on threads: with one, a thread sat idle for a whole round trip between runs (its
 * answer posted, read by the event loop, the next run posted back): on a TF.js MLP whose predict takes
 * ~180 us, a profile at 16 concurrent requests showed the model thread and the event loop each idle
 * about half the time. With the next run already posted, the thread starts it as soon as it answers.
 *
 * An inline instance is never busy and never queues: it runs on the event loop itself, so its calls
 * already execute one after another, and onnxruntime-node defers each run with setImmediate. Holding
 * them in this queue made every request wait for its own turn of the event loop instead of running in
 * the same check phase as the others: at 16 concurrent REST requests on iris the server spent ~95 us
 * of CPU per request instead of ~50 (measured with a load generator in another process).
 */
import type { SibylError } from '@sibyl/protocol';
import { deadlineExceeded, inferenceFailed, instanceFailed, modelNotReady, requestCancelled } from './errors.js';
import { RunSkipped, type ExecutionInstance } from './execution-instance.js';
import type { RunResult, WireTensor } from './wire.js';

export interface PoolRunOptions {
  /** Absolute deadline, Date.now() milliseconds: checked when the request leaves the queue, and again by a thread just before it runs. */
  deadlineMs?: number;
  signal?: AbortSignal;
}

export interface PoolRunResult extends RunResult {
  /** From run() to the moment an instance took the request, microseconds. */
  queueUs: number;
  /**
   * Set by a dynamic batcher on the result of one request per execution (the first of its batch),
   * so the execution is counted once: its rows, and the time spent joining the requests' inputs
   * into the batch's (0 for a request that ran alone), nanoseconds.
   */
  execution?: { rows: number; joinNs: number };
}

export interface InstancePool {
  /** Instances still serving. */
  readonly size: number;
  /** Requests waiting for an instance. */
  readonly queued: number;
  run(feeds: readonly WireTensor[], fetches: readonly string[], options?: PoolRunOptions): Promise<PoolRunResult>;
  /** Removes an instance that stopped on its own; its queue falls to the others (or fails once none is left). */
  remove(instance: ExecutionInstance, reason: string): void;
  /** Rejects queued requests, closes every instance. */
  close(): Promise<void>;
}

interface Waiter {
  feeds: readonly WireTensor[];
  fetches: readonly string[];
  options: PoolRunOptions;
  enqueuedAt: number;
  resolve: (r: PoolRunResult) => void;
  reject: (e: SibylError) => void;
  /** Undoes the deadline timer and abort listener; true once the waiter is settled. */
  settle: () => boolean;
}

export interface PoolLabels {
  model: string;
  version: string;
  /** The runtime named in failures; default `onnxruntime`. */
  runtime?: string;
  /** Runs a thread instance holds at once; default THREAD_PIPELINE_DEPTH. */
  pipelineDepth?: number;
}

/** Runs a thread instance holds at once: the one it computes and the next, already posted. */
export const THREAD_PIPELINE_DEPTH = 2;

export function createInstancePool(instances: readonly ExecutionInstance[], labels: PoolLabels): InstancePool {
  const { model, version, runtime } = labels;
  const depth = labels.pipelineDepth ?? THREAD_PIPELINE_DEPTH;
  const live = new Set(instances);
  /** Free slots, one entry per run an instance can take now; each instance's first slot comes before any second one. */
  const idle: ExecutionInstance[] = [...instances];
  for (let slot = 1; slot < depth; slot++) idle.push(...instances.filter((i) => i.kind === 'thread'));
  const queue: Waiter[] = [];
  let closed = false;
  let lastFailure = '';

  /** What a failed run rejects with. */
  const runError = (instance: ExecutionInstance, err: unknown): SibylError => {
    if (err instanceof RunSkipped) {
      return err.reason === 'deadline' ? deadlineExceeded(model, version, 'before execution', err.lateMs) : requestCancelled(model, version);
    }
    const why = err instanceof Error ? err.message : String(err);
    return live.has(instance) ? inferenceFailed(model, version, why, runtime) : instanceFailed(model, version, why);
  };

  /** Runs on `instance`, which is the caller's to hand over, and releases it when the run ends. */
  const start = (instance: ExecutionInstance, feeds: readonly WireTensor[], fetches: readonly string[], options: PoolRunOptions, queueUs: number): Promise<PoolRunResult> => {
    const handedAtMs = instance.kind === 'thread' ? performance.timeOrigin + performance.now() : 0;
    return instance.run(feeds, fetches, options).then(
      (result) => {
        release(instance);
        // Waiting in a thread behind the run before it (its second slot) is queue time too.
        const waitedUs = result.startedAtMs === undefined ? 0 : Math.max(0, Math.round((result.startedAtMs - handedAtMs) * 1000));
        (result as PoolRunResult).queueUs = queueUs + waitedUs;
        return result as PoolRunResult;
      },
      (err: unknown) => {
        release(instance);
        throw runError(instance, err);
      },
    );
  };

  /** Starts a request that waited in the queue, unless its deadline passed meanwhile. */
  const dispatch = (instance: ExecutionInstance, waiter: Waiter) => {
    const now = Date.now();
    const deadline = waiter.options.deadlineMs;
    if (deadline !== undefined && now >= deadline) {
      if (waiter.settle()) waiter.reject(deadlineExceeded(model, version, 'before execution', now - deadline));
      release(instance);
      return;
    }
    if (!waiter.settle()) {
      release(instance);
      return;
    }
    const queueUs = Math.round((performance.now() - waiter.enqueuedAt) * 1000);
    start(instance, waiter.feeds, waiter.fetches, waiter.options, queueUs).then(waiter.resolve, waiter.reject);
  };

  /** Hands the instance the next waiter still waiting, or marks it idle. */
  const release = (instance: ExecutionInstance) => {
    if (!live.has(instance) || closed || instance.kind === 'inline') return;
    const next = queue.shift();
    if (next === undefined) idle.push(instance);
    else dispatch(instance, next);
  };

  const failQueue = (makeError: () => SibylError) => {
    for (const waiter of queue.splice(0)) if (waiter.settle()) waiter.reject(makeError());
  };

  return {
    get size() {
      return live.size;
    },
    get queued() {
      return queue.length;
    },
    run(feeds, fetches, options = {}) {
      if (closed) return Promise.reject(modelNotReady(model, version, 'the service is closed'));
      if (live.size === 0) return Promise.reject(modelNotReady(model, version, lastFailure || 'no execution instance'));
      if (options.signal?.aborted) return Promise.reject(requestCancelled(model, version));
      // A free instance takes the request at once: no waiter, no timer, no abort listener (every
      // request of an inline model comes this way). An inline instance stays idle while it runs (see
      // the top of this file).
      const instance = idle[0]?.kind === 'inline' ? idle[0] : idle.shift();
      if (instance !== undefined) {
        const deadline = options.deadlineMs;
        if (deadline !== undefined) {
          const now = Date.now();
          if (now >= deadline) {
            release(instance);
            return Promise.reject(deadlineExceeded(model, version, 'before execution', now - deadline));
          }
        }
        return start(instance, feeds, fetches, options, 0);
      }
      return new Promise<PoolRunResult>((resolve, reject) => {
        let timer: NodeJS.Timeout | undefined;
        let settled = false;
        let listening = false;
        const onAbort = () => {
          if (!waiter.settle()) return;
          queue.splice(queue.indexOf(waiter), 1);
          reject(requestCancelled(model, version));
        };
        const waiter: Waiter = {
          feeds,
          fetches,
          options,
          enqueuedAt: performance.now(),
          resolve,
          reject,
          settle: () => {
            if (settled) return false;
            settled = true;
            if (timer !== undefined) clearTimeout(timer);
            if (listening) options.signal?.removeEventListener('abort', onAbort);
            return true;
          },
        };
        queue.push(waiter);
        if (options.signal !== undefined) {
          options.signal.addEventListener('abort', onAbort, { once: true });
          listening = true;
        }
        if (options.deadlineMs !== undefined) {
          const deadline = options.deadlineMs;
          timer = setTimeout(() => {
            if (!waiter.settle()) return;
            queue.splice(queue.indexOf(waiter), 1);
            reject(deadlineExceeded(model, version, 'while queued for an execution instance', Date.now() - deadline));
          }, Math.max(0, deadline - Date.now()));
        }
      });
    },
    remove(instance, reason) {
      if (!live.delete(instance)) return;
      lastFailure = reason;
      for (let at = idle.indexOf(instance); at >= 0; at = idle.indexOf(instance)) idle.splice(at, 1);
      if (live.size === 0) failQueue(() => instanceFailed(model, version, reason));
    },
    async close() {
      if (closed) return;
      closed = true;
      failQueue(() => modelNotReady(model, version, 'the service is closed'));
      const all = [...live];
      live.clear();
      idle.length = 0;
      await Promise.allSettled(all.map((i) => i.close()));
    },
  };
}
