import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCK_FILE } from './data-dir-lock.js';
import { openDb } from './open-db.js';
import { LISTENER_APPLICATION_NAME } from './postgres-db.js';
import { describeEachBackend, openHarness, type Harness } from './test-support/backends.js';
import { waitFor } from './test-support/fixtures.js';

describeEachBackend('Db', (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await openHarness(backend);
    await h.db.exec('CREATE TABLE t (id serial PRIMARY KEY, j jsonb, n bigint, s text); CREATE TABLE u (v int);');
  }, 60_000);
  afterAll(() => h?.cleanup(), 60_000);

  it('reports its kind', () => {
    expect(h.db.kind).toBe(backend.name === 'postgres' ? 'postgres' : 'pglite');
  });

  it('runs parameterised queries with JSON passed as text, and counts rows', async () => {
    const value = { a: [1, 2], b: 'x' };
    const inserted = await h.db.query<{ id: number }>(
      'INSERT INTO t (j, n, s) VALUES ($1::text::jsonb, $2, $3), ($1::text::jsonb, $2, $3) RETURNING id',
      [JSON.stringify(value), 9_007_199_254_740_991, 'hello'],
    );
    expect(inserted.rowCount).toBe(2);
    const { rows } = await h.db.query<{ j: unknown; n: unknown; s: string }>('SELECT j, n, s FROM t WHERE id = $1', [
      inserted.rows[0]!.id,
    ]);
    expect(rows[0]!.j).toEqual(value);
    expect(Number(rows[0]!.n)).toBe(9_007_199_254_740_991);
    expect(rows[0]!.s).toBe('hello');
    const updated = await h.db.query('UPDATE t SET s = $1', ['bye']);
    expect(updated.rowCount).toBe(2);
  });

  it('commits a transaction and returns its value', async () => {
    const result = await h.db.transaction(async (tx) => {
      await tx.query('INSERT INTO u VALUES ($1)', [1]);
      await tx.exec('INSERT INTO u VALUES (2); INSERT INTO u VALUES (3);');
      return 'done';
    });
    expect(result).toBe('done');
    const { rows } = await h.db.query<{ n: number }>('SELECT count(*)::int AS n FROM u');
    expect(rows[0]!.n).toBe(3);
  });

  it('rolls a transaction back when its body throws, rethrows, and stays usable', async () => {
    const boom = new Error('boom');
    await expect(
      h.db.transaction(async (tx) => {
        await tx.query('INSERT INTO u VALUES ($1)', [100]);
        throw boom;
      }),
    ).rejects.toBe(boom);
    await expect(
      h.db.transaction(async (tx) => {
        await tx.query('INSERT INTO u VALUES ($1)', [101]);
        await tx.query('SELECT * FROM no_such_table');
      }),
    ).rejects.toMatchObject({ code: '42P01' });
    const { rows } = await h.db.query<{ n: number }>('SELECT count(*)::int AS n FROM u WHERE v >= 100');
    expect(rows[0]!.n).toBe(0);
  });

  it('delivers NOTIFY to listeners only when the transaction commits, and stops after unlisten', async () => {
    const got: string[] = [];
    const unlisten = await h.db.listen('db_test', (p) => got.push(p));
    await expect(
      h.db.transaction(async (tx) => {
        await tx.query('SELECT pg_notify($1, $2)', ['db_test', 'rolled-back']);
        throw new Error('no');
      }),
    ).rejects.toThrow('no');
    await h.db.transaction(async (tx) => {
      await tx.query('SELECT pg_notify($1, $2)', ['db_test', 'committed']);
    });
    await waitFor(() => got.length > 0, 1000, 'the notification');
    await unlisten();
    await unlisten();
    await h.db.query('SELECT pg_notify($1, $2)', ['db_test', 'after']);
    await new Promise((r) => setTimeout(r, 100));
    expect(got).toEqual(['committed']);
  });

  it('refuses channel names that are not plain identifiers', async () => {
    await expect(h.db.listen('Bad"Name', () => {})).rejects.toThrow('invalid NOTIFY channel name');
  });

  it.runIf(backend.shared)('delivers notifications sent by another Db (another process) on the same database', async () => {
    const other = await h.openAnother();
    const got: string[] = [];
    const unlisten = await h.db.listen('db_cross', (p) => got.push(p));
    await other.query('SELECT pg_notify($1, $2)', ['db_cross', 'from-other']);
    await waitFor(() => got.length === 1, 1000, 'the cross-process notification');
    expect(got).toEqual(['from-other']);
    await unlisten();
  });

  it.runIf(backend.name === 'postgres')('re-establishes a lost LISTEN connection and asks listeners to resync', async () => {
    const got: string[] = [];
    let resyncs = 0;
    const unlisten = await h.db.listen('db_lost', (p) => got.push(p), { onReconnect: () => resyncs++ });
    const other = await h.openAnother();
    const { rows } = await other.query<{ ok: boolean }>(
      `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
       WHERE datname = current_database() AND application_name = $1`,
      [LISTENER_APPLICATION_NAME],
    );
    expect(rows.length).toBeGreaterThan(0);
    await waitFor(() => resyncs === 1, 5000, 'the resync after reconnect');
    await other.query('SELECT pg_notify($1, $2)', ['db_lost', 'after-reconnect']);
    await waitFor(() => got.length === 1, 1000, 'a notification after reconnect');
    expect(got).toEqual(['after-reconnect']);
    await unlisten();
  });
});

describe('openDb', () => {
  it('creates a missing PGlite data directory, keeps data across reopen, and closes idempotently', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'sibyl-registry-open-'));
    const dataDir = join(parent, 'nested', 'data');
    try {
      const first = await openDb({ dataDir });
      expect((await stat(dataDir)).isDirectory()).toBe(true);
      await first.exec("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here');");
      await first.close();
      await first.close();
      const again = await openDb({ dataDir });
      const { rows } = await again.query<{ v: string }>('SELECT v FROM kept');
      expect(rows).toEqual([{ v: 'still here' }]);
      await again.close();
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  }, 60_000);

  it('refuses a PGlite data directory that is open already, here or in a running process; takes over a stale lock', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'sibyl-registry-lock-'));
    const lockFile = join(dataDir, LOCK_FILE);
    try {
      const first = await openDb({ dataDir });
      await expect(openDb({ dataDir })).rejects.toMatchObject({
        code: 'SIBYL_REGISTRY_DATA_DIR_IN_USE',
        category: 'UNAVAILABLE',
        message: `registry data directory ${dataDir} is in use by process ${process.pid}; stop it, or delete ${lockFile} if no Sibyl is running`,
      });
      await first.close();
      await expect(stat(lockFile)).rejects.toMatchObject({ code: 'ENOENT' });

      // Held by another live process (our parent stands in for it).
      await writeFile(lockFile, `${process.ppid}\n`);
      await expect(openDb({ dataDir })).rejects.toMatchObject({
        code: 'SIBYL_REGISTRY_DATA_DIR_IN_USE',
        message: expect.stringContaining(`in use by process ${process.ppid}`),
      });

      // Left by a process that is gone: taken over.
      const gone = spawnSync(process.execPath, ['-e', '0']).pid;
      await writeFile(lockFile, `${gone}\n`);
      const again = await openDb({ dataDir });
      expect(await readFile(lockFile, 'utf8')).toBe(`${process.pid}\n`);
      await again.close();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('runs a PGlite data directory on its own thread: a long statement does not hold the event loop', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'sibyl-registry-thread-'));
    try {
      const db = await openDb({ dataDir });
      let ticks = 0;
      const timer = setInterval(() => (ticks += 1), 1);
      try {
        // Long enough for several timer turns anywhere; in process, PGlite runs it in one WASM call.
        const { rows } = await db.query<{ n: number | string }>('SELECT count(*)::int AS n FROM generate_series(1, 3000000)');
        expect(Number(rows[0]!.n)).toBe(3_000_000);
      } finally {
        clearInterval(timer);
      }
      expect(ticks).toBeGreaterThan(2);

      // Errors cross the thread with their SQLSTATE; the Db keeps working after one.
      await expect(db.query('SELECT * FROM no_such_table')).rejects.toMatchObject({ code: '42P01', message: expect.stringContaining('no_such_table') });
      await expect(db.transaction(async (tx) => tx.query('SELECT 1/0'))).rejects.toMatchObject({ code: '22012' });
      await expect(db.query('SELECT $1::text', [() => 'not data'])).rejects.toThrow(/could not be cloned/);
      const bytes = await db.query<{ b: Uint8Array }>('SELECT $1::bytea AS b', [Buffer.from([1, 2, 255])]);
      expect([...bytes.rows[0]!.b]).toEqual([1, 2, 255]);
      await db.close();
      await expect(db.query('SELECT 1')).rejects.toThrow(/PGlite thread exited/);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('keeps an embedded registry small: initdb on a thread that ends, 16 MB of shared buffers', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'sibyl-registry-initdb-'));
    try {
      // In a process of its own, so only the registry counts. Measured on Node 20 / PGlite 0.5, from
      // the sources (tsx): 370-395 MiB resident; ~480 MiB with PostgreSQL's default 128 MB of shared
      // buffers (checked below with SHOW instead: memory is too coarse for it); ~860 MiB when initdb
      // also ran on the thread that then served.
      const script = [
        `import { openDb } from ${JSON.stringify(new URL('./open-db.ts', import.meta.url).href)};`,
        `const db = await openDb({ dataDir: ${JSON.stringify(join(dataDir, 'data'))} });`,
        `await db.query('CREATE TABLE t (x int)');`,
        'const rss = process.memoryUsage().rss;',
        'await db.close();',
        'process.stdout.write(String(rss));',
      ].join('\n');
      const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
      expect(child.stderr).toBe('');
      expect(child.status).toBe(0);
      expect(Number(child.stdout) / 2 ** 20).toBeLessThan(600);
      await stat(join(dataDir, 'data', 'PG_VERSION'));

      // The cluster it created is the one served, here and after a restart.
      const db = await openDb({ dataDir: join(dataDir, 'data') });
      expect((await db.query('SELECT count(*)::int AS n FROM t')).rows).toEqual([{ n: 0 }]);
      expect((await db.query('SHOW shared_buffers')).rows).toEqual([{ shared_buffers: '16MB' }]);
      await db.close();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);

  it('says the PostgreSQL server is unavailable when nothing listens at the URL', async () => {
    await expect(openDb({ databaseUrl: 'postgres://postgres@127.0.0.1:1/none' })).rejects.toMatchObject({
      code: 'SIBYL_REGISTRY_UNAVAILABLE',
      category: 'UNAVAILABLE',
      message: expect.stringContaining('registry database unavailable'),
    });
  });
});
