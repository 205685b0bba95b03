/**
 * The registry's records as the management API sends them: snake_case, times as ISO 8601 strings,
 * the way the CLI (apps/cli/src/wire-types.ts) reads them.
 */
import type {
  AuditEvent,
  Model,
  ModelVersion,
  Pool,
  RouteMatch,
  RoutingRule,
  RuleExplanation,
  Traffic,
  VersionFacts,
  VersionSignature,
} from '@sibyl/registry';
import type { TensorMetadata } from '@sibyl/protocol';

export interface WireModel {
  name: string;
  tenant: string;
  platform: string | null;
  algorithm: string | null;
  description: string;
  labels: Record<string, string>;
  live_version: number | null;
  previous_version: number | null;
  created_at: string;
  updated_at: string;
}

export interface WireSignature {
  platform: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
  /** Present when the runtime reported it; 0 when the model does not batch. */
  max_batch_size?: number;
}

export interface WireVersion {
  model: string;
  version: number;
  sha256: string;
  size: number;
  filename: string;
  format: string;
  state: string;
  state_reason: string;
  signature: WireSignature;
  /** The model config the version was uploaded with (a repository load's `config`), or null. */
  config: Record<string, unknown> | null;
  created_by: string;
  created_at: string;
}

export interface WireRelease {
  model: string;
  live_version: number | null;
  previous_version: number | null;
}

export interface WireEvent {
  id: number;
  at: string;
  actor: string;
  action: string;
  model: string;
  from: string | null;
  to: string | null;
  detail: Record<string, unknown>;
}

export function toWireModel(model: Model): WireModel {
  return {
    name: model.name,
    tenant: model.tenant,
    platform: model.platform,
    algorithm: model.algorithm,
    description: model.description,
    labels: model.labels,
    live_version: model.liveVersion,
    previous_version: model.previousVersion,
    created_at: model.createdAt.toISOString(),
    updated_at: model.updatedAt.toISOString(),
  };
}

export function toWireSignature(signature: VersionSignature): WireSignature {
  const wire: WireSignature = { platform: signature.platform, inputs: signature.inputs, outputs: signature.outputs };
  if (signature.maxBatchSize !== undefined) wire.max_batch_size = signature.maxBatchSize;
  return wire;
}

export function toWireVersion(version: ModelVersion): WireVersion {
  return {
    model: version.model,
    version: version.version,
    sha256: version.sha256,
    size: version.size,
    filename: version.filename,
    format: version.format,
    state: version.state,
    state_reason: version.stateReason,
    signature: toWireSignature(version.signature),
    config: version.config,
    created_by: version.createdBy,
    created_at: version.createdAt.toISOString(),
  };
}

export function toWireRelease(model: Model): WireRelease {
  return { model: model.name, live_version: model.liveVersion, previous_version: model.previousVersion };
}

export function toWireEvent(event: AuditEvent): WireEvent {
  return {
    id: event.id,
    at: event.at.toISOString(),
    actor: event.actor,
    action: event.action,
    model: event.model,
    from: event.from,
    to: event.to,
    detail: event.detail,
  };
}

// ---- routing ---------------------------------------------------------------------------------------

export interface WirePool {
  name: string;
  kind: string;
  endpoints: string[];
  discovery: boolean;
  description: string;
  created_at: string;
  updated_at: string;
}

export interface WireRoute {
  id: number;
  priority: number;
  description: string;
  match: RouteMatch;
  pool: string;
  created_at: string;
  updated_at: string;
}

export interface WireTraffic {
  model: string;
  live_version: number | null;
  canary_version: number | null;
  canary_weight: number;
  shadow_version: number | null;
}

export interface WireExplanation {
  model: string;
  version: number;
  facts: VersionFacts;
  route: WireRoute | null;
  pool: string | null;
  rules: Array<{ route: WireRoute; matched: boolean; reasons: string[] }>;
}

export function toWirePool(pool: Pool): WirePool {
  return {
    name: pool.name,
    kind: pool.kind,
    endpoints: pool.endpoints,
    discovery: pool.discovery,
    description: pool.description,
    created_at: pool.createdAt.toISOString(),
    updated_at: pool.updatedAt.toISOString(),
  };
}

export function toWireRoute(rule: RoutingRule): WireRoute {
  return {
    id: rule.id,
    priority: rule.priority,
    description: rule.description,
    match: rule.match,
    pool: rule.pool,
    created_at: rule.createdAt.toISOString(),
    updated_at: rule.updatedAt.toISOString(),
  };
}

export function toWireTraffic(traffic: Traffic): WireTraffic {
  return {
    model: traffic.model,
    live_version: traffic.liveVersion,
    canary_version: traffic.canaryVersion,
    canary_weight: traffic.canaryWeight,
    shadow_version: traffic.shadowVersion,
  };
}

export function toWireExplanation(facts: VersionFacts, explained: readonly RuleExplanation[]): WireExplanation {
  const winner = explained.find((e) => e.matched)?.rule;
  return {
    model: facts.name,
    version: facts.version,
    facts,
    route: winner === undefined ? null : toWireRoute(winner),
    pool: winner?.pool ?? null,
    rules: explained.map((e) => ({ route: toWireRoute(e.rule), matched: e.matched, reasons: e.reasons })),
  };
}
