/**
 * The registry's tables as SQL returns them, and their mapping to the public types. Both drivers
 * parse jsonb and timestamptz the same way; int8 differs (text from `pg`, number from PGlite), so
 * every int8 goes through Number().
 */
import type {
  AuditAction,
  AuditEvent,
  AuditScope,
  Model,
  ModelVersion,
  Pool,
  RouteMatch,
  RoutingRule,
  VersionSignature,
} from './registry-types.js';

export const MODEL_COLUMNS =
  'name, tenant, platform, algorithm, description, labels, live_version, previous_version, canary_version, canary_weight, shadow_version, created_at, updated_at';

export interface ModelRow {
  name: string;
  tenant: string;
  platform: string | null;
  algorithm: string | null;
  description: string;
  labels: Record<string, string>;
  live_version: number | null;
  previous_version: number | null;
  canary_version: number | null;
  /** float8: a number from both drivers. */
  canary_weight: number;
  shadow_version: number | null;
  created_at: Date;
  updated_at: Date;
}

export function toModel(row: ModelRow): Model {
  return {
    name: row.name,
    tenant: row.tenant,
    platform: row.platform,
    algorithm: row.algorithm,
    description: row.description,
    labels: row.labels,
    liveVersion: row.live_version,
    previousVersion: row.previous_version,
    canaryVersion: row.canary_version,
    canaryWeight: Number(row.canary_weight),
    shadowVersion: row.shadow_version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export const VERSION_COLUMNS =
  'model, version, artifact_sha256, artifact_size, filename, format, signature, config, created_by, created_at, state, state_reason, state_changed_at';

export interface VersionRow {
  model: string;
  version: number;
  artifact_sha256: string;
  artifact_size: string | number | bigint;
  filename: string;
  format: ModelVersion['format'];
  signature: VersionSignature;
  config: Record<string, unknown> | null;
  created_by: string;
  created_at: Date;
  state: ModelVersion['state'];
  state_reason: string;
  state_changed_at: Date;
}

export function toVersion(row: VersionRow): ModelVersion {
  return {
    model: row.model,
    version: row.version,
    sha256: row.artifact_sha256,
    size: Number(row.artifact_size),
    filename: row.filename,
    format: row.format,
    signature: row.signature,
    config: row.config,
    createdBy: row.created_by,
    createdAt: row.created_at,
    state: row.state,
    stateReason: row.state_reason,
    stateChangedAt: row.state_changed_at,
  };
}

export const EVENT_COLUMNS = 'id, at, actor, scope, model, action, from_value, to_value, detail';

export interface EventRow {
  id: string | number | bigint;
  at: Date;
  actor: string;
  scope: AuditScope;
  model: string;
  action: AuditAction;
  from_value: string | null;
  to_value: string | null;
  detail: Record<string, unknown>;
}

export function toEvent(row: EventRow): AuditEvent {
  return {
    id: Number(row.id),
    at: row.at,
    actor: row.actor,
    scope: row.scope,
    model: row.model,
    action: row.action,
    from: row.from_value,
    to: row.to_value,
    detail: row.detail,
  };
}

export const POOL_COLUMNS = 'name, kind, endpoints, discovery, description, created_at, updated_at';

export interface PoolRow {
  name: string;
  kind: Pool['kind'];
  endpoints: string[];
  discovery: boolean;
  description: string;
  created_at: Date;
  updated_at: Date;
}

export function toPool(row: PoolRow): Pool {
  return {
    name: row.name,
    kind: row.kind,
    endpoints: row.endpoints,
    discovery: row.discovery,
    description: row.description,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export const RULE_COLUMNS = 'id, priority, description, match, pool, created_at, updated_at';

export interface RuleRow {
  id: number;
  priority: number;
  description: string;
  match: RouteMatch;
  pool: string;
  created_at: Date;
  updated_at: Date;
}

export function toRule(row: RuleRow): RoutingRule {
  return {
    id: Number(row.id),
    priority: row.priority,
    description: row.description,
    match: row.match,
    pool: row.pool,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
