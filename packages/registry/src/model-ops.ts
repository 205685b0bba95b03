/**
 * Models: create, read, update (description, labels), delete.
 *
 * Deleting a model deletes its version rows with it (they mean nothing without the model) and keeps
 * its audit events, which have no foreign key: the history of a deleted model stays readable through
 * `events(name)`. A model with a live version cannot be deleted; undeploy it first. Artifact bytes
 * are not the registry's: the artifact store may collect files no version points at.
 */
import { recordChange } from './audit.js';
import { modelExists, modelHasLiveVersion } from './errors.js';
import { lockModel, readModel, type OpsContext } from './ops-context.js';
import { MODEL_COLUMNS, toModel, type ModelRow } from './rows.js';
import type { CreateModelInput, ListModelsOptions, Model, UpdateModelInput } from './registry-types.js';
import {
  checkDescription,
  checkLabels,
  checkModelName,
  checkObject,
  checkOptionalText,
  checkTenant,
} from './validate-input.js';

const CREATE_FIELDS = ['name', 'tenant', 'platform', 'algorithm', 'description', 'labels'] as const;
const UPDATE_FIELDS = ['description', 'labels'] as const;

export async function createModel(ctx: OpsContext, input: CreateModelInput, actor?: string): Promise<Model> {
  const given = checkObject(input, '', CREATE_FIELDS);
  const who = ctx.actor(actor);
  const model = {
    name: checkModelName(given.name),
    tenant: given.tenant === undefined ? 'default' : checkTenant(given.tenant),
    platform: checkOptionalText(given.platform, 'platform'),
    algorithm: checkOptionalText(given.algorithm, 'algorithm'),
    description: given.description === undefined ? '' : checkDescription(given.description),
    labels: given.labels === undefined ? {} : checkLabels(given.labels),
  };
  return ctx.db.transaction(async (tx) => {
    const { rows } = await tx.query<ModelRow>(
      `INSERT INTO models (name, tenant, platform, algorithm, description, labels)
       VALUES ($1, $2, $3, $4, $5, $6::text::jsonb)
       ON CONFLICT (name) DO NOTHING
       RETURNING ${MODEL_COLUMNS}`,
      [model.name, model.tenant, model.platform, model.algorithm, model.description, JSON.stringify(model.labels)],
    );
    const row = rows[0];
    if (row === undefined) throw modelExists(model.name);
    const { name, ...detail } = model;
    await recordChange(tx, { actor: who, model: name, action: 'model.create', detail });
    return toModel(row);
  });
}

export async function listModels(ctx: OpsContext, options: ListModelsOptions = {}): Promise<Model[]> {
  const given = checkObject(options, '', ['tenant']);
  const tenant = given.tenant === undefined ? null : checkTenant(given.tenant);
  const { rows } = await ctx.db.query<ModelRow>(
    `SELECT ${MODEL_COLUMNS} FROM models WHERE ($1::text IS NULL OR tenant = $1) ORDER BY name`,
    [tenant],
  );
  return rows.map(toModel);
}

export async function getModel(ctx: OpsContext, name: string): Promise<Model> {
  return toModel(await readModel(ctx.db, checkModelName(name)));
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => b[k] === a[k]);
}

export async function updateModel(ctx: OpsContext, name: string, patch: UpdateModelInput, actor?: string): Promise<Model> {
  checkModelName(name);
  const given = checkObject(patch, '', UPDATE_FIELDS);
  const description = given.description === undefined ? undefined : checkDescription(given.description);
  const labels = given.labels === undefined ? undefined : checkLabels(given.labels);
  const who = ctx.actor(actor);
  return ctx.db.transaction(async (tx) => {
    const current = await lockModel(tx, name);
    const detail: Record<string, { from: unknown; to: unknown }> = {};
    if (description !== undefined && description !== current.description) {
      detail.description = { from: current.description, to: description };
    }
    if (labels !== undefined && !sameLabels(labels, current.labels)) detail.labels = { from: current.labels, to: labels };
    // Nothing changes: nothing to audit or announce.
    if (Object.keys(detail).length === 0) return toModel(current);
    const { rows } = await tx.query<ModelRow>(
      `UPDATE models SET description = $2, labels = $3::text::jsonb, updated_at = now()
       WHERE name = $1 RETURNING ${MODEL_COLUMNS}`,
      [name, description ?? current.description, JSON.stringify(labels ?? current.labels)],
    );
    await recordChange(tx, { actor: who, model: name, action: 'model.update', detail });
    return toModel(rows[0]!);
  });
}

export async function deleteModel(ctx: OpsContext, name: string, actor?: string): Promise<void> {
  checkModelName(name);
  const who = ctx.actor(actor);
  await ctx.db.transaction(async (tx) => {
    const current = await lockModel(tx, name);
    if (current.live_version !== null) throw modelHasLiveVersion(name, current.live_version);
    const { rows } = await tx.query<{ versions: number }>(
      'SELECT count(*)::int AS versions FROM model_versions WHERE model = $1',
      [name],
    );
    await tx.query('DELETE FROM models WHERE name = $1', [name]);
    await recordChange(tx, {
      actor: who,
      model: name,
      action: 'model.delete',
      detail: { versions: rows[0]?.versions ?? 0, tenant: current.tenant },
    });
  });
}
