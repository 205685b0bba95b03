import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from './db.js';
import { loadMigrations, migrate, migrationChecksum, MIGRATIONS_DIR } from './migrate.js';
import { describeEachBackend, openHarness, type Harness } from './test-support/backends.js';

const CODE_VERSION = 2;
const SHIPPED = [
  { version: 1, name: 'initial' },
  { version: 2, name: 'routing' },
];

/** A scratch migrations directory: the shipped files, plus or minus what a test needs. */
async function scratchMigrations(edit: (dir: string) => Promise<void> = async () => {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sibyl-migrations-'));
  for (const file of await readdir(MIGRATIONS_DIR)) await copyFile(join(MIGRATIONS_DIR, file), join(dir, file));
  await edit(dir);
  return dir;
}

async function recorded(db: Db): Promise<Array<{ version: number; name: string; checksum: string }>> {
  const { rows } = await db.query<{ version: number; name: string; checksum: string; applied_at: Date }>(
    'SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version',
  );
  for (const row of rows) expect(row.applied_at).toBeInstanceOf(Date);
  return rows.map(({ version, name, checksum }) => ({ version, name, checksum }));
}

async function tables(db: Db): Promise<string[]> {
  const { rows } = await db.query<{ t: string }>(
    "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
  );
  return rows.map((r) => r.t);
}

describe('migration files', () => {
  it('are found from the package root whether this module runs from src/ or dist/', () => {
    expect(MIGRATIONS_DIR).toBe(fileURLToPath(new URL('../migrations/', import.meta.url)));
    expect(MIGRATIONS_DIR.replace(/\\/g, '/')).toMatch(/packages\/registry\/migrations\/$/);
  });

  it('load in order with their checksums (line endings normalised)', async () => {
    const migrations = await loadMigrations();
    expect(migrations.map((m) => [m.version, m.name])).toEqual([
      [1, 'initial'],
      [2, 'routing'],
    ]);
    const first = migrations[0]!;
    expect(first.checksum).toBe(migrationChecksum(await readFile(join(MIGRATIONS_DIR, first.file), 'utf8')));
    expect(migrationChecksum('a\r\nb\r\n')).toBe(migrationChecksum('a\nb\n'));
  });

  it('refuse a file not named NNNN_name.sql, and two files with one number', async () => {
    const badName = await scratchMigrations((dir) => writeFile(join(dir, '2_oops.sql'), 'SELECT 1;'));
    const twice = await scratchMigrations((dir) => writeFile(join(dir, '0001_again.sql'), 'SELECT 1;'));
    try {
      await expect(loadMigrations(badName)).rejects.toMatchObject({
        code: 'SIBYL_REGISTRY_MIGRATIONS_INVALID',
        message: expect.stringContaining("'2_oops.sql' is not named NNNN_name.sql"),
      });
      await expect(loadMigrations(twice)).rejects.toMatchObject({
        code: 'SIBYL_REGISTRY_MIGRATIONS_INVALID',
        message: expect.stringContaining('share number 1'),
      });
    } finally {
      await rm(badName, { recursive: true });
      await rm(twice, { recursive: true });
    }
  });
});

describeEachBackend('migrate', (backend) => {
  let h: Harness;
  const scratch: string[] = [];
  beforeAll(async () => {
    h = await openHarness(backend);
  }, 60_000);
  afterAll(() => h?.cleanup(), 60_000);
  beforeEach(() => h.reset());
  afterEach(async () => {
    for (const dir of scratch.splice(0)) await rm(dir, { recursive: true, force: true });
  });
  const scratchDir = async (edit: (dir: string) => Promise<void>) => {
    const dir = await scratchMigrations(edit);
    scratch.push(dir);
    return dir;
  };

  it('applies every migration to a fresh database and records version, name, time and checksum', async () => {
    const result = await migrate(h.db);
    expect(result).toEqual({ applied: SHIPPED, schemaVersion: CODE_VERSION });
    expect(await tables(h.db)).toEqual(['audit_events', 'model_versions', 'models', 'pools', 'routing_rules', 'schema_migrations']);
    const files = await loadMigrations();
    expect(await recorded(h.db)).toEqual(files.map((f) => ({ version: f.version, name: f.name, checksum: f.checksum })));
  });

  it('is idempotent: a second start-up applies nothing and changes nothing', async () => {
    await migrate(h.db);
    const before = await recorded(h.db);
    expect(await migrate(h.db)).toEqual({ applied: [], schemaVersion: CODE_VERSION });
    expect(await recorded(h.db)).toEqual(before);
  });

  it('applies only the pending migrations, in order', async () => {
    await migrate(h.db);
    const dir = await scratchDir(async (d) => {
      await writeFile(join(d, '0004_third.sql'), 'ALTER TABLE second ADD COLUMN b int;');
      await writeFile(join(d, '0003_second.sql'), 'CREATE TABLE second (a int);');
    });
    const result = await migrate(h.db, { migrationsDir: dir });
    expect(result.applied).toEqual([
      { version: 3, name: 'second' },
      { version: 4, name: 'third' },
    ]);
    expect(result.schemaVersion).toBe(4);
    expect((await recorded(h.db)).map((r) => r.version)).toEqual([1, 2, 3, 4]);
  });

  it('refuses a database whose schema is newer than the code, naming both versions', async () => {
    const newer = await scratchDir((d) => writeFile(join(d, '0003_future.sql'), 'CREATE TABLE future (a int);'));
    await migrate(h.db, { migrationsDir: newer });
    await expect(migrate(h.db)).rejects.toMatchObject({
      code: 'SIBYL_REGISTRY_SCHEMA_TOO_NEW',
      category: 'UNAVAILABLE',
      message: 'the registry database is at schema version 3, newer than the 2 this Sibyl knows; upgrade Sibyl, or point it at another database',
    });
  });

  it('refuses when an applied migration file changed since it ran', async () => {
    await migrate(h.db);
    const edited = await scratchDir(async (d) => {
      const file = join(d, '0001_initial.sql');
      await writeFile(file, `${await readFile(file, 'utf8')}\n-- an edit after release\n`);
    });
    await expect(migrate(h.db, { migrationsDir: edited })).rejects.toMatchObject({
      code: 'SIBYL_REGISTRY_MIGRATION_CHANGED',
      message: expect.stringMatching(/^migration 1 \(initial\) was applied with checksum [0-9a-f]{12}, but the file now has [0-9a-f]{12}/),
    });
  });

  it('refuses a database that records a migration the code does not have', async () => {
    const withSecond = await scratchDir((d) => writeFile(join(d, '0003_second.sql'), 'SELECT 1;'));
    await migrate(h.db, { migrationsDir: withSecond });
    const withoutSecond = await scratchDir((d) => writeFile(join(d, '0004_third.sql'), 'SELECT 1;'));
    await expect(migrate(h.db, { migrationsDir: withoutSecond })).rejects.toMatchObject({
      code: 'SIBYL_REGISTRY_MIGRATION_MISSING',
      message: expect.stringContaining('records migration 3 (second)'),
    });
  });

  it('rolls a failing migration back completely and names its file', async () => {
    await migrate(h.db);
    const broken = await scratchDir((d) =>
      writeFile(join(d, '0003_broken.sql'), 'CREATE TABLE half_done (a int);\nSELECT no_such_column FROM half_done;'),
    );
    await expect(migrate(h.db, { migrationsDir: broken })).rejects.toMatchObject({
      code: 'SIBYL_REGISTRY_MIGRATION_FAILED',
      message: expect.stringContaining('migration 0003_broken.sql failed and was rolled back: column "no_such_column" does not exist'),
    });
    expect(await tables(h.db)).not.toContain('half_done');
    expect((await recorded(h.db)).map((r) => r.version)).toEqual([1, 2]);
  });

  it('applies each migration once when several start-ups run at the same time', async () => {
    const dbs = backend.shared ? [h.db, await h.openAnother(), await h.openAnother()] : [h.db, h.db, h.db];
    const results = await Promise.all(dbs.map((db) => migrate(db)));
    // Each once, though not necessarily by the same start-up.
    const applied = results.flatMap((r) => r.applied.map((m) => m.version));
    expect(applied.sort()).toEqual([1, 2]);
    expect((await recorded(h.db)).map((r) => r.version)).toEqual([1, 2]);
  });
});
