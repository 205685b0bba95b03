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
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** One entry of the append-only audit log. */
export interface AuditEvent {
  /** Increasing; the cursor for `events(model, { before })`. */
  id: number;
  at: Date;
  actor: string;
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

/** What a NOTIFY on the registry channel says: which model changed and how. */
export interface RegistryChange {
  kind: AuditAction;
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
