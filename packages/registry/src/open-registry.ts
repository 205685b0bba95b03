/**
 * Start-up in one call: open the database, apply pending migrations (or refuse a schema this code
 * does not know), and return the registry with the means to close it.
 */
import type { Db } from './db.js';
import { migrate, type MigrateResult } from './migrate.js';
import { openDb, type OpenDbOptions } from './open-db.js';
import { createRegistry, type Registry, type RegistryOptions } from './registry.js';

export interface OpenRegistryOptions extends OpenDbOptions, RegistryOptions {
  /** Directory of migration files. Default: the package's own. */
  migrationsDir?: string;
}

export interface OpenedRegistry extends Registry {
  readonly db: Db;
  /** What start-up migrated. */
  readonly migration: MigrateResult;
  /** Closes the database (and every subscription). */
  close(): Promise<void>;
}

export async function openRegistry(options: OpenRegistryOptions = {}): Promise<OpenedRegistry> {
  const db = await openDb(options);
  try {
    const migration = await migrate(db, options.migrationsDir === undefined ? {} : { migrationsDir: options.migrationsDir });
    const registry = createRegistry(db, options.actor === undefined ? {} : { actor: options.actor });
    return { ...registry, db, migration, close: () => db.close() };
  } catch (err) {
    await db.close();
    throw err;
  }
}
