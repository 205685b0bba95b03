/**
 * Entry of a thread execution instance: one worker_threads Worker holding one onnxruntime session.
 *
 * Contract with thread-instance.ts: workerData is a WorkerInit; the worker answers `ready` (with the
 * session's SessionInfo) or `load-failed`, then one `result`/`run-failed` per `run`, and on `close`
 * releases the session and lets the thread end. Output buffers are transferred, never cloned.
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

function serve(session: OrtSession): void {
  port!.on('message', (message: ToWorker) => {
    if (message.type === 'close') {
      void session.release().finally(() => port!.close());
      return;
    }
    session.run(message.feeds, message.fetches).then(
      (result) => {
        let buffers: ArrayBuffer[];
        try {
          buffers = transferable(result.outputs);
        } catch (err) {
          send({ type: 'run-failed', id: message.id, message: errorMessage(err) });
          return;
        }
        send({ type: 'result', id: message.id, result }, buffers);
      },
      (err: unknown) => send({ type: 'run-failed', id: message.id, message: errorMessage(err) }),
    );
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
