/**
 * The registry's PGlite on a thread of its own (see pglite-thread-db.ts): it opens the database in
 * `workerData.dataDir`, then runs what the Db posts; with `initOnly`, it creates the database and ends. PGlite has one session, so statements outside a
 * transaction wait while one is open, exactly as in process.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { registryPgliteOptions } from './pglite-options.js';
import { toWireError, type FromThread, type ThreadInit, type ToThread } from './pglite-thread-wire.js';

const port = parentPort!;
const post = (message: FromThread): void => port.postMessage(message);

/** Thrown inside a transaction the Db rolls back: PGlite rolls back on any throw. */
const ROLLBACK = Symbol('rollback');

interface Open {
  tx: Transaction;
  decide(commit: boolean): void;
  ended: Promise<void>;
}

const init = workerData as ThreadInit;
let pg: PGlite;
try {
  pg = await PGlite.create(registryPgliteOptions(init.dataDir));
  if (init.initOnly === true) await pg.close();
} catch (err) {
  post({ kind: 'failed', error: toWireError(err) });
  port.close();
  throw err;
}
const transactions = new Map<number, Open>();
const unlisteners = new Map<number, () => Promise<void>>();

function target(tx: number | undefined): PGlite | Transaction {
  if (tx === undefined) return pg;
  const open = transactions.get(tx);
  if (open === undefined) throw new Error(`transaction ${tx} is not open`);
  return open.tx;
}

/** Resolves once the transaction is open; its `ended` settles when PGlite has committed or rolled it back. */
function begin(id: number): Promise<void> {
  return new Promise((opened, failed) => {
    let decide!: (commit: boolean) => void;
    const decided = new Promise<boolean>((resolve) => (decide = resolve));
    const ended = pg
      .transaction(async (tx) => {
        transactions.set(id, { tx, decide, ended });
        opened();
        if (!(await decided)) throw ROLLBACK;
      })
      .then(
        () => undefined,
        (err: unknown) => {
          if (err !== ROLLBACK) throw err;
        },
      )
      .finally(() => transactions.delete(id));
    // A transaction that could not even open fails its `begin`.
    ended.catch(failed);
  });
}

async function run(message: ToThread): Promise<unknown> {
  switch (message.op) {
    case 'query': {
      const res = await target(message.tx).query(message.sql, message.params);
      return { rows: res.rows, rowCount: res.rowCount ?? res.affectedRows ?? res.rows.length };
    }
    case 'exec':
      await target(message.tx).exec(message.sql);
      return null;
    case 'begin':
      await begin(message.id);
      return null;
    case 'end': {
      const open = transactions.get(message.tx);
      if (open === undefined) throw new Error(`transaction ${message.tx} is not open`);
      open.decide(message.commit);
      await open.ended;
      return null;
    }
    case 'listen':
      unlisteners.set(message.id, await pg.listen(message.channel, (payload) => post({ kind: 'notify', listener: message.id, payload })));
      return null;
    case 'unlisten': {
      const unlisten = unlisteners.get(message.listener);
      unlisteners.delete(message.listener);
      if (unlisten !== undefined && !pg.closed) await unlisten();
      return null;
    }
    case 'close':
      if (!pg.closed) await pg.close();
      return null;
  }
}

if (init.initOnly === true) {
  // The cluster is on disk; the thread ends, and with it the memory initdb grew (see pglite-thread-db.ts).
  port.close();
} else {
  port.on('message', (message: ToThread) => {
    run(message).then(
      (value) => {
        post({ kind: 'result', id: message.id, value });
        if (message.op === 'close') port.close();
      },
      (err: unknown) => post({ kind: 'error', id: message.id, error: toWireError(err) }),
    );
  });
  post({ kind: 'ready' });
}
