/**
 * The databases every registry test runs against: real PostgreSQL when DATABASE_URL is set (a fresh
 * database per harness, dropped afterwards), PGlite in a temporary directory, and PGlite in memory.
 * Without DATABASE_URL the PostgreSQL suites are reported as skipped, never silently absent.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe } from 'vitest';
import type { Db } from '../db.js';
import { openDb } from '../open-db.js';

export type BackendName = 'postgres' | 'pglite-dir' | 'pglite-memory';

export interface Backend {
  name: BackendName;
  /** False for PostgreSQL when DATABASE_URL is not set. */
  available: boolean;
  /** Data survives close and reopen. */
  persistent: boolean;
  /** Several Db instances (processes) can share the database. */
  shared: boolean;
}

const DATABASE_URL = process.env.DATABASE_URL ?? '';

export const BACKENDS: readonly Backend[] = [
  { name: 'postgres', available: DATABASE_URL !== '', persistent: true, shared: true },
  { name: 'pglite-dir', available: true, persistent: true, shared: false },
  { name: 'pglite-memory', available: true, persistent: false, shared: false },
];

/** Declares `suite` once per backend, skipped where the backend is unavailable. */
export function describeEachBackend(title: string, suite: (backend: Backend) => void): void {
  for (const backend of BACKENDS) describe.skipIf(!backend.available)(`${title} [${backend.name}]`, () => suite(backend));
}

export interface Harness {
  backend: Backend;
  /** The open database. */
  db: Db;
  /** PostgreSQL only: the URL of this harness's database. */
  url: string | undefined;
  /** Closes `db` and opens the same storage again (for PGlite in memory: a new, empty one). */
  reopen(): Promise<Db>;
  /** Another Db on the same database, as a second process would have (PostgreSQL only). */
  openAnother(): Promise<Db>;
  /** Empties the database (drops and recreates schema public), for tests that need a blank one. */
  reset(): Promise<void>;
  /** Closes everything this harness opened and deletes its database or directory. */
  cleanup(): Promise<void>;
}

let counter = 0;

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export async function openHarness(backend: Backend): Promise<Harness> {
  const opened: Db[] = [];
  const track = (db: Db) => {
    opened.push(db);
    return db;
  };
  let url: string | undefined;
  let dir: string | undefined;
  let open: () => Promise<Db>;

  if (backend.name === 'postgres') {
    const name = `sibyl_registry_test_${process.pid}_${Date.now().toString(36)}_${counter++}`;
    await adminQuery(`CREATE DATABASE "${name}"`);
    const u = new URL(DATABASE_URL);
    u.pathname = `/${name}`;
    url = u.toString();
    open = () => openDb({ databaseUrl: url!, poolSize: 12 });
  } else if (backend.name === 'pglite-dir') {
    dir = await mkdtemp(join(tmpdir(), 'sibyl-registry-test-'));
    open = () => openDb({ dataDir: join(dir!, 'data') });
  } else {
    open = () => openDb();
  }

  const harness: Harness = {
    backend,
    db: track(await open()),
    url,
    async reopen() {
      await harness.db.close();
      harness.db = track(await open());
      return harness.db;
    },
    async openAnother() {
      if (!backend.shared) throw new Error(`${backend.name} cannot be shared between Db instances`);
      return track(await open());
    },
    async reset() {
      await harness.db.exec('DROP SCHEMA public CASCADE; CREATE SCHEMA public;');
    },
    async cleanup() {
      try {
        await Promise.allSettled(opened.map((db) => db.close()));
        if (backend.name === 'postgres') {
          await adminQuery(`DROP DATABASE IF EXISTS "${new URL(url!).pathname.slice(1)}" WITH (FORCE)`);
        }
      } finally {
        if (dir !== undefined) await rm(dir, { recursive: true, force: true });
      }
    },
  };
  return harness;
}
