/**
 * The model registry: the source of truth for what ML engineers register (DESIGN.md §4).
 *
 * Every mutating call runs in one transaction that also writes its audit event and a NOTIFY on
 * `sibyl_registry`, so a change, its history and its announcement commit together or not at all.
 * Serving processes `subscribe` and re-read what changed. Calls that would change nothing (deploying
 * the live version, an update to the same values, retiring a retired version) return the current
 * state and write no event.
 *
 * The registry does not migrate: run `migrate(db)` first, or use `openRegistry`, which does both.
 */
import { parseChange, REGISTRY_CHANNEL } from './audit.js';
import type { Db } from './db.js';
import { createModel, deleteModel, getModel, listModels, updateModel } from './model-ops.js';
import { createOpsContext } from './ops-context.js';
import { createPool, deletePool, getPool, listPools, updatePool } from './pool-ops.js';
import { configEvents, deploy, events, rollback, undeploy } from './release-ops.js';
import { createRule, deleteRule, getRule, listRules, updateRule } from './rule-ops.js';
import { getTraffic, setTraffic } from './traffic-ops.js';
import type {
  AuditEvent,
  ConfigEventsOptions,
  CreateModelInput,
  CreatePoolInput,
  CreateRuleInput,
  EventsOptions,
  ListModelsOptions,
  Model,
  ModelVersion,
  Pool,
  RegisterVersionInput,
  RegistryChange,
  RegistryResync,
  RoutingRule,
  SetTrafficInput,
  Traffic,
  UpdateModelInput,
  UpdatePoolInput,
  UpdateRuleInput,
  VersionState,
} from './registry-types.js';
import {
  findVersionBySha,
  getVersion,
  listVersions,
  registerVersion,
  retireVersion,
  setVersionState,
} from './version-ops.js';

export interface RegistryOptions {
  /** Actor recorded for calls that name none. Default 'system'. */
  actor?: string;
}

/** `actor` arguments name who made a change, for the audit log; default: the registry's actor. */
export interface Registry {
  /** CONFLICT when the name is taken. */
  createModel(input: CreateModelInput, actor?: string): Promise<Model>;
  /** Ordered by name. */
  listModels(options?: ListModelsOptions): Promise<Model[]>;
  getModel(name: string): Promise<Model>;
  /** Sets the fields given; `labels` replaces the whole map. */
  updateModel(name: string, patch: UpdateModelInput, actor?: string): Promise<Model>;
  /** Deletes the model and its versions, keeps its audit events; CONFLICT while a version is live. */
  deleteModel(name: string, actor?: string): Promise<void>;

  /** Records an uploaded artifact as the model's next version (or `input.version`), state `registered`. */
  registerVersion(input: RegisterVersionInput): Promise<ModelVersion>;
  /** Every version, retired ones included, oldest first. */
  listVersions(model: string): Promise<ModelVersion[]>;
  getVersion(model: string, version: number): Promise<ModelVersion>;
  /** Newest version with this artifact, any state; undefined when none (or no such model). */
  findVersionBySha(model: string, sha256: string): Promise<ModelVersion | undefined>;
  /** Records what serving found; `failed` needs a reason; a retired version never changes again. */
  setVersionState(model: string, version: number, state: VersionState, reason?: string, actor?: string): Promise<ModelVersion>;
  /** Final; CONFLICT while live. Clears the model's previous version when it is this one. */
  retireVersion(model: string, version: number, actor?: string): Promise<ModelVersion>;

  /**
   * Makes `version` live; the old live version becomes the previous one. CONFLICT for retired or
   * failed, and for a version no routing rule matches. Deploying the canary promotes it: the canary
   * is cleared (so is the shadow when it is that version).
   */
  deploy(model: string, version: number, actor?: string): Promise<Model>;
  /** Swaps live and previous; CONFLICT when there is no previous version, or no rule matches it. */
  rollback(model: string, actor?: string): Promise<Model>;
  /** Nothing live any more; the old live version becomes the previous one; canary and shadow are cleared. */
  undeploy(model: string, actor?: string): Promise<Model>;

  /** Exactly one of `endpoints` (non-empty) or `discovery`; CONFLICT when the name is taken. */
  createPool(input: CreatePoolInput, actor?: string): Promise<Pool>;
  /** Ordered by name. */
  listPools(): Promise<Pool[]>;
  getPool(name: string): Promise<Pool>;
  /** Sets the fields given; discovery on empties the endpoints, endpoints given turn discovery off. */
  updatePool(name: string, patch: UpdatePoolInput, actor?: string): Promise<Pool>;
  /** CONFLICT while a routing rule names the pool. */
  deletePool(name: string, actor?: string): Promise<void>;

  /** NOT_FOUND when the pool does not exist. */
  createRule(input: CreateRuleInput, actor?: string): Promise<RoutingRule>;
  /** In the order they are tried: priority, then id. */
  listRules(): Promise<RoutingRule[]>;
  getRule(id: number): Promise<RoutingRule>;
  /** Sets the fields given (`match` as a whole); CONFLICT when a served version would match no rule. */
  updateRule(id: number, patch: UpdateRuleInput, actor?: string): Promise<RoutingRule>;
  /** CONFLICT when a live, canary or shadow version would match no rule. */
  deleteRule(id: number, actor?: string): Promise<void>;

  getTraffic(model: string): Promise<Traffic>;
  /** Sets the canary (and its weight) and the shadow; `null` clears. See traffic-ops.ts for the checks. */
  setTraffic(model: string, input: SetTrafficInput, actor?: string): Promise<Traffic>;

  /** The model's audit log, newest first; outlives the model. */
  events(model: string, options?: EventsOptions): Promise<AuditEvent[]>;
  /** The audit log of pools and routing rules, newest first (`model` holds the pool name or rule id). */
  configEvents(options?: ConfigEventsOptions): Promise<AuditEvent[]>;
  /**
   * Calls `handler` after every committed change, in any process using the same database, and with
   * `{ kind: 'resync' }` when changes may have been missed. Resolves once listening, to an
   * unsubscribe function. Handlers must not throw (errors are reported as process warnings).
   */
  subscribe(handler: (change: RegistryChange | RegistryResync) => void): Promise<() => Promise<void>>;
}

export function createRegistry(db: Db, options: RegistryOptions = {}): Registry {
  const ctx = createOpsContext(db, options.actor ?? 'system');
  return {
    createModel: (input, actor) => createModel(ctx, input, actor),
    listModels: (opts) => listModels(ctx, opts),
    getModel: (name) => getModel(ctx, name),
    updateModel: (name, patch, actor) => updateModel(ctx, name, patch, actor),
    deleteModel: (name, actor) => deleteModel(ctx, name, actor),
    registerVersion: (input) => registerVersion(ctx, input),
    listVersions: (model) => listVersions(ctx, model),
    getVersion: (model, version) => getVersion(ctx, model, version),
    findVersionBySha: (model, sha256) => findVersionBySha(ctx, model, sha256),
    setVersionState: (model, version, state, reason, actor) => setVersionState(ctx, model, version, state, reason, actor),
    retireVersion: (model, version, actor) => retireVersion(ctx, model, version, actor),
    deploy: (model, version, actor) => deploy(ctx, model, version, actor),
    rollback: (model, actor) => rollback(ctx, model, actor),
    undeploy: (model, actor) => undeploy(ctx, model, actor),
    createPool: (input, actor) => createPool(ctx, input, actor),
    listPools: () => listPools(ctx),
    getPool: (name) => getPool(ctx, name),
    updatePool: (name, patch, actor) => updatePool(ctx, name, patch, actor),
    deletePool: (name, actor) => deletePool(ctx, name, actor),
    createRule: (input, actor) => createRule(ctx, input, actor),
    listRules: () => listRules(ctx),
    getRule: (id) => getRule(ctx, id),
    updateRule: (id, patch, actor) => updateRule(ctx, id, patch, actor),
    deleteRule: (id, actor) => deleteRule(ctx, id, actor),
    getTraffic: (model) => getTraffic(ctx, model),
    setTraffic: (model, input, actor) => setTraffic(ctx, model, input, actor),
    events: (model, opts) => events(ctx, model, opts),
    configEvents: (opts) => configEvents(ctx, opts),
    subscribe: (handler) =>
      db.listen(
        REGISTRY_CHANNEL,
        (payload) => {
          const change = parseChange(payload);
          if (change !== undefined) handler(change);
        },
        { onReconnect: () => handler({ kind: 'resync' }) },
      ),
  };
}
