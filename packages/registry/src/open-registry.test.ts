import { copyFile, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { migrate, MIGRATIONS_DIR } from './migrate.js';
import { openRegistry, type OpenRegistryOptions } from './open-registry.js';
import { createRegistry } from './registry.js';
import { describeEachBackend, openHarness, type Harness } from './test-support/backends.js';
import { upload } from './test-support/fixtures.js';

describeEachBackend('persistence', (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await openHarness(backend);
  }, 60_000);
  afterAll(() => h?.cleanup(), 60_000);

  it.runIf(backend.persistent)('keeps models, versions, pointers and audit events across close and reopen', async () => {
    await migrate(h.db);
    const before = createRegistry(h.db, { actor: 'first-run' });
    await before.createModel({ name: 'kept', description: 'survives', labels: { a: 'b' } });
    await before.registerVersion(upload('kept', 'k1'));
    await before.registerVersion(upload('kept', 'k2'));
    await before.deploy('kept', 1);
    await before.deploy('kept', 2);
    await before.setVersionState('kept', 2, 'ready');
    const snapshot = {
      model: await before.getModel('kept'),
      versions: await before.listVersions('kept'),
      events: await before.events('kept'),
    };

    const db = await h.reopen();
    expect(await migrate(db)).toEqual({ applied: [], schemaVersion: 2 });
    const after = createRegistry(db, { actor: 'second-run' });
    expect(await after.getModel('kept')).toEqual(snapshot.model);
    expect(await after.listVersions('kept')).toEqual(snapshot.versions);
    expect(await after.events('kept')).toEqual(snapshot.events);
    expect(snapshot.model).toMatchObject({ liveVersion: 2, previousVersion: 1 });
    // Numbering and releases carry on where they stopped.
    expect((await after.registerVersion(upload('kept', 'k3'))).version).toBe(3);
    expect(await after.rollback('kept')).toMatchObject({ liveVersion: 1, previousVersion: 2 });
  });

  it.runIf(!backend.persistent)('starts empty again after reopen (in memory)', async () => {
    await migrate(h.db);
    await createRegistry(h.db).createModel({ name: 'gone' });
    const db = await h.reopen();
    expect((await migrate(db)).applied).toEqual([
      { version: 1, name: 'initial' },
      { version: 2, name: 'routing' },
    ]);
    await expect(createRegistry(db).getModel('gone')).rejects.toMatchObject({ code: 'SIBYL_REGISTRY_MODEL_NOT_FOUND' });
  });
});

describeEachBackend('openRegistry', (backend) => {
  let h: Harness;
  let options: OpenRegistryOptions;
  let dir: string;
  beforeAll(async () => {
    h = await openHarness(backend);
    dir = await mkdtemp(join(tmpdir(), 'sibyl-open-registry-'));
    // PGlite allows one process per data directory: openRegistry gets its own one here.
    options =
      backend.name === 'postgres'
        ? { databaseUrl: h.url! }
        : backend.name === 'pglite-dir'
          ? { dataDir: join(dir, 'data') }
          : {};
  }, 60_000);
  afterAll(async () => {
    await h?.cleanup();
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('opens, migrates and serves the registry, with the default actor given', async () => {
    const registry = await openRegistry({ ...options, actor: 'starter' });
    try {
      expect(registry.db.kind).toBe(backend.name === 'postgres' ? 'postgres' : 'pglite');
      expect(registry.migration.schemaVersion).toBe(2);
      const name = `opened-${Date.now()}`;
      await registry.createModel({ name });
      expect((await registry.events(name))[0]).toMatchObject({ actor: 'starter', action: 'model.create' });
    } finally {
      await registry.close();
    }
  }, 60_000);

  it.runIf(backend.persistent)('refuses to start against a newer schema, and closes what it opened', async () => {
    const newer = await mkdtemp(join(tmpdir(), 'sibyl-migrations-'));
    try {
      for (const file of await readdir(MIGRATIONS_DIR)) await copyFile(join(MIGRATIONS_DIR, file), join(newer, file));
      await writeFile(join(newer, '0003_next.sql'), 'CREATE TABLE next_thing (a int);');
      const upgraded = await openRegistry({ ...options, migrationsDir: newer });
      expect(upgraded.migration.applied).toEqual([{ version: 3, name: 'next' }]);
      await upgraded.close();
      await expect(openRegistry(options)).rejects.toMatchObject({ code: 'SIBYL_REGISTRY_SCHEMA_TOO_NEW' });
      // The refused start-up closed its database: the directory (or server) can be opened again.
      const again = await openRegistry({ ...options, migrationsDir: newer });
      expect(again.migration.applied).toEqual([]);
      await again.close();
    } finally {
      await rm(newer, { recursive: true, force: true });
    }
  }, 60_000);
});
