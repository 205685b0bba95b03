/**
 * Which instances of a pool serve one model version, in the order a request tries them: the version's
 * home instances (the top R of rendezvous hashing over the live, non-draining instances, least-loaded
 * first among them) and then the rest of the ring, the order a failover walks.
 */
import type { InstanceInfo } from '@sibyl/coordination';
import type { Pool } from '@sibyl/registry';
import { rendezvousOrder } from './rendezvous.js';
import type { RouteTarget } from './route.js';

/** How a gateway reaches a discovered instance: its v2 REST listener or its v2 gRPC listener. */
export type InstanceTransport = 'http' | 'grpc';

export interface Placement {
  readonly replicas: number;
  readonly targets: readonly RouteTarget[];
}

export interface PlaceOptions {
  /** `model/version`: the rendezvous key, the same form as InstanceInfo.warmModels. */
  readonly key: string;
  readonly pool: Pool;
  /** Home instances wanted (the version config's `placement_replicas`); capped at the live count. */
  readonly replicas: number;
  /** Live instances of every pool (coordination's view); this pool's are picked out. */
  readonly instances: readonly InstanceInfo[];
  readonly transport: InstanceTransport;
  /** Set when the pool is served in this process: its one target, e.g. `in-process`. */
  readonly inProcessTarget?: string | undefined;
}

/** `http://host:port` or `grpc://host:port`; an instance in the same process keeps `in-process`. */
export function instanceAddress(instance: InstanceInfo, transport: InstanceTransport): string {
  const hostPort = transport === 'http' ? instance.httpAddress : instance.grpcAddress;
  return hostPort === 'in-process' ? 'in-process' : `${transport}://${hostPort}`;
}

export function placeVersion(options: PlaceOptions): Placement {
  const { key, pool } = options;
  if (options.inProcessTarget !== undefined) {
    return { replicas: 1, targets: [{ id: options.inProcessTarget, address: options.inProcessTarget, load: 0 }] };
  }
  if (!pool.discovery) {
    // Every fixed endpoint serves every model (a Triton or TorchServe fleet): all are home. They are
    // still ordered by rendezvous so that different versions lead with different endpoints.
    const byId = new Map<string, string>(pool.endpoints.map((url) => [`endpoint:${url}`, url]));
    const targets = rendezvousOrder([...byId.keys()], key).map((id) => ({ id, address: byId.get(id)!, load: 0 }));
    return { replicas: targets.length, targets };
  }
  const live = new Map<string, InstanceInfo>();
  for (const instance of options.instances) {
    if (instance.pool === pool.name && !instance.draining) live.set(instance.id, instance);
  }
  const ring = rendezvousOrder([...live.keys()], key).map((id) => live.get(id)!);
  const replicas = Math.min(Math.max(1, Math.floor(options.replicas)), ring.length);
  // Array.prototype.sort is stable: equal loads keep their rendezvous order.
  const home = ring.slice(0, replicas).sort((a, b) => a.load - b.load);
  const targets = [...home, ...ring.slice(replicas)].map((instance) => ({
    id: instance.id,
    address: instanceAddress(instance, options.transport),
    load: instance.load,
  }));
  return { replicas, targets };
}

/**
 * The version's `placement_replicas` (a Triton config parameter, `{"string_value": "2"}`): how many
 * instances hold it warm. Default 1; undefined when the value is present but not a positive integer.
 */
export function placementReplicas(config: Record<string, unknown> | null): number | undefined {
  const parameters = config?.['parameters'];
  if (parameters === undefined || parameters === null || typeof parameters !== 'object') return 1;
  const entry = (parameters as Record<string, unknown>)['placement_replicas'];
  if (entry === undefined) return 1;
  const text = entry !== null && typeof entry === 'object' ? (entry as Record<string, unknown>)['string_value'] : undefined;
  if (typeof text !== 'string' || !/^[1-9][0-9]{0,3}$/.test(text)) return undefined;
  return Number(text);
}

/**
 * Per pool, what of its instances routes depend on (ids, addresses, draining; not load), so that a
 * placement change can be told from a load report.
 */
export function placementSignatures(instances: readonly InstanceInfo[]): Map<string, string> {
  const byPool = new Map<string, string[]>();
  for (const i of instances) {
    const parts = byPool.get(i.pool) ?? [];
    parts.push(`${i.id}|${i.httpAddress}|${i.grpcAddress}|${i.draining ? 'draining' : 'live'}`);
    byPool.set(i.pool, parts);
  }
  return new Map([...byPool].map(([pool, parts]) => [pool, parts.sort().join('\n')] as const));
}

/** Pools whose placement differs between two sets of signatures. */
export function changedPools(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): Set<string> {
  const changed = new Set<string>();
  for (const [pool, signature] of after) if (before.get(pool) !== signature) changed.add(pool);
  for (const pool of before.keys()) if (!after.has(pool)) changed.add(pool);
  return changed;
}
