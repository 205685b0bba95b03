/**
 * The thread execution instance: a worker_threads Worker with its own onnxruntime session, so the
 * model's compute never holds the main event loop.
 *
 * Inputs move to the worker as transferred ArrayBuffers (a 16 MiB transfer costs ~0.1 ms, a
 * structured clone ~9 ms: DESIGN.md §6). A typed array that spans its whole ArrayBuffer is transferred
 * as it is, which detaches it in the caller, and so is a view into a buffer marked as its request's
 * alone (a large REST body, isRequestOwned); a view into any other larger or shared buffer (Node's
 * Buffer pool) is first copied into a buffer of its own, so only its bytes move.
 * Outputs come back the same way.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { isRequestOwned } from '@sibyl/protocol';
import { RunSkipped, type ExecutionInstance, type InstanceFailureListener } from './execution-instance.js';
import { copyFixed, ownsBuffer } from './typed-array-copy.js';
import type { FixedData, FromWorker, RunResult, SessionInfo, SessionSettings, ToWorker, WireTensor, WorkerInit } from './wire.js';

/** How long close() waits for a worker to release its session before terminating it. */
const CLOSE_GRACE_MS = 5_000;

/**
 * Where the worker entry is. From the built package it is thread-worker.js beside this file. From the
 * TypeScript sources (vitest, tsx) it is thread-worker.ts, which Node cannot load by itself: Node 20
 * ignores `--import tsx` in a Worker's execArgv (checked on 20.20: the worker fails with
 * ERR_UNKNOWN_FILE_EXTENSION), so a one-line bootstrap registers tsx inside the worker and imports it.
 */
function spawnWorker(init: WorkerInit): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./thread-worker.js', here), { workerData: init });
  const entry = new URL('./thread-worker.ts', here).href;
  const bootstrap = `import(${JSON.stringify(tsxApiUrl(here))}).then((tsx) => tsx.tsImport(${JSON.stringify(entry)}, ${JSON.stringify(entry)}))`;
  return new Worker(bootstrap, { eval: true, workerData: init });
}

/** tsx's ESM API (`tsx/esm/api`), found from this file; only used when running from sources. */
function tsxApiUrl(from: string): string {
  const pkg = createRequire(from).resolve('tsx/package.json');
  const api = join(dirname(pkg), 'dist', 'esm', 'api', 'index.mjs');
  if (!existsSync(api)) throw new Error(`cannot start a worker from TypeScript sources: ${api} not found (is tsx installed?)`);
  return pathToFileURL(api).href;
}

/**
 * Transfer list for the feeds: an array that owns its whole buffer, or a view into a buffer that holds
 * its request's inputs alone (isRequestOwned: a large REST body), goes as it is; any other view is
 * copied into a buffer of its own first. Views that share a buffer travel in the one message that
 * transfers it. Array data (strings, BYTES elements) is cloned with the message. Shared with
 * @sibyl/runtime-tf's model threads.
 */
export function prepareTransfer<F extends { data: FixedData | readonly unknown[] }>(feeds: readonly F[]): { feeds: F[]; transfer: ArrayBuffer[] } {
  const out: F[] = [];
  const transfer: ArrayBuffer[] = [];
  for (const feed of feeds) {
    const data = feed.data;
    if (Array.isArray(data)) {
      out.push(feed);
      continue;
    }
    const fixed = data as FixedData;
    const moved = ownsBuffer(fixed) || isRequestOwned(fixed.buffer) ? fixed : copyFixed(fixed);
    const buffer = moved.buffer as ArrayBuffer;
    if (!transfer.includes(buffer)) transfer.push(buffer);
    out.push(moved === fixed ? feed : { ...feed, data: moved });
  }
  return { feeds: out, transfer };
}

/** Every fixed-size feed copied; used when a buffer refuses to be transferred (e.g. one a native addon owns). */
function copied(feeds: readonly WireTensor[]): { feeds: WireTensor[]; transfer: ArrayBuffer[] } {
  const out = feeds.map((f) => (Array.isArray(f.data) ? f : { ...f, data: copyFixed(f.data) }));
  const transfer = out.flatMap((f) => (Array.isArray(f.data) ? [] : [f.data.buffer as ArrayBuffer]));
  return { feeds: out, transfer };
}

export interface ThreadInstanceOptions {
  modelPath: string;
  settings: SessionSettings;
  /** Called once if the worker stops on its own (crash, uncaught error) after it became ready. */
  onFailure?: InstanceFailureListener;
}

/** Starts a worker and resolves once its session is loaded; rejects with onnxruntime's load error. */
export function createThreadInstance(options: ThreadInstanceOptions): Promise<ExecutionInstance> {
  return new Promise<ExecutionInstance>((resolveStart, rejectStart) => {
    const worker = spawnWorker({ modelPath: options.modelPath, settings: options.settings });
    const pending = new Map<number, { resolve: (r: RunResult) => void; reject: (e: Error) => void; settle: () => void }>();
    let nextId = 1;
    let state: 'starting' | 'ready' | 'closing' | 'stopped' = 'starting';
    let info: SessionInfo = { inputs: [], outputs: [] };
    let closed: Promise<void> | undefined;
    const exit = new Promise<void>((resolve) => worker.once('exit', () => resolve()));

    const stopAll = (reason: string) => {
      const wasReady = state === 'ready';
      state = 'stopped';
      for (const p of pending.values()) {
        p.settle();
        p.reject(new Error(reason));
      }
      pending.clear();
      if (wasReady) options.onFailure?.(instance, reason);
      else rejectStart(new Error(reason));
    };

    const instance: ExecutionInstance = {
      kind: 'thread',
      get info() {
        return info;
      },
      run(feeds, fetches, control = {}) {
        if (state !== 'ready') return Promise.reject(new Error(`the worker thread is ${state}`));
        const id = nextId++;
        const { deadlineMs, signal } = control;
        return new Promise<RunResult>((resolve, reject) => {
          // A cancel reaches the worker as its own message; it skips the run if it has not started.
          const onAbort = () => worker.postMessage({ type: 'cancel', id } satisfies ToWorker);
          const settle = () => signal?.removeEventListener('abort', onAbort);
          pending.set(id, { resolve, reject, settle });
          const post = (prepared: { feeds: WireTensor[]; transfer: ArrayBuffer[] }) =>
            worker.postMessage(
              { type: 'run', id, feeds: prepared.feeds, fetches: [...fetches], ...(deadlineMs === undefined ? {} : { deadlineMs }) } satisfies ToWorker,
              prepared.transfer,
            );
          try {
            post(prepareTransfer(feeds));
          } catch {
            try {
              post(copied(feeds));
            } catch (err) {
              pending.delete(id);
              reject(err instanceof Error ? err : new Error(String(err)));
              return;
            }
          }
          signal?.addEventListener('abort', onAbort, { once: true });
        });
      },
      close() {
        closed ??= (async () => {
          if (state === 'stopped') return;
          state = 'closing';
          for (const p of pending.values()) {
            p.settle();
            p.reject(new Error('the execution instance is closing'));
          }
          pending.clear();
          worker.postMessage({ type: 'close' } satisfies ToWorker);
          const timer = setTimeout(() => void worker.terminate(), CLOSE_GRACE_MS);
          await exit;
          clearTimeout(timer);
          state = 'stopped';
        })();
        return closed;
      },
    };

    worker.on('message', (message: FromWorker) => {
      switch (message.type) {
        case 'ready':
          info = message.info;
          state = 'ready';
          resolveStart(instance);
          return;
        case 'load-failed':
          state = 'closing';
          rejectStart(new Error(message.message));
          return;
        case 'result':
        case 'run-failed':
        case 'skipped': {
          const p = pending.get(message.id);
          if (p === undefined) return;
          pending.delete(message.id);
          p.settle();
          if (message.type === 'result') p.resolve(message.result);
          else if (message.type === 'skipped') p.reject(new RunSkipped(message.reason, message.lateMs));
          else p.reject(new Error(message.message));
          return;
        }
      }
    });
    worker.on('error', (err) => {
      if (state === 'closing' || state === 'stopped') return;
      stopAll(`worker thread error: ${err.message}`);
    });
    worker.on('exit', (code) => {
      if (state === 'closing' || state === 'stopped') {
        state = 'stopped';
        return;
      }
      stopAll(`worker thread exited with code ${code}`);
    });
  });
}
