import type { CoordinationStatus, InstanceInfo, InstanceRegistration } from './instance.js';

export interface RegisterOptions {
  /** Heartbeat period, milliseconds. Default 1000. */
  heartbeatMs?: number;
  /** How long an instance stays live without a heartbeat, milliseconds. Default 3000. */
  ttlMs?: number;
}

/**
 * Coordination between processes (DESIGN.md §4: Redis holds what may vanish). Two implementations:
 * `createRedisCoordination` (ioredis) and `createMemoryCoordination` (one process, the embedded default).
 *
 * Degraded mode: when Redis is unreachable, `instances()` keeps answering the last known set,
 * registrations keep retrying their heartbeat, `status()` says so, and the change is logged once.
 */
export interface Coordination {
  readonly kind: 'redis' | 'memory';
  /** Announces an instance and keeps it live until `deregister()`. */
  register(info: Omit<InstanceInfo, 'updatedAt'>, options?: RegisterOptions): Promise<InstanceRegistration>;
  /** The live instances last seen (all pools, or one), sorted by id. Never throws. */
  instances(pool?: string): InstanceInfo[];
  /**
   * Calls `handler` with the full live set whenever it changes (join, leave, expiry, draining, warm
   * models; not for load-only changes). Resolves once the first set is known (then in `instances()`;
   * the handler is not called with it), to a stop function. While the store is unreachable it resolves
   * with the last known set and fills in when the store is back.
   */
  watchInstances(handler: (instances: InstanceInfo[]) => void): Promise<() => void>;
  /** Fire-and-forget fan-out to every subscriber of `channel` in every process. */
  publish(channel: string, message: string): Promise<void>;
  /** Resolves once subscribed, to an unsubscribe function. */
  subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>>;
  status(): CoordinationStatus;
  /** Calls `handler` on every change of `status().connected`. Returns a stop function. */
  onStatus(handler: (status: CoordinationStatus) => void): () => void;
  /** Deregisters what this process registered, stops watching, closes connections. Idempotent. */
  close(): Promise<void>;
}
