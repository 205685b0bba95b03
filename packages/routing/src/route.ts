/**
 * Routes: what the router answers and the gateway caches. A route says, for one model, which version
 * a request reaches and which instances may serve it, in order of preference.
 */
import type { InstanceKind } from '@sibyl/coordination';

/** One instance that may serve a version. */
export interface RouteTarget {
  /** Instance id (`in-process` for the all-in-one data plane, `endpoint:<url>` for a fixed endpoint). */
  readonly id: string;
  /** `in-process`, `http://host:port` or `grpc://host:port`: what the gateway connects to. */
  readonly address: string;
  /** Load the instance last reported (requests in flight), for least-loaded choice. */
  readonly load: number;
}

/** Where one model version goes. */
export interface VersionRoute {
  readonly model: string;
  readonly version: number;
  readonly pool: string;
  readonly kind: InstanceKind;
  /** Id of the routing rule that chose the pool. */
  readonly ruleId: number;
  /** How many of `targets` are the version's home instances (the top-R of rendezvous hashing). */
  readonly replicas: number;
  /**
   * Every live instance of the pool, ordered: first the top-R by rendezvous hash (least-loaded first
   * among them), then the rest of the ring, the order a failover walks. Empty: none is live now.
   */
  readonly targets: readonly RouteTarget[];
}

/** Where requests for a model go: the live version, and the traffic split around it. */
export interface ModelRoute {
  readonly model: string;
  /**
   * Requests without a version reach this (or the canary); null: nothing is live, and such requests
   * fail with SIBYL_ROUTE_MODEL_NOT_LIVE (UNAVAILABLE, 503: the model exists but is not serving, as
   * Triton answers for a model that is not ready); requests naming a version still route.
   */
  readonly live: VersionRoute | null;
  /** A share `weight` (0..1) of requests without a version goes to the canary instead. */
  readonly canary: { readonly route: VersionRoute; readonly weight: number } | null;
  /** Receives a copy of each request without a version; its answer is recorded and discarded. */
  readonly shadow: VersionRoute | null;
  /** Monotonic per router process; a newer route replaces an older cached one. */
  readonly generation: number;
}

/** What invalidates cached routes: one model, or every model (`undefined`). */
export type RouteInvalidation = { readonly model?: string };
