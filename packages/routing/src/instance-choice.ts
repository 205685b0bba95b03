/**
 * Which instance of a route takes a request: the least loaded of the version's home instances (the
 * route's first `replicas` targets, by this gateway's own in-flight count), skipping instances that
 * just failed to take a request ("suspect") while another one is there.
 *
 * Suspects are this process's short memory of a failed delivery: the router learns of a dead
 * instance through heartbeats seconds later, and meanwhile every request would try it first.
 */
import type { Backend } from '@sibyl/backends';
import { poolNoInstance } from './data-plane-errors.js';
import type { RouteTarget, VersionRoute } from './route.js';

/** Where the data plane finds the Backend for a target's address: the app's backend pool (createBackendPool), or any lookup. */
export interface BackendLookup {
  get(address: string): Backend;
}

export interface InstanceChoiceOptions {
  backends: BackendLookup;
  /** How long an instance that failed to take a request is avoided, milliseconds; default 2000. */
  suspectMs?: number;
  /** Clock, milliseconds; default Date.now. */
  now?: () => number;
}

export interface InstanceChoice {
  /** The instance for a new request. Throws SIBYL_POOL_NO_INSTANCE when the route has none. */
  pick(route: VersionRoute): RouteTarget;
  /**
   * After `failed` did not take a request: the next target in the route's order that is not it,
   * preferring one that is not suspect; undefined when there is no other.
   */
  failover(route: VersionRoute, failed: string): RouteTarget | undefined;
  /** Avoid `address` for `suspectMs`. */
  markSuspect(address: string): void;
  isSuspect(address: string): boolean;
}

export function createInstanceChoice(options: InstanceChoiceOptions): InstanceChoice {
  const { backends } = options;
  const suspectMs = options.suspectMs ?? 2_000;
  if (!(suspectMs >= 0)) throw new RangeError(`option suspectMs must be >= 0, got ${String(suspectMs)}`);
  const now = options.now ?? Date.now;
  /** Address → until when it is avoided (clock ms). Usually empty, so the hot path checks its size first. */
  const suspects = new Map<string, number>();

  function isSuspect(address: string): boolean {
    if (suspects.size === 0) return false;
    const until = suspects.get(address);
    if (until === undefined) return false;
    if (now() < until) return true;
    suspects.delete(address);
    return false;
  }

  return {
    pick(route) {
      const targets = route.targets;
      const n = targets.length;
      if (n === 0) throw poolNoInstance(route.pool, route.model, route.version);
      if (n === 1) return targets[0]!;
      const homes = Math.min(Math.max(route.replicas, 1), n);
      let best: RouteTarget | undefined;
      let bestLoad = Infinity;
      // Ties keep the router's order: the first of equally loaded home instances wins.
      for (let i = 0; i < homes; i++) {
        const target = targets[i]!;
        if (isSuspect(target.address)) continue;
        const load = backends.get(target.address).inflight;
        if (load < bestLoad) {
          best = target;
          bestLoad = load;
        }
      }
      if (best !== undefined) return best;
      // Every home instance is suspect: the first healthy one further along the ring, else the
      // router's first choice (all suspect: trying is better than refusing).
      for (let i = homes; i < n; i++) if (!isSuspect(targets[i]!.address)) return targets[i]!;
      return targets[0]!;
    },
    failover(route, failed) {
      let suspect: RouteTarget | undefined;
      for (const target of route.targets) {
        if (target.address === failed) continue;
        if (!isSuspect(target.address)) return target;
        suspect ??= target;
      }
      return suspect;
    },
    markSuspect(address) {
      if (suspectMs > 0) suspects.set(address, now() + suspectMs);
    },
    isSuspect,
  };
}
