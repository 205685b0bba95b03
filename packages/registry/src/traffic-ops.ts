/**
 * Traffic: how a model's requests without a version are split. The live version gets what the canary
 * does not (`canaryWeight`, 0..1); the shadow gets a copy of each request, its answer discarded.
 *
 * A canary or shadow needs a live version, must exist, must not be retired or failed, must differ
 * from the live version, and must match a routing rule, like a version made live. Releases keep the
 * pointers sound (release-ops.ts): deploying the canary promotes it (and clears it), undeploy clears
 * both, retiring one clears it. Serialized per model by the model row lock, audited as 'traffic'.
 */
import { recordChange } from './audit.js';
import type { Queryable } from './db.js';
import { fieldInvalid, nothingLive, trafficVersionInvalid } from './errors.js';
import { lockModel, readModel, readVersion, type OpsContext } from './ops-context.js';
import { assertRouted, readRules } from './route-check.js';
import { MODEL_COLUMNS, toModel, type ModelRow } from './rows.js';
import type { RoutingRule, SetTrafficInput, Traffic } from './registry-types.js';
import { checkModelName, checkObject, checkVersionNumber } from './validate-input.js';
import { checkWeight } from './validate-routing.js';

const FIELDS = ['canaryVersion', 'canaryWeight', 'shadowVersion'] as const;

function toTraffic(row: ModelRow): Traffic {
  const model = toModel(row);
  return {
    model: model.name,
    liveVersion: model.liveVersion,
    canaryVersion: model.canaryVersion,
    canaryWeight: model.canaryWeight,
    shadowVersion: model.shadowVersion,
  };
}

function optionalVersion(value: unknown, field: string): number | null | undefined {
  return value === undefined || value === null ? (value as null | undefined) : checkVersionNumber(value, field);
}

/** Checks a version about to become the canary or shadow (see the file comment). */
async function assertServable(
  tx: Queryable,
  current: ModelRow,
  version: number,
  role: 'canary' | 'shadow',
  rules: () => Promise<RoutingRule[]>,
): Promise<void> {
  if (current.live_version === null) throw nothingLive(current.name, role);
  const row = await readVersion(tx, current.name, version);
  if (row.state === 'retired' || row.state === 'failed') {
    throw trafficVersionInvalid(current.name, version, role, `it is ${row.state}${row.state_reason === '' ? '' : ` (${row.state_reason})`}`);
  }
  if (version === current.live_version) throw trafficVersionInvalid(current.name, version, role, 'it is the live version');
  assertRouted(await rules(), current, row);
}

function summary(t: Traffic): string {
  const canary = t.canaryVersion === null ? 'none' : `${t.canaryVersion} (${t.canaryWeight})`;
  return `canary ${canary}, shadow ${t.shadowVersion ?? 'none'}`;
}

export async function getTraffic(ctx: OpsContext, model: string): Promise<Traffic> {
  return toTraffic(await readModel(ctx.db, checkModelName(model)));
}

/**
 * Sets the fields given; `null` clears a canary (its weight becomes 0) or the shadow. A weight above
 * 0 needs a canary. Setting what is already set changes nothing and writes no event.
 */
export async function setTraffic(ctx: OpsContext, model: string, input: SetTrafficInput, actor?: string): Promise<Traffic> {
  checkModelName(model);
  const given = checkObject(input, '', FIELDS);
  const canaryVersion = optionalVersion(given.canaryVersion, 'canaryVersion');
  const canaryWeight = given.canaryWeight === undefined ? undefined : checkWeight(given.canaryWeight);
  const shadowVersion = optionalVersion(given.shadowVersion, 'shadowVersion');
  const who = ctx.actor(actor);
  return ctx.db.transaction(async (tx) => {
    const current = await lockModel(tx, model);
    const before = toTraffic(current);
    const canary = canaryVersion === undefined ? before.canaryVersion : canaryVersion;
    const shadow = shadowVersion === undefined ? before.shadowVersion : shadowVersion;
    let weight = canaryWeight ?? (canary === null ? 0 : before.canaryWeight);
    if (canary === null && weight > 0) throw fieldInvalid('canaryWeight', '0 while no canary version is set', weight);
    if (canary === null) weight = 0;

    let rules: RoutingRule[] | undefined;
    const readOnce = async () => (rules ??= await readRules(tx, true));
    if (canary !== null && canary !== before.canaryVersion) await assertServable(tx, current, canary, 'canary', readOnce);
    if (shadow !== null && shadow !== before.shadowVersion) await assertServable(tx, current, shadow, 'shadow', readOnce);

    const after: Traffic = { ...before, canaryVersion: canary, canaryWeight: weight, shadowVersion: shadow };
    if (canary === before.canaryVersion && weight === before.canaryWeight && shadow === before.shadowVersion) return before;
    const { rows } = await tx.query<ModelRow>(
      `UPDATE models SET canary_version = $2, canary_weight = $3, shadow_version = $4, updated_at = now()
       WHERE name = $1 RETURNING ${MODEL_COLUMNS}`,
      [model, canary, weight, shadow],
    );
    await recordChange(tx, {
      actor: who,
      model,
      action: 'traffic',
      from: summary(before),
      to: summary(after),
      detail: {
        liveVersion: before.liveVersion,
        canaryVersion: { from: before.canaryVersion, to: canary },
        canaryWeight: { from: before.canaryWeight, to: weight },
        shadowVersion: { from: before.shadowVersion, to: shadow },
      },
    });
    return toTraffic(rows[0]!);
  });
}
