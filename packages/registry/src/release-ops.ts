/**
 * Releases: which version of a model is live, and the one before it.
 *
 * Semantics follow `kubectl rollout undo` (and Triton's load/unload): the model keeps two pointers,
 * `live` and `previous`.
 * - deploy(v): previous := the old live (or, when nothing was live, the old previous), live := v.
 *   Deploying the live version changes nothing and writes no event.
 * - rollback(): swaps them: live := previous, previous := the old live. Rolling back twice returns
 *   to where it started, as `rollout undo` does; CONFLICT when there is no previous version.
 * - undeploy(): previous := the old live, live := null, so a rollback re-deploys it.
 * A retired or failed version is never made live, nor one that no routing rule matches (the router
 * would have no pool for it). Every change is serialized per model by the model row lock and audited
 * with from -> to.
 *
 * Traffic follows: a version that becomes live stops being the canary or the shadow (deploying the
 * canary promotes it), and undeploy clears both, since they split the live version's traffic.
 */
import { recordChange } from './audit.js';
import { fieldInvalid, noPreviousVersion, versionNotDeployable } from './errors.js';
import { lockModel, readModel, readVersion, type OpsContext } from './ops-context.js';
import type { Queryable } from './db.js';
import { assertRouted, readRules } from './route-check.js';
import { EVENT_COLUMNS, MODEL_COLUMNS, toEvent, toModel, type EventRow, type ModelRow, type VersionRow } from './rows.js';
import type { AuditAction, AuditEvent, ConfigEventsOptions, EventsOptions, Model } from './registry-types.js';
import { checkEventCursor, checkEventsLimit, checkModelName, checkObject, checkVersionNumber } from './validate-input.js';

async function assertDeployable(tx: Queryable, model: string, version: number): Promise<VersionRow> {
  const row = await readVersion(tx, model, version);
  if (row.state === 'retired' || row.state === 'failed') {
    throw versionNotDeployable(model, version, row.state, row.state_reason);
  }
  return row;
}

/** CONFLICT (SIBYL_REGISTRY_NO_ROUTE) when no routing rule matches the version about to go live. */
async function assertRoutable(tx: Queryable, model: ModelRow, version: VersionRow): Promise<void> {
  assertRouted(await readRules(tx, true), model, version);
}

async function setPointers(
  tx: Queryable,
  who: string,
  action: AuditAction,
  before: ModelRow,
  live: number | null,
  previous: number | null,
): Promise<Model> {
  // The new live version stops being the canary or shadow; with nothing live, neither is left.
  const canary = live === null || before.canary_version === live ? null : before.canary_version;
  const shadow = live === null || before.shadow_version === live ? null : before.shadow_version;
  const { rows } = await tx.query<ModelRow>(
    `UPDATE models SET live_version = $2, previous_version = $3, canary_version = $4,
       canary_weight = CASE WHEN $4::integer IS NULL THEN 0 ELSE canary_weight END, shadow_version = $5, updated_at = now()
     WHERE name = $1 RETURNING ${MODEL_COLUMNS}`,
    [before.name, live, previous, canary, shadow],
  );
  await recordChange(tx, {
    actor: who,
    model: before.name,
    action,
    from: before.live_version,
    to: live,
    detail: {
      previousVersion: previous,
      previousVersionBefore: before.previous_version,
      ...(canary !== before.canary_version ? { clearedCanaryVersion: before.canary_version } : {}),
      ...(shadow !== before.shadow_version ? { clearedShadowVersion: before.shadow_version } : {}),
    },
  });
  return toModel(rows[0]!);
}

export async function deploy(ctx: OpsContext, model: string, version: number, actor?: string): Promise<Model> {
  checkModelName(model);
  checkVersionNumber(version);
  const who = ctx.actor(actor);
  return ctx.db.transaction(async (tx) => {
    const current = await lockModel(tx, model);
    const row = await assertDeployable(tx, model, version);
    if (current.live_version === version) return toModel(current);
    await assertRoutable(tx, current, row);
    const before = current.live_version ?? current.previous_version;
    return setPointers(tx, who, 'deploy', current, version, before === version ? null : before);
  });
}

export async function rollback(ctx: OpsContext, model: string, actor?: string): Promise<Model> {
  checkModelName(model);
  const who = ctx.actor(actor);
  return ctx.db.transaction(async (tx) => {
    const current = await lockModel(tx, model);
    const target = current.previous_version;
    if (target === null) throw noPreviousVersion(model, current.live_version);
    await assertRoutable(tx, current, await assertDeployable(tx, model, target));
    return setPointers(tx, who, 'rollback', current, target, current.live_version);
  });
}

export async function undeploy(ctx: OpsContext, model: string, actor?: string): Promise<Model> {
  checkModelName(model);
  const who = ctx.actor(actor);
  return ctx.db.transaction(async (tx) => {
    const current = await lockModel(tx, model);
    if (current.live_version === null) return toModel(current);
    return setPointers(tx, who, 'undeploy', current, null, current.live_version);
  });
}

/**
 * The model's audit events, newest first. Events outlive the model: a deleted model's history is
 * still returned; NOT_FOUND only when the name has neither a model nor any event.
 */
export async function events(ctx: OpsContext, model: string, options: EventsOptions = {}): Promise<AuditEvent[]> {
  checkModelName(model);
  const given = checkObject(options, '', ['limit', 'before']);
  const limit = checkEventsLimit(given.limit);
  const before = checkEventCursor(given.before);
  const { rows } = await ctx.db.query<EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM audit_events
     WHERE scope = 'model' AND model = $1 AND ($2::bigint IS NULL OR id < $2::bigint)
     ORDER BY id DESC LIMIT $3`,
    [model, before ?? null, limit],
  );
  if (rows.length === 0 && before === undefined) await readModel(ctx.db, model);
  return rows.map(toEvent);
}

/** Pool and routing-rule events (or one scope's), newest first; `model` holds the pool name or rule id. */
export async function configEvents(ctx: OpsContext, options: ConfigEventsOptions = {}): Promise<AuditEvent[]> {
  const given = checkObject(options, '', ['limit', 'before', 'scope']);
  const limit = checkEventsLimit(given.limit);
  const before = checkEventCursor(given.before);
  if (given.scope !== undefined && given.scope !== 'pool' && given.scope !== 'route') {
    throw fieldInvalid('scope', "'pool' or 'route'", given.scope);
  }
  const { rows } = await ctx.db.query<EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM audit_events
     WHERE scope IN ('pool', 'route') AND ($1::text IS NULL OR scope = $1) AND ($2::bigint IS NULL OR id < $2::bigint)
     ORDER BY id DESC LIMIT $3`,
    [given.scope ?? null, before ?? null, limit],
  );
  return rows.map(toEvent);
}
