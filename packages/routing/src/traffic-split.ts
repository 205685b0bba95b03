/**
 * The traffic split of requests without a version: a canary of weight w gets the share w of them.
 *
 * With a key (a user or session id the caller sends), the choice is sticky: a key's split point is a
 * hash, so the same key reaches the same version on every gateway for as long as the weight stays,
 * and raising the weight only moves keys from live to canary, never back. The split point depends on
 * the key alone, not the model: one user is on the canary side of every model at the same weight,
 * which keeps a multi-model request path consistent. Without a key the choice is random per request.
 */
import { modelNotLive } from './errors.js';
import type { ModelRoute, VersionRoute } from './route.js';
import { HASH_RANGE, stringHash53 } from './string-hash.js';

/** Where `key` falls in [0, 1); the same for the same key in every process. */
export function splitPoint(key: string): number {
  return stringHash53(key) / HASH_RANGE;
}

/**
 * The version a request without a version reaches: the canary when the key's split point (a random
 * number without a key) is below the canary weight, else the live version. SIBYL_ROUTE_MODEL_NOT_LIVE
 * when that is the live version and nothing is live.
 */
export function chooseVersion(route: ModelRoute, key: string | undefined): VersionRoute {
  if (route.canary !== null && route.canary.weight > 0) {
    const point = key === undefined ? Math.random() : splitPoint(key);
    if (point < route.canary.weight) return route.canary.route;
  }
  if (route.live === null) throw modelNotLive(route.model);
  return route.live;
}
