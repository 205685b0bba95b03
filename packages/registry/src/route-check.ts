/**
 * The registry's routing invariant: every live, canary and shadow version matches a routing rule, so
 * the router always has a pool for what is served. Releases and traffic changes check the version
 * they point at; rule changes check every pointed-at version against the rules they would leave.
 *
 * Lock discipline (with ops-context.ts): a transaction that checks a version reads the rules
 * `FOR SHARE`; one that changes rules first takes `EXCLUSIVE` on routing_rules, which waits for those
 * readers and makes new ones wait. A release and a rule change therefore never both pass their check
 * against a rule set the other is changing.
 */
import type { Queryable } from './db.js';
import { noRoute } from './errors.js';
import {
  MODEL_COLUMNS,
  RULE_COLUMNS,
  VERSION_COLUMNS,
  toModel,
  toRule,
  toVersion,
  type ModelRow,
  type RuleRow,
  type VersionRow,
} from './rows.js';
import type { RoutingRule, VersionFacts } from './registry-types.js';
import { matchRule, versionFacts } from './rule-match.js';

/** The rules in the order they are tried; `share` locks them against rule changes until commit. */
export async function readRules(q: Queryable, share: boolean): Promise<RoutingRule[]> {
  const { rows } = await q.query<RuleRow>(
    `SELECT ${RULE_COLUMNS} FROM routing_rules ORDER BY priority, id${share ? ' FOR SHARE' : ''}`,
  );
  return rows.map(toRule);
}

/** Makes rule changes wait for (and block) every transaction that checks a version against the rules. */
export async function lockRulesForChange(tx: Queryable): Promise<void> {
  await tx.query('LOCK TABLE routing_rules IN EXCLUSIVE MODE');
}

/** CONFLICT (SIBYL_REGISTRY_NO_ROUTE) naming the version's metadata when no rule matches it. */
export function assertRouted(rules: readonly RoutingRule[], model: ModelRow, version: VersionRow): VersionFacts {
  const facts = versionFacts(toModel(model), toVersion(version));
  if (matchRule(rules, facts) === undefined) throw noRoute(facts);
  return facts;
}

export type ServingRole = 'live' | 'canary' | 'shadow';

export interface ServedVersion {
  role: ServingRole;
  facts: VersionFacts;
}

/** Every version some model serves as live, canary or shadow, with its routing facts. */
export async function servedVersions(q: Queryable): Promise<ServedVersion[]> {
  const models = await q.query<ModelRow>(
    `SELECT ${MODEL_COLUMNS} FROM models
     WHERE live_version IS NOT NULL OR canary_version IS NOT NULL OR shadow_version IS NOT NULL
     ORDER BY name`,
  );
  if (models.rows.length === 0) return [];
  const versions = await q.query<VersionRow>(
    `SELECT ${VERSION_COLUMNS.split(', ').map((c) => `v.${c}`).join(', ')}
     FROM model_versions v JOIN models m ON m.name = v.model
     WHERE v.version = m.live_version OR v.version = m.canary_version OR v.version = m.shadow_version`,
  );
  const byKey = new Map(versions.rows.map((v) => [`${v.model}/${v.version}`, v]));
  const out: ServedVersion[] = [];
  for (const row of models.rows) {
    const model = toModel(row);
    const roles: Array<[ServingRole, number | null]> = [
      ['live', model.liveVersion],
      ['canary', model.canaryVersion],
      ['shadow', model.shadowVersion],
    ];
    for (const [role, number] of roles) {
      const version = number === null ? undefined : byKey.get(`${model.name}/${number}`);
      if (version !== undefined) out.push({ role, facts: versionFacts(model, toVersion(version)) });
    }
  }
  return out;
}
