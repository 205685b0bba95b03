import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';

// ioredis is loaded by the first connection: a process on in-process coordination (the all-in-one's
// default) never holds it in memory.
const require = createRequire(import.meta.url);
let RedisClient: typeof Redis | undefined;

/** Longest pause between two reconnection attempts, milliseconds. */
const RECONNECT_MAX_MS = 1000;

/**
 * One ioredis connection set up for degraded mode: a call made while Redis is unreachable fails at
 * once (no offline queue), a call in flight when the connection drops fails instead of being resent
 * after the outage (`maxRetriesPerRequest: 0`, no resend: heartbeats are rewritten on reconnect), a
 * call to a Redis that hangs fails after `timeoutMs`, and reconnection never gives up. The caller must
 * listen to 'error': ioredis emits one per failed attempt, and an unheard 'error' ends the process.
 */
export function openRedisConnection(url: string, role: string, timeoutMs: number): Redis {
  RedisClient ??= (require('ioredis') as typeof import('ioredis')).Redis;
  return new RedisClient(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    // Subscriptions are replayed by the coordination on 'ready', including those made while down.
    autoResubscribe: false,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    connectionName: `sibyl-${role}`,
    retryStrategy: (attempt: number) => Math.min(50 * 2 ** Math.min(attempt, 5), RECONNECT_MAX_MS),
  });
}

/** Resolves true once `redis` is ready, false after `timeoutMs` or if it ends first. */
export function whenReady(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  if (redis.status === 'end') return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (ready: boolean) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('end', onEnd);
      resolve(ready);
    };
    const onReady = () => done(true);
    const onEnd = () => done(false);
    const timer = setTimeout(() => done(false), timeoutMs);
    redis.on('ready', onReady);
    redis.on('end', onEnd);
  });
}

/** QUIT when connected (pending replies arrive first), otherwise drop the socket and stop reconnecting. */
export async function closeConnection(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  if (redis.status === 'ready') {
    try {
      await redis.quit();
      return;
    } catch {
      // fall through: the connection went away while quitting
    }
  }
  redis.disconnect(false);
}

/** The URL for log lines: a password never appears in them. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable url)';
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
