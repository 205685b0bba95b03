/**
 * Versions: register (the next number, or an explicit one on import), read, find by content, and
 * change state. A version row never changes after registration except its state; a database
 * trigger holds everything else still.
 *
 * States: registered, loading, ready and failed move freely among each other as serving reports
 * them (failed needs a reason); retired is final, and the live version cannot be retired. Retiring
 * the version `rollback` would go to clears that pointer, so rollback never lands on a retired
 * version.
 */
import { recordChange } from './audit.js';
import { fieldInvalid, versionExists, versionLive, versionNotFound, versionRetired } from './errors.js';
import { lockModel, readModel, readVersion, type OpsContext } from './ops-context.js';
import { VERSION_COLUMNS, toVersion, type VersionRow } from './rows.js';
import type { Queryable } from './db.js';
import type { ModelVersion, RegisterVersionInput, VersionState } from './registry-types.js';
import {
  checkConfig,
  checkFilename,
  checkFormat,
  checkModelName,
  checkObject,
  checkSha256,
  checkSignature,
  checkSize,
  checkState,
  checkText,
  checkVersionNumber,
} from './validate-input.js';

const REGISTER_FIELDS = [
  'model',
  'sha256',
  'size',
  'filename',
  'format',
  'signature',
  'config',
  'createdBy',
  'version',
] as const;

export async function registerVersion(ctx: OpsContext, input: RegisterVersionInput): Promise<ModelVersion> {
  const given = checkObject(input, '', REGISTER_FIELDS);
  const model = checkModelName(given.model);
  const explicit = given.version === undefined ? undefined : checkVersionNumber(given.version);
  const row = {
    sha256: checkSha256(given.sha256),
    size: checkSize(given.size),
    filename: checkFilename(given.filename),
    format: checkFormat(given.format),
    signature: checkSignature(given.signature),
    config: checkConfig(given.config),
  };
  const createdBy = ctx.actor(given.createdBy === undefined ? undefined : checkText(given.createdBy, 'createdBy'));
  return ctx.db.transaction(async (tx) => {
    // The model lock makes max + 1 safe: a concurrent registration waits here and then sees ours.
    await lockModel(tx, model);
    let version = explicit;
    if (version === undefined) {
      const { rows } = await tx.query<{ next: number }>(
        'SELECT (coalesce(max(version), 0) + 1)::int AS next FROM model_versions WHERE model = $1',
        [model],
      );
      version = rows[0]!.next;
    } else {
      const { rowCount } = await tx.query('SELECT 1 FROM model_versions WHERE model = $1 AND version = $2', [model, version]);
      if (rowCount > 0) throw versionExists(model, version);
    }
    const { rows } = await tx.query<VersionRow>(
      `INSERT INTO model_versions (model, version, artifact_sha256, artifact_size, filename, format, signature, config, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7::text::jsonb, $8::text::jsonb, $9)
       RETURNING ${VERSION_COLUMNS}`,
      [
        model,
        version,
        row.sha256,
        row.size,
        row.filename,
        row.format,
        JSON.stringify(row.signature),
        row.config === null ? null : JSON.stringify(row.config),
        createdBy,
      ],
    );
    await recordChange(tx, {
      actor: createdBy,
      model,
      action: 'version.register',
      to: version,
      detail: { version, sha256: row.sha256, size: row.size, filename: row.filename, format: row.format },
    });
    return toVersion(rows[0]!);
  });
}

export async function listVersions(ctx: OpsContext, model: string): Promise<ModelVersion[]> {
  checkModelName(model);
  const { rows } = await ctx.db.query<VersionRow>(
    `SELECT ${VERSION_COLUMNS} FROM model_versions WHERE model = $1 ORDER BY version`,
    [model],
  );
  // No rows: a model without versions, or no model at all (NOT_FOUND).
  if (rows.length === 0) await readModel(ctx.db, model);
  return rows.map(toVersion);
}

export async function getVersion(ctx: OpsContext, model: string, version: number): Promise<ModelVersion> {
  checkModelName(model);
  checkVersionNumber(version);
  const { rows } = await ctx.db.query<VersionRow>(
    `SELECT ${VERSION_COLUMNS} FROM model_versions WHERE model = $1 AND version = $2`,
    [model, version],
  );
  if (rows[0] !== undefined) return toVersion(rows[0]);
  await readModel(ctx.db, model);
  throw versionNotFound(model, version);
}

/**
 * The newest version of `model` whose artifact is `sha256`, whatever its state (a retired match
 * tells an importer the file was retired on purpose); undefined when there is none or no such model.
 */
export async function findVersionBySha(ctx: OpsContext, model: string, sha256: string): Promise<ModelVersion | undefined> {
  checkModelName(model);
  checkSha256(sha256);
  const { rows } = await ctx.db.query<VersionRow>(
    `SELECT ${VERSION_COLUMNS} FROM model_versions WHERE model = $1 AND artifact_sha256 = $2 ORDER BY version DESC LIMIT 1`,
    [model, sha256],
  );
  return rows[0] === undefined ? undefined : toVersion(rows[0]);
}

async function changeState(
  tx: Queryable,
  who: string,
  model: string,
  version: number,
  state: VersionState,
  reason: string,
): Promise<ModelVersion> {
  const current = await lockModel(tx, model);
  const row = await readVersion(tx, model, version);
  if (row.state === 'retired') {
    if (state === 'retired') return toVersion(row);
    throw versionRetired(model, version, state);
  }
  if (row.state === state && row.state_reason === reason) return toVersion(row);
  if (state === 'retired' && current.live_version === version) throw versionLive(model, version);
  const { rows } = await tx.query<VersionRow>(
    `UPDATE model_versions SET state = $3, state_reason = $4, state_changed_at = now()
     WHERE model = $1 AND version = $2 RETURNING ${VERSION_COLUMNS}`,
    [model, version, state, reason],
  );
  const clearsPrevious = state === 'retired' && current.previous_version === version;
  if (clearsPrevious) await tx.query('UPDATE models SET previous_version = NULL WHERE name = $1', [model]);
  // A retired canary or shadow stops getting traffic with it.
  const clearsCanary = state === 'retired' && current.canary_version === version;
  const clearsShadow = state === 'retired' && current.shadow_version === version;
  if (clearsCanary) await tx.query('UPDATE models SET canary_version = NULL, canary_weight = 0 WHERE name = $1', [model]);
  if (clearsShadow) await tx.query('UPDATE models SET shadow_version = NULL WHERE name = $1', [model]);
  await recordChange(tx, {
    actor: who,
    model,
    action: state === 'retired' ? 'version.retire' : 'version.state',
    from: row.state,
    to: state,
    detail: {
      version,
      reason,
      ...(clearsPrevious ? { clearedPreviousVersion: true } : {}),
      ...(clearsCanary ? { clearedCanaryVersion: true } : {}),
      ...(clearsShadow ? { clearedShadowVersion: true } : {}),
    },
  });
  return toVersion(rows[0]!);
}

/** Records what serving found: loading, ready, failed (with the reason). `retired` acts as retireVersion. */
export async function setVersionState(
  ctx: OpsContext,
  model: string,
  version: number,
  state: VersionState,
  reason = '',
  actor?: string,
): Promise<ModelVersion> {
  checkModelName(model);
  checkVersionNumber(version);
  checkState(state);
  checkText(reason, 'reason', 4096, true);
  if (state === 'failed' && reason === '') throw fieldInvalid('reason', 'the reason a failed version failed', reason);
  const who = ctx.actor(actor);
  return ctx.db.transaction((tx) => changeState(tx, who, model, version, state, reason));
}

/** Retires a version for good; CONFLICT while it is live. Retiring a retired version changes nothing. */
export async function retireVersion(ctx: OpsContext, model: string, version: number, actor?: string): Promise<ModelVersion> {
  checkModelName(model);
  checkVersionNumber(version);
  const who = ctx.actor(actor);
  return ctx.db.transaction((tx) => changeState(tx, who, model, version, 'retired', ''));
}
