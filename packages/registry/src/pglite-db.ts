/**
 * Db over embedded PGlite (PostgreSQL compiled to WASM) in this thread: the in-memory database of
 * tests and tools. A data directory's database runs on a thread of its own (pglite-thread-db.ts), over
 * the same semantics. PGlite has one session:
 * it runs one query or transaction at a time and queues the rest, so transactions are serialized
 * by construction; row locks and advisory locks are accepted and trivially granted. LISTEN/NOTIFY
 * works in-process: a NOTIFY committed here reaches this process's listeners.
 */
import { PGlite, type Results, type Transaction } from '@electric-sql/pglite';
import { assertChannelName, reportListenerError, type Db, type Queryable, type QueryResult } from './db.js';
import { registryPgliteOptions } from './pglite-options.js';

function toResult<T>(res: Results<T>): QueryResult<T> {
  return { rows: res.rows, rowCount: res.rowCount ?? res.affectedRows ?? res.rows.length };
}

function queryable(target: PGlite | Transaction): Queryable {
  return {
    async query<T>(sql: string, params: readonly unknown[] = []) {
      return toResult(await target.query<T>(sql, [...params]));
    },
    async exec(sql: string) {
      await target.exec(sql);
    },
  };
}

export async function openPgliteDb(dataDir: string | undefined): Promise<Db> {
  const pg = await PGlite.create(registryPgliteOptions(dataDir));
  const direct = queryable(pg);
  let closing: Promise<void> | undefined;

  return {
    kind: 'pglite',
    query: direct.query,
    exec: direct.exec,
    transaction: (fn) => pg.transaction((tx) => fn(queryable(tx))),
    async listen(channel, handler) {
      assertChannelName(channel);
      const unlisten = await pg.listen(channel, (payload) => {
        try {
          handler(payload);
        } catch (err) {
          reportListenerError(err);
        }
      });
      let done = false;
      return async () => {
        if (done || pg.closed) return;
        done = true;
        await unlisten();
      };
    },
    close() {
      closing ??= pg.closed ? Promise.resolve() : pg.close();
      return closing;
    },
  };
}
