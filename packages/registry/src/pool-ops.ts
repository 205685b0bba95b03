/**
 * Backend pools: create, read, update (endpoints, discovery, description), delete.
 *
 * A pool's instances come from exactly one source: fixed endpoints, or discovery (the live instances
 * registered in coordination under the pool's name). Its kind never changes: rules were written for
 * it. A pool that routing rules name cannot be deleted (the foreign key says so too). Every change is
 * audited with scope 'pool' and announced with the pool's name in the `model` field.
 */
import { recordChange } from './audit.js';
import type { Queryable } from './db.js';
import { poolExists, poolInUse, poolNotFound, poolSourceInvalid } from './errors.js';
import type { OpsContext } from './ops-context.js';
import { POOL_COLUMNS, toPool, type PoolRow } from './rows.js';
import type { CreatePoolInput, Pool, UpdatePoolInput } from './registry-types.js';
import { checkDescription, checkObject } from './validate-input.js';
import { checkBoolean, checkEndpoints, checkPoolKind, checkPoolName } from './validate-routing.js';

const CREATE_FIELDS = ['name', 'kind', 'endpoints', 'discovery', 'description'] as const;
const UPDATE_FIELDS = ['endpoints', 'discovery', 'description'] as const;

function assertOneSource(name: string, endpoints: readonly string[], discovery: boolean): void {
  if (discovery === endpoints.length > 0) throw poolSourceInvalid(name, endpoints.length, discovery);
}

async function lockPool(tx: Queryable, name: string): Promise<PoolRow> {
  const { rows } = await tx.query<PoolRow>(`SELECT ${POOL_COLUMNS} FROM pools WHERE name = $1 FOR UPDATE`, [name]);
  if (rows[0] === undefined) throw poolNotFound(name);
  return rows[0];
}

export async function createPool(ctx: OpsContext, input: CreatePoolInput, actor?: string): Promise<Pool> {
  const given = checkObject(input, '', CREATE_FIELDS);
  const who = ctx.actor(actor);
  const pool = {
    name: checkPoolName(given.name),
    kind: checkPoolKind(given.kind),
    endpoints: given.endpoints === undefined ? [] : checkEndpoints(given.endpoints),
    discovery: given.discovery === undefined ? false : checkBoolean(given.discovery, 'discovery'),
    description: given.description === undefined ? '' : checkDescription(given.description),
  };
  assertOneSource(pool.name, pool.endpoints, pool.discovery);
  return ctx.db.transaction(async (tx) => {
    const { rows } = await tx.query<PoolRow>(
      `INSERT INTO pools (name, kind, endpoints, discovery, description)
       VALUES ($1, $2, $3::text::jsonb, $4, $5)
       ON CONFLICT (name) DO NOTHING
       RETURNING ${POOL_COLUMNS}`,
      [pool.name, pool.kind, JSON.stringify(pool.endpoints), pool.discovery, pool.description],
    );
    if (rows[0] === undefined) throw poolExists(pool.name);
    const { name, ...detail } = pool;
    await recordChange(tx, { actor: who, scope: 'pool', model: name, action: 'pool.create', detail });
    return toPool(rows[0]);
  });
}

/** Ordered by name. */
export async function listPools(ctx: OpsContext): Promise<Pool[]> {
  const { rows } = await ctx.db.query<PoolRow>(`SELECT ${POOL_COLUMNS} FROM pools ORDER BY name`);
  return rows.map(toPool);
}

export async function getPool(ctx: OpsContext, name: string): Promise<Pool> {
  checkPoolName(name);
  const { rows } = await ctx.db.query<PoolRow>(`SELECT ${POOL_COLUMNS} FROM pools WHERE name = $1`, [name]);
  if (rows[0] === undefined) throw poolNotFound(name);
  return toPool(rows[0]);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => b[i] === x);
}

/**
 * Sets the fields given. Turning discovery on without naming endpoints empties them; giving
 * endpoints without naming discovery turns it off: the pool switches source in one call.
 */
export async function updatePool(ctx: OpsContext, name: string, patch: UpdatePoolInput, actor?: string): Promise<Pool> {
  checkPoolName(name);
  const given = checkObject(patch, '', UPDATE_FIELDS);
  const endpoints = given.endpoints === undefined ? undefined : checkEndpoints(given.endpoints);
  const discovery = given.discovery === undefined ? undefined : checkBoolean(given.discovery, 'discovery');
  const description = given.description === undefined ? undefined : checkDescription(given.description);
  const who = ctx.actor(actor);
  return ctx.db.transaction(async (tx) => {
    const current = await lockPool(tx, name);
    const next = {
      endpoints: endpoints ?? (discovery === true ? [] : current.endpoints),
      discovery: discovery ?? (endpoints !== undefined && endpoints.length > 0 ? false : current.discovery),
      description: description ?? current.description,
    };
    assertOneSource(name, next.endpoints, next.discovery);
    const detail: Record<string, { from: unknown; to: unknown }> = {};
    if (!sameList(next.endpoints, current.endpoints)) detail.endpoints = { from: current.endpoints, to: next.endpoints };
    if (next.discovery !== current.discovery) detail.discovery = { from: current.discovery, to: next.discovery };
    if (next.description !== current.description) detail.description = { from: current.description, to: next.description };
    if (Object.keys(detail).length === 0) return toPool(current);
    const { rows } = await tx.query<PoolRow>(
      `UPDATE pools SET endpoints = $2::text::jsonb, discovery = $3, description = $4, updated_at = now()
       WHERE name = $1 RETURNING ${POOL_COLUMNS}`,
      [name, JSON.stringify(next.endpoints), next.discovery, next.description],
    );
    await recordChange(tx, { actor: who, scope: 'pool', model: name, action: 'pool.update', detail });
    return toPool(rows[0]!);
  });
}

/** CONFLICT (SIBYL_REGISTRY_POOL_IN_USE) while a routing rule names the pool. */
export async function deletePool(ctx: OpsContext, name: string, actor?: string): Promise<void> {
  checkPoolName(name);
  const who = ctx.actor(actor);
  await ctx.db.transaction(async (tx) => {
    const current = await lockPool(tx, name);
    // FOR SHARE: a rule being changed to name this pool meanwhile is waited for, then seen.
    const { rows } = await tx.query<{ id: number }>('SELECT id FROM routing_rules WHERE pool = $1 ORDER BY id FOR SHARE', [name]);
    if (rows.length > 0) throw poolInUse(name, rows.map((r) => Number(r.id)));
    await tx.query('DELETE FROM pools WHERE name = $1', [name]);
    await recordChange(tx, {
      actor: who,
      scope: 'pool',
      model: name,
      action: 'pool.delete',
      detail: { kind: current.kind, endpoints: current.endpoints, discovery: current.discovery },
    });
  });
}
