/**
 * Live worker instances: what a worker announces about itself, and how others see the set.
 *
 * Contract: an instance is live while its heartbeat is fresh (Redis: a key with a TTL renewed every
 * heartbeat; in-process: until deregistered). An instance that stops heartbeating (kill -9) vanishes
 * from every watcher within its TTL plus one poll interval; a graceful stop deregisters at once.
 */

/** Kinds of backend pools; the same list as the registry's pools. */
export type InstanceKind = 'sibyl-onnx' | 'sibyl-tf' | 'triton' | 'torchserve' | 'pipeline';

export interface InstanceInfo {
  /** Unique for the life of one process, e.g. `onnx-host1-1234-5f2a`. */
  readonly id: string;
  /** Backend pool the instance serves (`onnx`, `tf`, ...). */
  readonly pool: string;
  readonly kind: InstanceKind;
  /** `host:port` of its v2 REST listener; `in-process` for the all-in-one data plane. */
  readonly httpAddress: string;
  /** `host:port` of its v2 gRPC listener; `in-process` for the all-in-one data plane. */
  readonly grpcAddress: string;
  /** Memory budget for models, bytes (`--model-cache-bytes`). */
  readonly memoryBudgetBytes: number;
  /** Model versions loaded and ready, as `model/version`. */
  readonly warmModels: readonly string[];
  /** Requests in flight when last reported. */
  readonly load: number;
  /** True from the moment the instance started shutting down: route no new work to it. */
  readonly draining: boolean;
  /** Milliseconds since the epoch. */
  readonly startedAt: number;
  /** When the instance last reported (its last heartbeat), milliseconds since the epoch. */
  readonly updatedAt: number;
}

/** What a worker may change about itself after registering; sent with the next heartbeat. */
export type InstanceUpdate = Partial<Pick<InstanceInfo, 'warmModels' | 'load' | 'draining'>>;

export interface InstanceRegistration {
  readonly id: string;
  /**
   * Merged into what the instance announces. A load-only change waits for the next heartbeat; a change
   * of warm models or draining is written and announced at once. A bad value throws
   * SIBYL_COORDINATION_OPTION_INVALID; after `deregister()` updates are ignored.
   */
  update(patch: InstanceUpdate): void;
  /** Stops heartbeating and removes the instance (announced at once). Idempotent. */
  deregister(): Promise<void>;
}

/** Whether the coordination store is reachable; degraded modes key off this. */
export interface CoordinationStatus {
  readonly connected: boolean;
  /** Milliseconds since the epoch when `connected` last changed. */
  readonly since: number;
  /** Why it is not connected, when it is not. */
  readonly reason?: string;
}
