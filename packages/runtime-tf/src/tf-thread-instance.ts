/**
 * A TF.js model thread, seen from the data plane: a worker_threads Worker with its own TensorFlow.js
 * instance and model, so predict never holds the main event loop (tfjs runs kernels on the calling
 * thread, whatever the backend).
 *
 * Inputs move to the thread as transferred ArrayBuffers (DESIGN.md §6), by @sibyl/runtime's
 * prepareTransfer, as for ONNX threads: a typed array that spans its whole buffer, or a view into a
 * buffer marked as its request's alone, is transferred as it is, which detaches it in the caller; any
 * other view is first copied into a buffer of its own. Outputs come back the same way.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { prepareTransfer, RunSkipped, type RunControl } from '@sibyl/runtime';
import type { FromTfWorker, TfBackendName, TfModelInfo, TfRun, TfRunResult, TfWireTensor, TfWorkerInit, ToTfWorker } from './tf-wire.js';

/** How long close() waits for a thread to dispose its model before terminating it. */
const CLOSE_GRACE_MS = 5_000;

export interface TfThreadInstance {
  readonly info: TfModelInfo;
  /** The backend this thread's TensorFlow.js runs on (tfjs's name: tensorflow, wasm, cpu). */
  readonly backend: string;
  /** Runs queued, not yet answered. */
  readonly pending: number;
  /**
   * Runs the model once; rejects with a plain Error carrying tfjs's message, or with RunSkipped when
   * the thread came to the run past `control.deadlineMs` or after `control.signal` aborted. Takes
   * ownership of the feeds' buffers.
   */
  run(feeds: readonly TfWireTensor[], fetches: readonly string[], control?: RunControl): Promise<TfRunResult>;
  /** Disposes the model and ends the thread; pending runs are rejected. Idempotent. */
  close(): Promise<void>;
}

export interface TfThreadOptions {
  dir: string;
  backend: TfBackendName;
  /** Called once if the thread stops on its own after it became ready. */
  onFailure?(reason: string): void;
}

/**
 * The thread entry: tf-thread-worker.js beside this file when built. From the TypeScript sources
 * (vitest, tsx) Node 20 cannot load the .ts entry by itself (it ignores `--import tsx` in a Worker's
 * execArgv), so a one-line bootstrap registers tsx inside the thread, as packages/runtime does.
 */
function spawn(init: TfWorkerInit): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./tf-thread-worker.js', here), { workerData: init });
  const entry = new URL('./tf-thread-worker.ts', here).href;
  const pkg = createRequire(here).resolve('tsx/package.json');
  const api = join(dirname(pkg), 'dist', 'esm', 'api', 'index.mjs');
  if (!existsSync(api)) throw new Error(`cannot start a thread from TypeScript sources: ${api} not found (is tsx installed?)`);
  const bootstrap = `import(${JSON.stringify(pathToFileURL(api).href)}).then((tsx) => tsx.tsImport(${JSON.stringify(entry)}, ${JSON.stringify(entry)}))`;
  return new Worker(bootstrap, { eval: true, workerData: init });
}

export function createTfThreadInstance(options: TfThreadOptions): Promise<TfThreadInstance> {
  const worker = spawn({ dir: options.dir, backend: options.backend });
  const pending = new Map<number, { resolve(r: TfRunResult): void; reject(e: Error): void; settle(): void }>();
  let nextId = 0;
  let state: 'starting' | 'ready' | 'closing' | 'stopped' = 'starting';
  let closed: Promise<void> | undefined;
  /** Runs asked for in this tick, posted together at its end. */
  let outbox: TfRun[] = [];
  let outboxTransfer: ArrayBuffer[] = [];
  const flush = () => {
    const runs = outbox;
    const transfer = outboxTransfer;
    outbox = [];
    outboxTransfer = [];
    if (state !== 'ready' || runs.length === 0) return;
    try {
      worker.postMessage({ type: 'runs', runs } satisfies ToTfWorker, transfer);
    } catch (err) {
      for (const run of runs) {
        const p = pending.get(run.id);
        pending.delete(run.id);
        p?.settle();
        p?.reject(err instanceof Error ? err : new Error(String(err)));
      }
    }
  };
  const exit = new Promise<void>((resolve) => worker.once('exit', () => resolve()));

  return new Promise<TfThreadInstance>((resolveStart, rejectStart) => {
    let info: TfModelInfo | undefined;
    let backend = '';
    const stopAll = (reason: string) => {
      const wasReady = state === 'ready';
      state = 'stopped';
      for (const p of pending.values()) {
        p.settle();
        p.reject(new Error(reason));
      }
      pending.clear();
      if (wasReady) options.onFailure?.(reason);
      else rejectStart(new Error(reason));
    };

    const instance: TfThreadInstance = {
      get info() {
        return info!;
      },
      get backend() {
        return backend;
      },
      get pending() {
        return pending.size;
      },
      run(feeds, fetches, control = {}) {
        if (state !== 'ready') return Promise.reject(new Error(state === 'stopped' ? 'the model thread has stopped' : 'the model thread is closing'));
        const { deadlineMs, signal } = control;
        return new Promise<TfRunResult>((resolve, reject) => {
          const id = nextId++;
          // A run still in this tick's outbox is dropped here; one posted gets a cancel message, and
          // the thread skips it if it has not started.
          const onAbort = () => {
            const at = outbox.findIndex((r) => r.id === id);
            if (at >= 0) {
              outbox.splice(at, 1);
              pending.delete(id);
              reject(new RunSkipped('cancelled', 0));
            } else if (state === 'ready') {
              worker.postMessage({ type: 'cancel', id } satisfies ToTfWorker);
            }
          };
          pending.set(id, { resolve, reject, settle: () => signal?.removeEventListener('abort', onAbort) });
          try {
            const prepared = prepareTransfer(feeds);
            if (outbox.length === 0) queueMicrotask(flush);
            outbox.push({ id, feeds: prepared.feeds, fetches: [...fetches], ...(deadlineMs === undefined ? {} : { deadlineMs }) });
            outboxTransfer.push(...prepared.transfer);
          } catch (err) {
            pending.delete(id);
            reject(err instanceof Error ? err : new Error(String(err)));
            return;
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
            p.reject(new Error('the model thread is closing'));
          }
          pending.clear();
          worker.postMessage({ type: 'close' } satisfies ToTfWorker);
          const timer = setTimeout(() => void worker.terminate(), CLOSE_GRACE_MS);
          await exit;
          clearTimeout(timer);
          state = 'stopped';
        })();
        return closed;
      },
    };

    worker.on('message', (message: FromTfWorker) => {
      switch (message.type) {
        case 'ready':
          info = message.info;
          backend = message.backend;
          state = 'ready';
          resolveStart(instance);
          return;
        case 'load-failed':
          state = 'closing';
          rejectStart(new Error(message.message));
          return;
        case 'answers':
          for (const answer of message.answers) {
            const p = pending.get(answer.id);
            if (p === undefined) continue;
            pending.delete(answer.id);
            p.settle();
            if (answer.ok) p.resolve(answer.result);
            else if (answer.skipped !== undefined) p.reject(new RunSkipped(answer.skipped, answer.lateMs));
            else p.reject(new Error(answer.message));
          }
          return;
      }
    });
    worker.on('error', (err) => {
      if (state === 'closing' || state === 'stopped') return;
      stopAll(`model thread error: ${err.message}`);
    });
    worker.on('exit', (code) => {
      if (state === 'closing' || state === 'stopped') {
        state = 'stopped';
        return;
      }
      stopAll(`model thread exited with code ${code}`);
    });
  });
}
