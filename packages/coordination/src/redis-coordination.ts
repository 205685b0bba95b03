import type { Logger } from '@sibyl/observability';
import type { Redis } from 'ioredis';
import type { Coordination, RegisterOptions } from './coordination.js';
import { StatusTracker } from './coordination-status.js';
import { coordinationClosed, coordinationUnavailable, instanceExists, optionInvalid } from './errors.js';
import type { CoordinationStatus, InstanceInfo, InstanceRegistration } from './instance.js';
import { decodeInstance } from './instance-json.js';
import { InstanceSet } from './instance-set.js';
import { closeConnection, errorMessage, openRedisConnection, redactUrl, whenReady } from './redis-connection.js';
import { REMOVE_STALE_SCRIPT, redisKeys } from './redis-keys.js';
import { RedisRegistration } from './redis-registration.js';
import { checkInstance, DEFAULT_TTL_MS, normalizeTiming, positiveInteger } from './registration-options.js';

export interface RedisCoordinationOptions {
  /** `redis://[[user]:password@]host[:port][/db]`, or `rediss://` for TLS. */
  url: string;
  logger: Logger;
  /** Put before every key and channel, so clusters (or tests) can share one Redis. Default `sibyl:`. */
  keyPrefix?: string;
  /** How often watchers re-read the live set to notice instances that expired, milliseconds. Default 500. */
  pollMs?: number;
  /** How long a connection attempt or one command may take before it fails, milliseconds. Default 2000. */
  commandTimeoutMs?: number;
  /**
   * After Redis comes back from an outage, how long a watcher keeps an instance it knew that Redis
   * does not hold (yet), milliseconds. Live instances rewrite their keys as soon as they reconnect
   * (within a second); a Redis that restarted empty would otherwise show an empty set until they do,
   * and every route would briefly have no instance. Default 3000 (the default heartbeat TTL); 0 turns it off.
   */
  recoveryGraceMs?: number;
  /** Milliseconds since the epoch, for `updatedAt` and `status().since`. Default `Date.now`. */
  clock?: () => number;
}

/**
 * Coordination over Redis (DESIGN.md §4): instance keys with a TTL renewed by heartbeats, an index set,
 * and a placement channel that makes watchers re-read the set at once; watchers also re-read every
 * `pollMs`, which is how they notice an instance that died without deregistering.
 *
 * Two connections: commands, and one in subscriber mode (opened by the first watch or subscribe).
 * `status()` follows the command connection. While Redis is unreachable nothing throws but
 * `publish` and `subscribe`: `instances()` answers the last set it read, heartbeats retry, and the
 * outage is logged once (warn) and its end once (info). On reconnection this process rewrites its own
 * instances at once and watchers re-read the set, keeping for `recoveryGraceMs` the instances they
 * knew that Redis lacks (the others re-register meanwhile; those that died during the outage drop).
 *
 * The watch starts with the first `watchInstances()` or `instances()` call; a process that only
 * registers (a worker) never reads the set.
 */
export function createRedisCoordination(options: RedisCoordinationOptions): Coordination {
  const settings = normalizeOptions(options);
  const { logger, clock, pollMs, commandTimeoutMs, recoveryGraceMs } = settings;
  const keys = redisKeys(settings.keyPrefix);
  const where = redactUrl(settings.url);
  const set = new InstanceSet(logger);
  const own = new Map<string, RedisRegistration>();
  const channels = new Map<string, Set<(message: string) => void>>();
  /** Per channel, the SUBSCRIBE of its first subscriber. */
  const subscribing = new Map<string, Promise<void>>();
  const status = new StatusTracker({ connected: false, reason: 'connecting' }, clock, logger);
  let closing: Promise<void> | undefined;
  let outageLogged = false;
  /** Until when (clock ms) instances known before an outage are kept though Redis lacks them. */
  let keepKnownUntil = 0;
  let graceTimer: NodeJS.Timeout | undefined;

  const command = openRedisConnection(settings.url, 'coordination', commandTimeoutMs);
  let subscriber: Redis | undefined;

  // ---- connection state ---------------------------------------------------------------------------

  const down = (reason: string) => {
    if (closing !== undefined) return;
    if (!outageLogged) {
      outageLogged = true;
      logger.warn({ redis: where, reason, instances: set.list().length }, 'coordination: redis unreachable; keeping the last known instances and retrying');
    }
    status.set(false, reason);
  };

  let lastError: string | undefined;
  command.on('error', (err: unknown) => {
    lastError = errorMessage(err);
    if (status.get().connected) return; // 'close' follows and reports it
    down(lastError);
  });
  command.on('close', () => {
    if (status.get().connected) down(lastError ?? 'connection closed');
  });
  command.on('ready', () => {
    if (closing !== undefined) return;
    lastError = undefined;
    if (outageLogged) {
      logger.info({ redis: where, graceMs: recoveryGraceMs }, 'coordination: redis reachable again');
      // Instances alive through the outage rewrite their keys as they reconnect; until they have had
      // the time to, the last known set stands in for those Redis lacks. Read again once it is over.
      keepKnownUntil = clock() + recoveryGraceMs;
      if (graceTimer !== undefined) clearTimeout(graceTimer);
      graceTimer = setTimeout(() => {
        graceTimer = undefined;
        if (watching !== undefined && closing === undefined) void refresh();
      }, recoveryGraceMs);
      graceTimer.unref();
    } else logger.debug({ redis: where }, 'coordination: connected to redis');
    outageLogged = false;
    status.set(true);
    // After an outage (or a Redis restart that lost every key) own instances reappear at once, not at
    // the next heartbeat; and whatever changed meanwhile is read now, not at the next poll.
    for (const registration of own.values()) void registration.write('join');
    if (watching !== undefined) void refresh();
  });

  /**
   * Whether `redis` can take a call now. Right after start-up a call waits for the first connection
   * (at most `commandTimeoutMs`); once Redis is known to be unreachable it fails at once.
   */
  const usable = async (redis: Redis): Promise<boolean> => redis.status === 'ready' || (!outageLogged && (await whenReady(redis, commandTimeoutMs)));

  // ---- the watch: cache of the live set -----------------------------------------------------------

  let watching: Promise<void> | undefined;
  let pollTimer: NodeJS.Timeout | undefined;
  let refreshing: Promise<void> | undefined;
  let refreshAgain = false;

  /** Re-reads the set; a call during a read makes one more read after it, so no change is missed. */
  const refresh = (): Promise<void> => {
    if (refreshing !== undefined) {
      refreshAgain = true;
      return refreshing;
    }
    refreshing = readSet().finally(() => {
      refreshing = undefined;
      if (refreshAgain && closing === undefined) {
        refreshAgain = false;
        void refresh();
      }
    });
    return refreshing;
  };

  const readSet = async (): Promise<void> => {
    if (command.status !== 'ready') return; // degraded: keep the last set
    try {
      const ids = await command.smembers(keys.index);
      const values = ids.length === 0 ? [] : await command.mget(ids.map((id) => keys.instance(id)));
      const live: InstanceInfo[] = [];
      const stale: string[] = [];
      ids.forEach((id, i) => {
        const text = values[i];
        if (text === null || text === undefined) return void stale.push(id);
        const info = decodeInstance(text);
        if (info === undefined || info.id !== id) logger.debug({ instance: id }, 'coordination: ignoring an instance key that does not hold an instance');
        else live.push(info);
      });
      if (closing !== undefined) return;
      if (clock() < keepKnownUntil) {
        const held = new Set(live.map((info) => info.id));
        for (const info of set.list()) if (!held.has(info.id)) live.push(info);
      }
      set.replace(live);
      for (const id of stale) await removeStale(id);
    } catch (err) {
      logger.debug({ err: errorMessage(err) }, 'coordination: reading the live instances failed; keeping the last known set');
    }
  };

  const removeStale = async (id: string) => {
    await command.eval(REMOVE_STALE_SCRIPT, 2, keys.instance(id), keys.index, id);
  };

  const startWatch = (): Promise<void> => {
    watching ??= (async () => {
      const sub = subscriberConnection();
      // Already connected (for `subscribe`), the connection's 'ready' has passed: subscribe here too.
      if (await usable(sub)) {
        await sub.subscribe(keys.placement).catch((err: unknown) => logger.debug({ err: errorMessage(err) }, 'coordination: subscribing to placement failed'));
      }
      if (closing !== undefined) return;
      pollTimer = setInterval(() => void refresh(), pollMs);
      pollTimer.unref();
      await usable(command);
      await refresh();
    })();
    return watching;
  };

  // ---- pub/sub ------------------------------------------------------------------------------------

  /** Channels (full Redis names) this process wants to hear; replayed on every (re)connection. */
  const wanted = (): string[] => [...(watching === undefined ? [] : [keys.placement]), ...[...channels.keys()].map((c) => keys.channel(c))];

  const subscriberConnection = (): Redis => {
    if (subscriber !== undefined) return subscriber;
    const sub = openRedisConnection(settings.url, 'coordination-subscriber', commandTimeoutMs);
    sub.on('error', (err: unknown) => logger.debug({ err: errorMessage(err) }, 'coordination: subscriber connection error'));
    sub.on('ready', () => {
      const names = wanted();
      if (names.length > 0) sub.subscribe(...names).catch((err: unknown) => logger.debug({ err: errorMessage(err) }, 'coordination: resubscribing failed'));
      // Messages sent while this connection was away are lost: read the set again.
      if (watching !== undefined) void refresh();
    });
    sub.on('message', (channel: string, message: string) => {
      if (channel === keys.placement) return void refresh();
      const name = channel.slice(keys.channel('').length);
      for (const handler of [...(channels.get(name) ?? [])]) {
        try {
          handler(message);
        } catch (err) {
          logger.error({ err, channel: name }, 'coordination: subscriber threw');
        }
      }
    });
    subscriber = sub;
    return sub;
  };

  // ---- the interface ------------------------------------------------------------------------------

  const coordination: Coordination = {
    kind: 'redis',

    async register(info, registerOptions?: RegisterOptions): Promise<InstanceRegistration> {
      if (closing !== undefined) throw coordinationClosed('register an instance');
      checkInstance(info);
      const timing = normalizeTiming(registerOptions);
      if (own.has(info.id)) throw instanceExists(info.id);
      const registration = new RedisRegistration(info, timing, {
        command,
        keys,
        clock,
        logger,
        onGone: (id) => {
          if (own.get(id) === registration) own.delete(id);
        },
      });
      own.set(info.id, registration);
      registration.start();
      // The first write waits for the first connection; if Redis is down the heartbeat keeps trying
      // and the reconnection writes it, so a worker starts (degraded) without Redis.
      await usable(command);
      await registration.write('join');
      return registration.handle();
    },

    instances(pool?: string): InstanceInfo[] {
      if (closing === undefined) void startWatch();
      return set.list(pool);
    },

    async watchInstances(handler) {
      if (closing !== undefined) throw coordinationClosed('watch instances');
      await startWatch();
      // Watching from here: the set the watch started from is in instances(), not given to the handler.
      return set.watch(handler);
    },

    async publish(channel, message) {
      if (closing !== undefined) throw coordinationClosed('publish');
      try {
        if (!(await usable(command))) throw new Error(lastError ?? 'not connected');
        await command.publish(keys.channel(channel), message);
      } catch (err) {
        throw coordinationUnavailable('publish', errorMessage(err));
      }
    },

    async subscribe(channel, handler) {
      if (closing !== undefined) throw coordinationClosed('subscribe');
      const entry = (message: string) => handler(message);
      const sub = subscriberConnection();
      let handlers = channels.get(channel);
      if (handlers === undefined) channels.set(channel, (handlers = new Set()));
      handlers.add(entry);
      const forget = () => {
        const current = channels.get(channel);
        current?.delete(entry);
        if (current?.size !== 0) return false;
        channels.delete(channel);
        subscribing.delete(channel);
        return true;
      };
      // The first subscriber of a channel subscribes; later ones wait for the same answer.
      let subscribed = subscribing.get(channel);
      if (subscribed === undefined) {
        subscribed = (async () => {
          if (!(await usable(sub))) throw new Error(lastError ?? 'not connected');
          await sub.subscribe(keys.channel(channel));
        })();
        subscribing.set(channel, subscribed);
        subscribed.catch(() => subscribing.delete(channel));
      }
      try {
        await subscribed;
      } catch (err) {
        forget();
        throw coordinationUnavailable(`subscribe to '${channel}'`, errorMessage(err));
      }
      return async () => {
        if (!forget() || sub.status !== 'ready') return;
        await sub.unsubscribe(keys.channel(channel)).catch(() => undefined);
      };
    },

    status(): CoordinationStatus {
      return status.get();
    },

    onStatus(handler) {
      return status.on(handler);
    },

    close(): Promise<void> {
      closing ??= (async () => {
        clearInterval(pollTimer);
        if (graceTimer !== undefined) clearTimeout(graceTimer);
        await Promise.all([...own.values()].map((registration) => registration.deregister()));
        await refreshing;
        channels.clear();
        await Promise.all([closeConnection(command), subscriber === undefined ? undefined : closeConnection(subscriber)]);
      })();
      return closing;
    },
  };
  return Object.freeze(coordination);
}

interface Settings {
  readonly url: string;
  readonly logger: Logger;
  readonly keyPrefix: string;
  readonly pollMs: number;
  readonly commandTimeoutMs: number;
  readonly recoveryGraceMs: number;
  readonly clock: () => number;
}

function normalizeOptions(options: RedisCoordinationOptions): Settings {
  if (typeof options.url !== 'string') throw optionInvalid('url', 'is required (redis://host:port)');
  let protocol: string;
  try {
    protocol = new URL(options.url).protocol;
  } catch {
    throw optionInvalid('url', `is not a URL: ${redactUrl(options.url)}`);
  }
  if (protocol !== 'redis:' && protocol !== 'rediss:') throw optionInvalid('url', `must start with redis:// or rediss://, got ${protocol}//`);
  if (options.logger === undefined) throw optionInvalid('logger', 'is required');
  const keyPrefix = options.keyPrefix ?? 'sibyl:';
  if (typeof keyPrefix !== 'string' || keyPrefix === '') throw optionInvalid('keyPrefix', 'must be a non-empty string');
  const pollMs = options.pollMs ?? 500;
  positiveInteger('pollMs', pollMs);
  const commandTimeoutMs = options.commandTimeoutMs ?? 2000;
  positiveInteger('commandTimeoutMs', commandTimeoutMs);
  const recoveryGraceMs = options.recoveryGraceMs ?? DEFAULT_TTL_MS;
  if (recoveryGraceMs !== 0) positiveInteger('recoveryGraceMs', recoveryGraceMs);
  return Object.freeze({ url: options.url, logger: options.logger, keyPrefix, pollMs, commandTimeoutMs, recoveryGraceMs, clock: options.clock ?? Date.now });
}
