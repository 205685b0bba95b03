/**
 * What every registry operation shares: the database, the default actor, and the lock discipline.
 *
 * Lock discipline: every change to a model or any of its versions first locks the model's row
 * (`SELECT ... FOR UPDATE`) in its transaction. Changes to one model therefore run one after the
 * other on PostgreSQL (PGlite runs one transaction at a time anyway), which is what makes version
 * numbers unique, deploys serialized, and every check-then-write (live? retired?) safe. Different
 * models never wait for each other.
 */
import type { Db, Queryable } from './db.js';
import { modelNotFound, versionNotFound } from './errors.js';
import { MODEL_COLUMNS, VERSION_COLUMNS, type ModelRow, type VersionRow } from './rows.js';
import { checkText } from './validate-input.js';

export interface OpsContext {
  db: Db;
  /** The actor of a call: the one it names, else the registry's default. */
  actor(given: string | undefined): string;
}

export function createOpsContext(db: Db, defaultActor: string): OpsContext {
  const fallback = checkText(defaultActor, 'actor');
  return {
    db,
    actor: (given) => (given === undefined ? fallback : checkText(given, 'actor')),
  };
}

/** Locks the model's row for the rest of the transaction; NOT_FOUND when it does not exist. */
export async function lockModel(tx: Queryable, name: string): Promise<ModelRow> {
  const { rows } = await tx.query<ModelRow>(`SELECT ${MODEL_COLUMNS} FROM models WHERE name = $1 FOR UPDATE`, [name]);
  const row = rows[0];
  if (row === undefined) throw modelNotFound(name);
  return row;
}

export async function readModel(q: Queryable, name: string): Promise<ModelRow> {
  const { rows } = await q.query<ModelRow>(`SELECT ${MODEL_COLUMNS} FROM models WHERE name = $1`, [name]);
  const row = rows[0];
  if (row === undefined) throw modelNotFound(name);
  return row;
}

/** A version of a model that is known to exist; NOT_FOUND when the version does not. */
export async function readVersion(q: Queryable, model: string, version: number): Promise<VersionRow> {
  const { rows } = await q.query<VersionRow>(
    `SELECT ${VERSION_COLUMNS} FROM model_versions WHERE model = $1 AND version = $2`,
    [model, version],
  );
  const row = rows[0];
  if (row === undefined) throw versionNotFound(model, version);
  return row;
}
