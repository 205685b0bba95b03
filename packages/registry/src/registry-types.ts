/**
 * What the registry holds, as its callers see it. Rows are mapped to these in rows.ts.
 */
import type { TensorMetadata } from '@sibyl/protocol';

/** Where a version is in its life. `retired` is final. */
export const VERSION_STATES = ['registered', 'loading', 'ready', 'failed', 'retired'] as const;
export type VersionState = (typeof VERSION_STATES)[number];

/** How a version's artifact is packaged: one model file, or a directory as a .tar.gz. */
export const ARTIFACT_FORMATS = ['onnx-file', 'tar.gz'] as const;
export type ArtifactFormat = (typeof ARTIFACT_FORMATS)[number];

export interface Model {
  name: string;
  tenant: string;
  /** Triton platform string (`onnxruntime_onnx`, ...); null until someone says. */
  platform: string | null;
  algorithm: string | null;
  description: string;
  labels: Record<string, string>;
  /** The version requests without a version reach; null when none is deployed. */
  liveVersion: number | null;
  /** The version live before `liveVersion`: where `rollback` goes. */
  previousVersion: number | null;
  /** A version that gets `canaryWeight` of requests without a version; null: none. */
  canaryVersion: number | null;
  /** 0..1; 0 whenever `canaryVersion` is null. */
  canaryWeight: number;
  /** A version that gets a copy of each request without a version; null: none. */
  shadowVersion: number | null;
  createdAt: Date;
  updatedAt: Date;
}

/** What a version serves, derived from its file (and config) when it was uploaded. */
export interface VersionSignature {
  platform: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
  /** Triton's max_batch_size; 0 (or absent) when the model does not batch. */
  maxBatchSize?: number;
}

/** One immutable upload of a model; only `state`, `stateReason` and `stateChangedAt` ever change. */
export interface ModelVersion {
  model: string;
  version: number;
  sha256: string;
  /** Bytes of the artifact as stored. */
  size: number;
  filename: string;
  format: ArtifactFormat;
  signature: VersionSignature;
  /** The model config given with the upload (Triton config.json form), if any. */
  config: Record<string, unknown> | null;
  createdBy: string;
  createdAt: Date;
  state: VersionState;
  /** Why the version is in its state (the load error for `failed`); empty when nothing to say. */
  stateReason: string;
  stateChangedAt: Date;
}

export const AUDIT_ACTIONS = [
  'model.create',
  'model.update',
  'model.delete',
  'version.register',
  'version.state',
  'version.retire',
  'deploy',
  'undeploy',
  'rollback',
  'pool.create',
  'pool.update',
  'pool.delete',
  'route.create',
  'route.update',
  'route.delete',
  'traffic',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/**
 * What an audit event is about: a model (its `model` is the model name), a backend pool (the pool
 * name) or a routing rule (the rule id, as text).
 */
export const AUDIT_SCOPES = ['model', 'pool', 'route'] as const;
export type AuditScope = (typeof AUDIT_SCOPES)[number];

/** One entry of the append-only audit log. */
export interface AuditEvent {
  /** Increasing; the cursor for `events(model, { before })`. */
  id: number;
  at: Date;
  actor: string;
  scope: AuditScope;
  /** The model name; for scope 'pool' the pool name, for 'route' the rule id as text. */
  model: string;
  action: AuditAction;
  /** What changed, before and after: a version number or a state, as text; null when not applicable. */
  from: string | null;
  to: string | null;
  detail: Record<string, unknown>;
}

export interface CreateModelInput {
  name: string;
  /** Default 'default'. */
  tenant?: string;
  platform?: string | null;
  algorithm?: string | null;
  /** Default ''. */
  description?: string;
  /** Default {}. */
  labels?: Record<string, string>;
}

/** Fields of a model that may change; labels are replaced as a whole. */
export interface UpdateModelInput {
  description?: string;
  labels?: Record<string, string>;
}

export interface ListModelsOptions {
  /** Only this tenant's models. */
  tenant?: string;
}

export interface RegisterVersionInput {
  model: string;
  sha256: string;
  size: number;
  filename: string;
  format: ArtifactFormat;
  signature: VersionSignature;
  config?: Record<string, unknown> | null;
  /** Who uploaded it; also the audit actor. Default: the registry's actor. */
  createdBy?: string;
  /**
   * An explicit version number (a Triton repository directory name on import). Default: one more
   * than the highest version the model has. A number already taken is a CONFLICT.
   */
  version?: number;
}

export interface EventsOptions {
  /** Most events returned, newest first. Default 100, at most 1000. */
  limit?: number;
  /** Only events with an id below this one: pass the last id of a page to get the next. */
  before?: number;
}

export interface ConfigEventsOptions extends EventsOptions {
  /** Only pool events or only routing-rule events. Default: both. */
  scope?: 'pool' | 'route';
}

/** What a NOTIFY on the registry channel says: which model changed and how. */
export interface RegistryChange {
  kind: AuditAction;
  /** The model name; for `pool.*` kinds the pool name, for `route.*` kinds the rule id as text. */
  model: string;
  /** The audit event written by the same transaction. */
  eventId: number;
}

/**
 * Delivered to subscribers after the notification connection was lost and re-established: changes
 * may have been missed, so refresh everything cached from the registry.
 */
export interface RegistryResync {
  kind: 'resync';
}

// ---- routing: backend pools, routing rules, traffic ------------------------------------------------

/** Kinds of backend pools (the same list as coordination's InstanceKind). */
export const POOL_KINDS = ['sibyl-onnx', 'sibyl-tf', 'triton', 'torchserve', 'pipeline'] as const;
export type PoolKind = (typeof POOL_KINDS)[number];

/** A set of interchangeable backend instances a routing rule can name. */
export interface Pool {
  /** Same rule as model names. */
  name: string;
  kind: PoolKind;
  /** Fixed endpoints (`http://host:port` or `grpc://host:port`); empty when `discovery` is on. */
  endpoints: string[];
  /** Instances are the live ones registered in coordination (Redis) under this pool name. */
  discovery: boolean;
  description: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface CreatePoolInput {
  name: string;
  kind: PoolKind;
  /** Default []. Exactly one of endpoints (non-empty) or discovery (true) must be given. */
  endpoints?: string[];
  /** Default false. */
  discovery?: boolean;
  description?: string;
}

export type UpdatePoolInput = Partial<Pick<CreatePoolInput, 'endpoints' | 'discovery' | 'description'>>;

/**
 * What a routing rule matches on a model version's metadata. Every field given must match (AND);
 * an empty match matches everything. Strings are globs (`*` any run, `?` one character), compared
 * case-sensitively; `labels` requires each key to be present with a value matching the glob.
 */
export interface RouteMatch {
  /** The version's platform, e.g. `onnxruntime_onnx`, `tensorflowjs_graph`. */
  platform?: string;
  /** The model's algorithm label (models.algorithm). */
  algorithm?: string;
  /** Model name glob. */
  name?: string;
  tenant?: string;
  labels?: Record<string, string>;
}

/** Ordered by priority (lower first, then id); the first rule that matches names the pool. */
export interface RoutingRule {
  id: number;
  priority: number;
  description: string;
  match: RouteMatch;
  pool: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface CreateRuleInput {
  priority: number;
  pool: string;
  match?: RouteMatch;
  description?: string;
}

export type UpdateRuleInput = Partial<CreateRuleInput>;

/** How requests without a version are split for one model. */
export interface Traffic {
  model: string;
  liveVersion: number | null;
  /** A version that gets `canaryWeight` (0..1) of requests without a version; null: none. */
  canaryVersion: number | null;
  canaryWeight: number;
  /** A version that gets a copy of each request without a version; null: none. */
  shadowVersion: number | null;
}

/** Fields of the traffic that change; `null` clears a canary or shadow. */
export interface SetTrafficInput {
  canaryVersion?: number | null;
  canaryWeight?: number;
  shadowVersion?: number | null;
}

/** The metadata routing rules are matched against: the model's, and the version's platform. */
export interface VersionFacts {
  name: string;
  version: number;
  platform: string;
  algorithm: string | null;
  tenant: string;
  labels: Record<string, string>;
}

/** Why one rule does or does not match a version: one reason per field of its match. */
export interface RuleExplanation {
  rule: RoutingRule;
  matched: boolean;
  reasons: string[];
}
