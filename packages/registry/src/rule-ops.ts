/**
 * Routing rules: create, list (in the order they are tried), read, update, delete.
 *
 * A rule names an existing pool. Changing or deleting a rule is refused when the rules it would leave
 * route no rule to a live, canary or shadow version (route-check.ts): serving never loses its route
 * through a rule change. Every change is audited with scope 'route' and announced with the rule's id
 * (as text) in the `model` field.
 */
import { recordChange } from './audit.js';
import type { Queryable } from './db.js';
import { poolNotFound, ruleInUse, ruleNotFound } from './errors.js';
import type { OpsContext } from './ops-context.js';
import { lockRulesForChange, readRules, servedVersions } from './route-check.js';
import { RULE_COLUMNS, toRule, type RuleRow } from './rows.js';
import type { CreateRuleInput, RouteMatch, RoutingRule, UpdateRuleInput } from './registry-types.js';
import { matchRule } from './rule-match.js';
import { checkDescription, checkObject } from './validate-input.js';
import { checkMatch, checkPoolName, checkPriority, checkRuleId } from './validate-routing.js';

const FIELDS = ['priority', 'pool', 'match', 'description'] as const;

/** NOT_FOUND unless the pool exists; holds it (FOR KEY SHARE) so it cannot be deleted before commit. */
async function holdPool(tx: Queryable, pool: string): Promise<void> {
  const { rows } = await tx.query('SELECT name FROM pools WHERE name = $1 FOR KEY SHARE', [pool]);
  if (rows.length === 0) throw poolNotFound(pool);
}

/**
 * Refuses `next` (the whole rule set after a change of rule `id`) when it routes no rule to a version
 * that is served, naming the first such version.
 */
async function assertStillRouted(tx: Queryable, id: number, change: 'update' | 'delete', next: readonly RoutingRule[]): Promise<void> {
  for (const served of await servedVersions(tx)) {
    if (matchRule(next, served.facts) === undefined) throw ruleInUse(id, change, served.facts, served.role);
  }
}

function sameMatch(a: RouteMatch, b: RouteMatch): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(match: RouteMatch): unknown {
  const labels = match.labels === undefined ? undefined : Object.fromEntries(Object.entries(match.labels).sort(([a], [b]) => (a < b ? -1 : 1)));
  return [match.name, match.platform, match.algorithm, match.tenant, labels];
}

export async function createRule(ctx: OpsContext, input: CreateRuleInput, actor?: string): Promise<RoutingRule> {
  const given = checkObject(input, '', FIELDS);
  const who = ctx.actor(actor);
  const rule = {
    priority: checkPriority(given.priority),
    pool: checkPoolName(given.pool),
    match: given.match === undefined ? {} : checkMatch(given.match),
    description: given.description === undefined ? '' : checkDescription(given.description),
  };
  return ctx.db.transaction(async (tx) => {
    await lockRulesForChange(tx);
    await holdPool(tx, rule.pool);
    const { rows } = await tx.query<RuleRow>(
      `INSERT INTO routing_rules (priority, pool, match, description) VALUES ($1, $2, $3::text::jsonb, $4)
       RETURNING ${RULE_COLUMNS}`,
      [rule.priority, rule.pool, JSON.stringify(rule.match), rule.description],
    );
    const created = toRule(rows[0]!);
    await recordChange(tx, { actor: who, scope: 'route', model: created.id, action: 'route.create', to: created.pool, detail: rule });
    return created;
  });
}

/** In the order they are tried: priority, then id. */
export async function listRules(ctx: OpsContext): Promise<RoutingRule[]> {
  return readRules(ctx.db, false);
}

export async function getRule(ctx: OpsContext, id: number): Promise<RoutingRule> {
  checkRuleId(id);
  const { rows } = await ctx.db.query<RuleRow>(`SELECT ${RULE_COLUMNS} FROM routing_rules WHERE id = $1`, [id]);
  if (rows[0] === undefined) throw ruleNotFound(id);
  return toRule(rows[0]);
}

/** Sets the fields given; `match` replaces the whole match. */
export async function updateRule(ctx: OpsContext, id: number, patch: UpdateRuleInput, actor?: string): Promise<RoutingRule> {
  checkRuleId(id);
  const given = checkObject(patch, '', FIELDS);
  const priority = given.priority === undefined ? undefined : checkPriority(given.priority);
  const pool = given.pool === undefined ? undefined : checkPoolName(given.pool);
  const match = given.match === undefined ? undefined : checkMatch(given.match);
  const description = given.description === undefined ? undefined : checkDescription(given.description);
  const who = ctx.actor(actor);
  return ctx.db.transaction(async (tx) => {
    await lockRulesForChange(tx);
    const rules = await readRules(tx, false);
    const current = rules.find((r) => r.id === id);
    if (current === undefined) throw ruleNotFound(id);
    const next: RoutingRule = {
      ...current,
      priority: priority ?? current.priority,
      pool: pool ?? current.pool,
      match: match ?? current.match,
      description: description ?? current.description,
    };
    const detail: Record<string, { from: unknown; to: unknown }> = {};
    if (next.priority !== current.priority) detail.priority = { from: current.priority, to: next.priority };
    if (next.pool !== current.pool) detail.pool = { from: current.pool, to: next.pool };
    if (!sameMatch(next.match, current.match)) detail.match = { from: current.match, to: next.match };
    if (next.description !== current.description) detail.description = { from: current.description, to: next.description };
    if (Object.keys(detail).length === 0) return current;
    if (next.pool !== current.pool) await holdPool(tx, next.pool);
    // Only a change of what matches, or of the order, can leave a served version without a rule.
    if (detail.match !== undefined || detail.priority !== undefined) {
      await assertStillRouted(tx, id, 'update', rules.map((r) => (r.id === id ? next : r)));
    }
    const { rows } = await tx.query<RuleRow>(
      `UPDATE routing_rules SET priority = $2, pool = $3, match = $4::text::jsonb, description = $5, updated_at = now()
       WHERE id = $1 RETURNING ${RULE_COLUMNS}`,
      [id, next.priority, next.pool, JSON.stringify(next.match), next.description],
    );
    await recordChange(tx, { actor: who, scope: 'route', model: id, action: 'route.update', from: current.pool, to: next.pool, detail });
    return toRule(rows[0]!);
  });
}

export async function deleteRule(ctx: OpsContext, id: number, actor?: string): Promise<void> {
  checkRuleId(id);
  const who = ctx.actor(actor);
  await ctx.db.transaction(async (tx) => {
    await lockRulesForChange(tx);
    const rules = await readRules(tx, false);
    const current = rules.find((r) => r.id === id);
    if (current === undefined) throw ruleNotFound(id);
    await assertStillRouted(tx, id, 'delete', rules.filter((r) => r.id !== id));
    await tx.query('DELETE FROM routing_rules WHERE id = $1', [id]);
    await recordChange(tx, {
      actor: who,
      scope: 'route',
      model: id,
      action: 'route.delete',
      from: current.pool,
      detail: { priority: current.priority, pool: current.pool, match: current.match, description: current.description },
    });
  });
}
