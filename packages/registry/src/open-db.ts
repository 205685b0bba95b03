/**
 * Opens the registry database the deployment asks for: PostgreSQL when a URL is given (DESIGN.md §4,
 * `DATABASE_URL`), otherwise embedded PGlite in a data directory, or in memory for tests.
 */
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { lockDataDir } from './data-dir-lock.js';
import type { Db } from './db.js';

// Each driver is imported when a database of its kind is opened: a process keeps only the one it
// uses in memory (pg with its protocol stack, or PGlite's runtime), not both. A PGlite data directory
// (the all-in-one's registry) runs on a thread of its own, off the event loop that serves requests;
// the in-memory database (tests, tools) stays on the calling thread.
const openPgliteDb = async (dataDir: string | undefined): Promise<Db> => (await import('./pglite-db.js')).openPgliteDb(dataDir);

export interface OpenDbOptions {
  /** `postgres://` URL; when given, the registry uses PostgreSQL through a `pg` pool. */
  databaseUrl?: string;
  /**
   * Directory of the embedded PGlite database, created when missing. Ignored when `databaseUrl` is
   * set; when neither is given the database lives in memory and is gone on close. One open Db per
   * directory: a second one (in any process) is refused with SIBYL_REGISTRY_DATA_DIR_IN_USE.
   */
  dataDir?: string;
  /** Most PostgreSQL connections the pool opens (the LISTEN connection is one more). Default 10. */
  poolSize?: number;
}

export async function openDb(options: OpenDbOptions = {}): Promise<Db> {
  if (options.databaseUrl !== undefined && options.databaseUrl !== '') {
    const { openPostgresDb } = await import('./postgres-db.js');
    return openPostgresDb(options.databaseUrl, { poolSize: options.poolSize ?? 10 });
  }
  if (options.dataDir !== undefined && options.dataDir !== '') {
    const dir = resolve(options.dataDir);
    await mkdir(dir, { recursive: true });
    const unlock = await lockDataDir(dir);
    try {
      const { openPgliteThreadDb } = await import('./pglite-thread-db.js');
      const db = await openPgliteThreadDb(dir);
      const close = db.close;
      return { ...db, close: () => close().finally(unlock) };
    } catch (err) {
      await unlock();
      throw err;
    }
  }
  return openPgliteDb(undefined);
}
