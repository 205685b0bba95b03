/**
 * Schema migrations: plain SQL files `migrations/NNNN_name.sql`, applied in order, each in its own
 * transaction, recorded in `schema_migrations` with the file's sha256.
 *
 * Start-up refuses (and changes nothing) when the database is at a newer schema than this code
 * knows, when it records a migration this code lacks, or when an applied file was edited since.
 * Every transaction first takes a transaction-scoped advisory lock, so processes that start at the
 * same time apply each migration exactly once: the second one waits, then finds it recorded.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Db, Queryable } from './db.js';
import {
  migrationChanged,
  migrationFailed,
  migrationMissing,
  migrationsInvalid,
  schemaTooNew,
} from './errors.js';

/** The migrations shipped with this package; `../migrations/` from both src/ and dist/. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations/', import.meta.url));

/** 'SIBYLREG' as a big-endian int8: the advisory lock every migration transaction holds. */
const MIGRATION_LOCK_KEY = '6001400929747879239';

const FILE_NAME = /^(\d{4})_([a-z0-9_]+)\.sql$/;

export interface Migration {
  version: number;
  name: string;
  file: string;
  sql: string;
  /** sha256 (hex) of the file, line endings normalised to LF so a Windows checkout matches. */
  checksum: string;
}

export interface MigrateOptions {
  /** Directory of NNNN_name.sql files. Default: the package's own `migrations/`. */
  migrationsDir?: string;
}

export interface MigrateResult {
  /** Migrations this call applied, in order (empty when the schema was current). */
  applied: Array<{ version: number; name: string }>;
  /** Schema version of the database afterwards. */
  schemaVersion: number;
}

export function migrationChecksum(sql: string): string {
  return createHash('sha256').update(sql.replace(/\r\n/g, '\n')).digest('hex');
}

/** Reads and orders the migration files; refuses names that do not follow NNNN_name.sql. */
export async function loadMigrations(dir: string = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = FILE_NAME.exec(file);
    if (match === null) throw migrationsInvalid(dir, `'${file}' is not named NNNN_name.sql (name: a-z, 0-9, _)`);
    const version = Number(match[1]);
    if (version === 0) throw migrationsInvalid(dir, `'${file}': migration numbers start at 0001`);
    const previous = migrations.at(-1);
    if (previous?.version === version) throw migrationsInvalid(dir, `'${previous.file}' and '${file}' share number ${version}`);
    const sql = await readFile(join(dir, file), 'utf8');
    migrations.push({ version, name: match[2]!, file, sql, checksum: migrationChecksum(sql) });
  }
  return migrations;
}

interface RecordedRow {
  version: number;
  name: string;
  checksum: string;
}

const CREATE_TABLE = `
CREATE TABLE IF NOT EXISTS schema_migrations (
  version    integer PRIMARY KEY,
  name       text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now(),
  checksum   text NOT NULL
)`;

/** Checks what the database recorded against the code; returns the first pending migration. */
function nextPending(recorded: readonly RecordedRow[], migrations: readonly Migration[]): Migration | undefined {
  const codeVersion = migrations.at(-1)?.version ?? 0;
  const databaseVersion = recorded.at(-1)?.version ?? 0;
  if (databaseVersion > codeVersion) throw schemaTooNew(databaseVersion, codeVersion);
  const byVersion = new Map(migrations.map((m) => [m.version, m]));
  for (const row of recorded) {
    const migration = byVersion.get(row.version);
    if (migration === undefined) throw migrationMissing(row.version, row.name);
    if (migration.checksum !== row.checksum) throw migrationChanged(row.version, row.name, row.checksum, migration.checksum);
  }
  const done = new Set(recorded.map((r) => r.version));
  return migrations.find((m) => !done.has(m.version));
}

async function lockedStep(tx: Queryable, migrations: readonly Migration[]): Promise<Migration | undefined> {
  await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
  await tx.exec(CREATE_TABLE);
  const { rows } = await tx.query<RecordedRow>(
    'SELECT version::int AS version, name, checksum FROM schema_migrations ORDER BY version',
  );
  const next = nextPending(rows, migrations);
  if (next === undefined) return undefined;
  try {
    await tx.exec(next.sql);
  } catch (err) {
    throw Object.assign(migrationFailed(next.file, err instanceof Error ? err.message : String(err)), { cause: err });
  }
  await tx.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
    next.version,
    next.name,
    next.checksum,
  ]);
  return next;
}

/** Applies every pending migration; safe to call from several processes at once. */
export async function migrate(db: Db, options: MigrateOptions = {}): Promise<MigrateResult> {
  const migrations = await loadMigrations(options.migrationsDir);
  const applied: MigrateResult['applied'] = [];
  for (;;) {
    const step = await db.transaction((tx) => lockedStep(tx, migrations));
    if (step === undefined) break;
    applied.push({ version: step.version, name: step.name });
  }
  return { applied, schemaVersion: migrations.at(-1)?.version ?? 0 };
}
