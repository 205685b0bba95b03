/**
 * Routes as protobuf messages (protos/sibyl/router/v1/router.proto) and back. The decoders accept what
 * proto-loader yields under PROTO_LOADER_OPTIONS: proto3 fields equal to their default are absent,
 * 64-bit integers are decimal strings, enums are their names.
 */
import type { InstanceKind } from '@sibyl/coordination';
import type { ModelIndexEntry } from '@sibyl/protocol';
import type { IndexResponse, IndexResponse__Output } from './generated/sibyl/router/v1/IndexResponse.js';
import type { Invalidation, Invalidation__Output } from './generated/sibyl/router/v1/Invalidation.js';
import type { ModelRoute as ModelRouteMessage, ModelRoute__Output } from './generated/sibyl/router/v1/ModelRoute.js';
import type { PoolKind__Output } from './generated/sibyl/router/v1/PoolKind.js';
import type { VersionRoute as VersionRouteMessage, VersionRoute__Output } from './generated/sibyl/router/v1/VersionRoute.js';
import type { ModelRoute, RouteInvalidation, VersionRoute } from './route.js';

const KIND_TO_MESSAGE: Readonly<Record<InstanceKind, PoolKind__Output>> = Object.freeze({
  'sibyl-onnx': 'POOL_KIND_SIBYL_ONNX',
  'sibyl-tf': 'POOL_KIND_SIBYL_TF',
  triton: 'POOL_KIND_TRITON',
  torchserve: 'POOL_KIND_TORCHSERVE',
  pipeline: 'POOL_KIND_PIPELINE',
});

const KIND_FROM_MESSAGE = new Map<string, InstanceKind>(
  Object.entries(KIND_TO_MESSAGE).map(([kind, message]) => [message, kind as InstanceKind]),
);

/** A message the peer sent that cannot be a route (a bug or a version mismatch, never user input). */
export class RouteMessageError extends Error {}

function integer(what: string, value: string | number | undefined): number {
  const n = value === undefined ? 0 : Number(value);
  if (!Number.isSafeInteger(n)) throw new RouteMessageError(`${what} is not an integer: ${String(value)}`);
  return n;
}

export function versionRouteToMessage(route: VersionRoute): VersionRouteMessage {
  return {
    model: route.model,
    version: route.version,
    pool: route.pool,
    kind: KIND_TO_MESSAGE[route.kind],
    rule_id: route.ruleId,
    replicas: route.replicas,
    targets: route.targets.map((t) => ({ id: t.id, address: t.address, load: Math.max(0, Math.round(t.load)) })),
  };
}

export function versionRouteFromMessage(message: VersionRoute__Output): VersionRoute {
  const kind = KIND_FROM_MESSAGE.get(message.kind ?? 'POOL_KIND_UNSPECIFIED');
  if (kind === undefined) throw new RouteMessageError(`unknown pool kind ${String(message.kind)}`);
  if (message.model === undefined || message.model === '') throw new RouteMessageError('a version route without a model');
  return {
    model: message.model,
    version: integer('version', message.version),
    pool: message.pool ?? '',
    kind,
    ruleId: integer('rule_id', message.rule_id),
    replicas: integer('replicas', message.replicas),
    targets: (message.targets ?? []).map((t) => ({ id: t.id ?? '', address: t.address ?? '', load: t.load ?? 0 })),
  };
}

export function modelRouteToMessage(route: ModelRoute): ModelRouteMessage {
  return {
    model: route.model,
    live: route.live === null ? null : versionRouteToMessage(route.live),
    canary: route.canary === null ? null : { route: versionRouteToMessage(route.canary.route), weight: route.canary.weight },
    shadow: route.shadow === null ? null : versionRouteToMessage(route.shadow),
    generation: String(route.generation),
  };
}

export function modelRouteFromMessage(message: ModelRoute__Output): ModelRoute {
  if (message.model === undefined || message.model === '') throw new RouteMessageError('a model route without a model');
  const canary = message.canary;
  if (canary !== undefined && canary !== null && (canary.route === undefined || canary.route === null)) {
    throw new RouteMessageError('a canary without its route');
  }
  return {
    model: message.model,
    live: message.live === undefined || message.live === null ? null : versionRouteFromMessage(message.live),
    canary: canary === undefined || canary === null ? null : { route: versionRouteFromMessage(canary.route!), weight: canary.weight ?? 0 },
    shadow: message.shadow === undefined || message.shadow === null ? null : versionRouteFromMessage(message.shadow),
    generation: integer('generation', message.generation),
  };
}

export function indexToMessage(entries: readonly ModelIndexEntry[]): IndexResponse {
  return { models: entries.map((e) => ({ name: e.name, version: e.version ?? '', state: e.state, reason: e.reason })) };
}

const STATES = new Set<string>(['READY', 'UNAVAILABLE', 'LOADING', 'UNLOADING']);

export function indexFromMessage(message: IndexResponse__Output): ModelIndexEntry[] {
  return (message.models ?? []).map((m) => {
    const state = m.state ?? '';
    if (!STATES.has(state)) throw new RouteMessageError(`unknown model state '${state}'`);
    const entry: ModelIndexEntry = { name: m.name ?? '', state: state as ModelIndexEntry['state'], reason: m.reason ?? '' };
    if (m.version !== undefined && m.version !== '') entry.version = m.version;
    return entry;
  });
}

export function invalidationToMessage(invalidation: RouteInvalidation): Invalidation {
  return invalidation.model === undefined ? {} : { model: invalidation.model };
}

export function invalidationFromMessage(message: Invalidation__Output): RouteInvalidation {
  return typeof message.model === 'string' ? { model: message.model } : {};
}
