/**
 * Where the Redis implementation keeps things, all under one prefix so several clusters (or tests)
 * can share a Redis:
 *
 * - `<prefix>instance:<id>`: the InstanceInfo JSON, written with `PX ttl` on every heartbeat;
 * - `<prefix>instances`: a set of the ids, so watchers list without scanning the database; members
 *   whose key expired are removed by the watchers;
 * - `<prefix>placement`: channel announcing joins, leaves and placement changes;
 * - `<prefix>channel:<name>`: the channels of `publish`/`subscribe`, apart from the internal one.
 */
export interface RedisKeys {
  instance(id: string): string;
  readonly index: string;
  readonly placement: string;
  channel(name: string): string;
}

export function redisKeys(prefix: string): RedisKeys {
  return Object.freeze({
    instance: (id: string) => `${prefix}instance:${id}`,
    index: `${prefix}instances`,
    placement: `${prefix}placement`,
    channel: (name: string) => `${prefix}channel:${name}`,
  });
}

/**
 * Removes an index member only if its key is still gone: a plain SREM after reading a nil key could
 * race with the instance registering again between the read and the removal.
 * KEYS[1] instance key, KEYS[2] index; ARGV[1] id.
 */
export const REMOVE_STALE_SCRIPT = `if redis.call('exists', KEYS[1]) == 0 then return redis.call('srem', KEYS[2], ARGV[1]) end return 0`;

/** What goes on the placement channel; watchers only need to know that something changed. */
export interface PlacementMessage {
  readonly event: 'join' | 'leave' | 'update';
  readonly id: string;
}
