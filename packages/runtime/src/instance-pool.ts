/**
 * The execution instances of one model version and the queue in front of them.
 *
 * Each instance runs one request at a time. A request goes to an idle instance at once, or waits in
 * one FIFO queue shared by all instances; whichever instance frees first takes the head of the queue,
 * which is the least-busy instance by construction. A queued request whose deadline passes or whose
 * client goes away leaves the queue without running.
 *
 * An inline instance is never busy and never queues: it runs on the event loop itself, so its calls
 * already execute one after another, and onnxruntime-node defers each run with setImmediate. Holding
 * them in this queue made every request wait for its own turn of the event loop instead of running in
 * the same check phase as the others: at 16 concurrent REST requests on iris the server spent ~95 us
 * of CPU per request instead of ~50 (measured with a load generator in another process).
 */
import type { SibylError } from '@sibyl/protocol';
import { deadlineExceeded, inferenceFailed, instanceFailed, modelNotReady, requestCancelled } from './errors.js';
import type { ExecutionInstance } from './execution-instance.js';
import type { RunResult, WireTensor } from './wire.js';

export interface PoolRunOptions {
  /** Absolute deadline, Date.now() milliseconds: checked when the request leaves the queue, before it runs. */
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
}

export function createInstancePool(instances: readonly ExecutionInstance[], labels: PoolLabels): InstancePool {
  const { model, version, runtime } = labels;
  const live = new Set(instances);
  const idle: ExecutionInstance[] = [...instances];
  const queue: Waiter[] = [];
  let closed = false;
  let lastFailure = '';

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
    instance.run(waiter.feeds, waiter.fetches).then(
      (result) => {
        release(instance);
        (result as PoolRunResult).queueUs = queueUs;
        waiter.resolve(result as PoolRunResult);
      },
      (err: unknown) => {
        const why = err instanceof Error ? err.message : String(err);
        release(instance);
        waiter.reject(live.has(instance) ? inferenceFailed(model, version, why, runtime) : instanceFailed(model, version, why));
      },
    );
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
      return new Promise<PoolRunResult>((resolve, reject) => {
        let timer: NodeJS.Timeout | undefined;
        let settled = false;
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
            options.signal?.removeEventListener('abort', onAbort);
            return true;
          },
        };
        // An inline instance stays idle while it runs (see the top of this file).
        const instance = idle[0]?.kind === 'inline' ? idle[0] : idle.shift();
        if (instance !== undefined) {
          dispatch(instance, waiter);
          return;
        }
        queue.push(waiter);
        options.signal?.addEventListener('abort', onAbort, { once: true });
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
      const at = idle.indexOf(instance);
      if (at >= 0) idle.splice(at, 1);
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
