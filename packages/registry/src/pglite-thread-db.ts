/**
 * Db over PGlite on a thread of its own (pglite-thread.ts), for a database in a data directory: the
 * all-in-one's registry. PGlite runs PostgreSQL compiled to WASM synchronously on the thread that
 * calls it, so in process every registry statement (a deploy, an upload's bookkeeping, a migration)
 * held the event loop that serves inference, and its runtime sat in the serving isolate's heap,
 * marked by every major garbage collection there. On its thread it does neither; statements cross
 * as messages (structured clone: a Buffer parameter arrives as a Uint8Array, which PGlite takes for
 * bytea). Semantics are the in-process Db's: one session, transactions serialized, NOTIFY delivered
 * to this Db's listeners.
 *
 * If the thread dies, every call in flight and every later one fails with the reason; the process
 * goes on.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { assertChannelName, reportListenerError, type Db, type Queryable, type QueryResult } from './db.js';
import { fromWireError, type FromThread, type ThreadInit, type ToThread } from './pglite-thread-wire.js';

/** How long close() waits for the thread to close the database before terminating it. */
const CLOSE_GRACE_MS = 10_000;

type Request = ToThread extends infer M ? (M extends { id: number } ? Omit<M, 'id'> : never) : never;

/**
 * From the built package the thread runs pglite-thread.js beside this file. From the TypeScript
 * sources (vitest, tsx) a one-line bootstrap registers tsx inside the thread first: Node 20 ignores
 * `--import tsx` in a Worker's execArgv.
 */
function spawnThread(init: ThreadInit): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./pglite-thread.js', here), { workerData: init });
  const entry = new URL('./pglite-thread.ts', here).href;
  const pkg = createRequire(here).resolve('tsx/package.json');
  const api = join(dirname(pkg), 'dist', 'esm', 'api', 'index.mjs');
  if (!existsSync(api)) throw new Error(`cannot start the PGlite thread from TypeScript sources: ${api} not found (is tsx installed?)`);
  const bootstrap = `import(${JSON.stringify(pathToFileURL(api).href)}).then((tsx) => tsx.tsImport(${JSON.stringify(entry)}, ${JSON.stringify(entry)}))`;
  return new Worker(bootstrap, { eval: true, workerData: init });
}

/**
 * Creates the database cluster in `dataDir` on a thread that ends once it has: initdb grows PGlite's
 * WASM memory to several hundred MiB (measured: the all-in-one's first start held ~900 MiB resident,
 * a restart on the same directory ~390 MiB), and a WASM memory never shrinks; ending its thread
 * returns it.
 */
async function initializeOnThread(dataDir: string): Promise<void> {
  const worker = spawnThread({ dataDir, initOnly: true });
  let failure: Error | undefined;
  worker.on('message', (message: FromThread) => {
    if (message.kind === 'failed') failure ??= fromWireError(message.error);
  });
  worker.on('error', (err) => (failure ??= new Error(`the registry's PGlite thread failed: ${err.message}`, { cause: err })));
  const code = await new Promise<number>((resolve) => worker.once('exit', resolve));
  if (failure !== undefined) throw failure;
  if (code !== 0) throw new Error(`the registry's PGlite thread exited (code ${code}) while creating the database in ${dataDir}`);
}

export async function openPgliteThreadDb(dataDir: string): Promise<Db> {
  // PGlite's own test for an existing cluster: without PG_VERSION it runs initdb.
  if (!existsSync(join(dataDir, 'PG_VERSION'))) await initializeOnThread(dataDir);
  const worker = spawnThread({ dataDir });
  const pending = new Map<number, { resolve(value: unknown): void; reject(err: Error): void }>();
  const listeners = new Map<number, (payload: string) => void>();
  let nextId = 1;
  let failure: Error | undefined;
  let opened!: () => void;
  let openFailed!: (err: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    opened = resolve;
    openFailed = reject;
  });

  // The thread keeps the process alive only while a call waits on it, as an in-process PGlite would.
  worker.unref();
  const settle = (id: number) => {
    const call = pending.get(id);
    pending.delete(id);
    if (pending.size === 0) worker.unref();
    return call;
  };
  const fail = (err: Error) => {
    failure ??= err;
    openFailed(failure);
    for (const id of [...pending.keys()]) settle(id)!.reject(failure);
  };

  worker.on('message', (message: FromThread) => {
    switch (message.kind) {
      case 'ready':
        opened();
        return;
      case 'failed':
        fail(fromWireError(message.error));
        return;
      case 'result':
        settle(message.id)?.resolve(message.value);
        return;
      case 'error':
        settle(message.id)?.reject(fromWireError(message.error));
        return;
      case 'notify': {
        const handler = listeners.get(message.listener);
        try {
          handler?.(message.payload);
        } catch (err) {
          reportListenerError(err);
        }
        return;
      }
    }
  });
  worker.on('error', (err) => fail(new Error(`the registry's PGlite thread failed: ${err.message}`, { cause: err })));
  worker.on('exit', (code) => fail(new Error(`the registry's PGlite thread exited (code ${code})`)));

  const call = <T>(request: Request, id = nextId++): Promise<T> => {
    if (failure !== undefined) return Promise.reject(failure);
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      worker.ref();
      try {
        worker.postMessage({ ...request, id });
      } catch (err) {
        // A parameter structured clone cannot copy (a function, a symbol): this call's error alone.
        settle(id);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  };

  try {
    await ready;
  } catch (err) {
    await worker.terminate();
    throw err;
  }

  const queryable = (tx: number | undefined): Queryable => ({
    query<T>(sql: string, params: readonly unknown[] = []) {
      return call<QueryResult<T>>(tx === undefined ? { op: 'query', sql, params: [...params] } : { op: 'query', sql, params: [...params], tx });
    },
    async exec(sql: string) {
      await call(tx === undefined ? { op: 'exec', sql } : { op: 'exec', sql, tx });
    },
  });
  const direct = queryable(undefined);
  let closing: Promise<void> | undefined;

  return {
    kind: 'pglite',
    query: direct.query,
    exec: direct.exec,
    async transaction(fn) {
      const tx = nextId++;
      await call({ op: 'begin' }, tx);
      let result;
      try {
        result = await fn(queryable(tx));
      } catch (err) {
        await call({ op: 'end', tx, commit: false }).catch(() => undefined);
        throw err;
      }
      await call({ op: 'end', tx, commit: true });
      return result;
    },
    async listen(channel, handler) {
      assertChannelName(channel);
      const listener = nextId++;
      listeners.set(listener, handler);
      try {
        await call({ op: 'listen', channel }, listener);
      } catch (err) {
        listeners.delete(listener);
        throw err;
      }
      let done = false;
      return async () => {
        if (done) return;
        done = true;
        listeners.delete(listener);
        if (failure === undefined) await call({ op: 'unlisten', listener });
      };
    },
    close() {
      closing ??= (async () => {
        if (failure === undefined) {
          const grace = new Promise<void>((resolve) => setTimeout(resolve, CLOSE_GRACE_MS).unref());
          await Promise.race([call({ op: 'close' }).catch(() => undefined), grace]);
        }
        listeners.clear();
        await worker.terminate();
      })();
      return closing;
    },
  };
}
