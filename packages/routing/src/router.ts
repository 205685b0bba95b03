import type { ModelIndexEntry } from '@sibyl/protocol';
import type { ModelRoute, RouteInvalidation, VersionRoute } from './route.js';

/**
 * The router: decides where a request goes (DESIGN.md §2). In-process (`createRouter`, over the
 * registry and coordination) or remote (`createRouterClient`, gRPC to apps/router); the gateway's
 * route cache sits in front of either.
 *
 * Errors: NOT_FOUND for an unknown model or version; UNAVAILABLE when the pool has no live
 * instance or the router cannot be reached; CONFLICT-free: a version no rule matches is a
 * SIBYL_ROUTE_NO_MATCH (UNAVAILABLE) naming its metadata.
 */
export interface Router {
  /** The model's route: live version, canary and shadow. */
  resolveModel(model: string): Promise<ModelRoute>;
  /** One explicit version of a model (a request naming a version). */
  resolveVersion(model: string, version: number): Promise<VersionRoute>;
  /** Every registered model and version with its registry state (the gateway's repository index). */
  index(): Promise<ModelIndexEntry[]>;
  /**
   * Calls `handler` whenever cached routes may be stale: a registry change (NOTIFY) or a placement
   * change (instances joined, left, drained). Resolves once watching, to a stop function.
   */
  watch(handler: (invalidation: RouteInvalidation) => void): Promise<() => void>;
  close(): Promise<void>;
}
