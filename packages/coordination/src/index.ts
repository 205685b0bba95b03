/**
 * @sibyl/coordination: live worker instances with heartbeats, and pub/sub between processes.
 * Redis in a cluster, in-process for the embedded default.
 */
export type { CoordinationStatus, InstanceInfo, InstanceKind, InstanceRegistration, InstanceUpdate } from './instance.js';
export type { Coordination, RegisterOptions } from './coordination.js';
export { createMemoryCoordination, type MemoryCoordinationOptions } from './memory-coordination.js';
export { createRedisCoordination, type RedisCoordinationOptions } from './redis-coordination.js';
export { describeStatus } from './coordination-status.js';
export { coordinationClosed, coordinationUnavailable, instanceExists, optionInvalid } from './errors.js';
