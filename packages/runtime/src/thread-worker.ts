/**
 * Entry of a thread execution instance: one worker_threads Worker holding one onnxruntime session.
 *
 * Contract with thread-instance.ts: workerData is a WorkerInit; the worker answers `ready` (with the
 * session's SessionInfo) or `load-failed`, then one `result`/`run-failed`/`skipped` per `run`, in
 * order, and on `close` releases the session and lets the thread end. Output buffers are transferred, never cloned.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createOrtSession, type OrtSession } from './ort-session.js';
import { copyFixed, ownsBuffer } from './typed-array-copy.js';
import type { FromWorker, ToWorker, WireTensor, WorkerInit } from './wire.js';

const port = parentPort;
if (port === null) throw new Error('thread-worker.ts runs only as a worker thread');

const init = workerData as WorkerInit;

/**
 * An output array that does not own its whole buffer (onnxruntime may hand out views) is copied, so
 * that transferring it moves exactly its bytes.
 */
function transferable(outputs: WireTensor[]): ArrayBuffer[] {
  const buffers: ArrayBuffer[] = [];
  for (const output of outputs) {
    const data = output.data;
    if (Array.isArray(data)) continue;
    if (!ownsBuffer(data)) output.data = copyFixed(data);
    const buffer = (output.data as Exclude<WireTensor['data'], string[]>).buffer as ArrayBuffer;
    if (!buffers.includes(buffer)) buffers.push(buffer);
  }
  return buffers;
}

function send(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}

type RunMessage = Extract<ToWorker, { type: 'run' }>;

/**
 * Runs one at a time, in arrival order. The pool may post a run while another computes; that run
 * waits here, and is skipped if its deadline has passed or its client cancelled by the time its turn
 * comes (a cancel arrives as its own message, read while the run before computes). @sibyl/runtime-tf's
 * tf-thread-worker.ts follows the same rules with its own copy: a thread entry imports nothing from
 * outside its package, so that it starts from sources and from dist alike.
 */
function serve(session: OrtSession): void {
  const queue: RunMessage[] = [];
  /** Runs received and not started (queued, or taken and about to start). */
  const waiting = new Set<number>();
  const cancelled = new Set<number>();
  let running = false;

  /** Set when a run ends, cleared a turn of the loop later: messages read meanwhile arrived while it computed. */
  let justBusy = false;
  const settle = () => {
    justBusy = false;
  };

  /**
   * Starts the next queued run. A run that may have waited (behind another, or read in the batch of
   * messages that arrived while one computed) is decided on the next turn of the loop, so that the
   * messages that came with it (a cancel for it) are read first. One that reaches a thread idle for a
   * while starts at once: nothing can have been said about it yet.
   */
  const next = (waited: boolean): void => {
    const message = queue.shift();
    if (message === undefined) {
      running = false;
      return;
    }
    running = true;
    if (waited || justBusy) setImmediate(start, message);
    else start(message);
  };

  const ended = () => {
    if (!justBusy) {
      justBusy = true;
      setImmediate(settle);
    }
    next(true);
  };

  const start = (message: RunMessage): void => {
    waiting.delete(message.id);
    if (cancelled.delete(message.id)) {
      send({ type: 'skipped', id: message.id, reason: 'cancelled', lateMs: 0 });
      next(true);
      return;
    }
    const late = message.deadlineMs === undefined ? -1 : Date.now() - message.deadlineMs;
    if (late >= 0) {
      send({ type: 'skipped', id: message.id, reason: 'deadline', lateMs: late });
      next(true);
      return;
    }
    const startedAtMs = performance.timeOrigin + performance.now();
    session.run(message.feeds, message.fetches).then(
      (result) => {
        let buffers: ArrayBuffer[];
        try {
          buffers = transferable(result.outputs);
        } catch (err) {
          send({ type: 'run-failed', id: message.id, message: errorMessage(err) });
          ended();
          return;
        }
        result.startedAtMs = startedAtMs;
        send({ type: 'result', id: message.id, result }, buffers);
        ended();
      },
      (err: unknown) => {
        send({ type: 'run-failed', id: message.id, message: errorMessage(err) });
        ended();
      },
    );
  };

  port!.on('message', (message: ToWorker) => {
    switch (message.type) {
      case 'close':
        void session.release().finally(() => port!.close());
        return;
      case 'cancel':
        // Only a run still queued can be skipped; a cancel for one that started or ended is dropped.
        if (waiting.has(message.id)) cancelled.add(message.id);
        return;
      case 'run':
        waiting.add(message.id);
        queue.push(message);
        if (!running) next(false);
        return;
    }
  });
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

try {
  const session = await createOrtSession(init.modelPath, init.settings);
  send({ type: 'ready', info: session.info });
  serve(session);
} catch (err) {
  send({ type: 'load-failed', message: errorMessage(err) });
  port.close();
}
