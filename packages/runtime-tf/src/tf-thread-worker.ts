/**
 * Entry of a TF.js model thread: one worker_threads Worker holding one TensorFlow.js instance with
 * one model.
 *
 * Contract with tf-thread-instance.ts: workerData is a TfWorkerInit; the thread answers `ready` (the
 * model's TfModelInfo and the backend it runs on) or `load-failed`, then for each `runs` message one
 * `answers` message, in order; on `close` it disposes the model and lets the thread end. Output buffers are
 * transferred, never cloned.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadTfModel, startTf, type TfModel } from './tf-model.js';
import type { FromTfWorker, TfRunAnswer, TfWireTensor, TfWorkerInit, ToTfWorker } from './tf-wire.js';

const port = parentPort;
if (port === null) throw new Error('tf-thread-worker.ts runs only as a worker thread');

const init = workerData as TfWorkerInit;

function transferList(outputs: readonly TfWireTensor[]): ArrayBuffer[] {
  const buffers: ArrayBuffer[] = [];
  for (const { data } of outputs) {
    if (Array.isArray(data)) continue;
    const buffer = data.buffer as ArrayBuffer;
    if (!buffers.includes(buffer)) buffers.push(buffer);
  }
  return buffers;
}

function send(message: FromTfWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function serve(model: TfModel): void {
  // Runs one at a time: a run's readback awaits, and overlapping runs would only contend for the thread.
  // A run may arrive while another computes (the pool posts the next one ahead); when its turn comes
  // it is skipped if its deadline has passed or its client cancelled meanwhile. The same rules as
  // @sibyl/runtime's thread-worker.ts (a thread entry imports nothing from outside its package).
  let queue: Promise<void> = Promise.resolve();
  /** Messages taken and not yet answered. */
  let pending = 0;
  /** Set when runs end, cleared a turn of the loop later: messages read meanwhile arrived while they computed. */
  let justBusy = false;
  const settle = () => {
    justBusy = false;
  };
  const cancelled = new Set<number>();
  const waiting = new Set<number>();
  port!.on('message', (message: ToTfWorker) => {
    if (message.type === 'close') {
      void queue.finally(() => {
        model.dispose();
        port!.close();
      });
      return;
    }
    if (message.type === 'cancel') {
      if (waiting.has(message.id)) cancelled.add(message.id);
      return;
    }
    const runs = message.runs;
    for (const run of runs) waiting.add(run.id);
    // Runs that may have waited (behind others, or read in the batch of messages that arrived while
    // runs computed) wait a turn of the loop when their turn comes, so that the messages that came with
    // them (a cancel for one of these) are read before deciding. Runs that reach a thread idle for a
    // while start at once: nothing can have been said about them yet.
    const waited = pending > 0 || justBusy;
    pending++;
    queue = queue.then(async () => {
      if (waited) await new Promise((resolve) => setImmediate(resolve));
      const answers: TfRunAnswer[] = [];
      const transfer: ArrayBuffer[] = [];
      for (const run of runs) {
        waiting.delete(run.id);
        if (cancelled.delete(run.id)) {
          answers.push({ id: run.id, ok: false, skipped: 'cancelled', lateMs: 0, message: 'cancelled before it started' });
          continue;
        }
        const late = run.deadlineMs === undefined ? -1 : Date.now() - run.deadlineMs;
        if (late >= 0) {
          answers.push({ id: run.id, ok: false, skipped: 'deadline', lateMs: late, message: 'deadline passed before it started' });
          continue;
        }
        try {
          const startedAtMs = performance.timeOrigin + performance.now();
          const result = await model.run(run.feeds, run.fetches);
          result.startedAtMs = startedAtMs;
          transfer.push(...transferList(result.outputs));
          answers.push({ id: run.id, ok: true, result });
        } catch (err) {
          answers.push({ id: run.id, ok: false, message: errorMessage(err) });
        }
      }
      send({ type: 'answers', answers }, transfer);
      pending--;
      if (!justBusy) {
        justBusy = true;
        setImmediate(settle);
      }
    });
  });
}

try {
  const { tf, backend } = await startTf(init.backend);
  const model = await loadTfModel(tf, init.dir);
  send({ type: 'ready', info: model.info, backend });
  serve(model);
} catch (err) {
  send({ type: 'load-failed', message: errorMessage(err) });
  port.close();
}
