import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Coordination } from './coordination.js';
import { codeOf, eventually, ids, instance } from './coordination-contract.fixture.js';
import type { CoordinationStatus, InstanceInfo } from './instance.js';
import { createRedisCoordination } from './redis-coordination.js';
import { RedisServer, captureLogger, uniquePrefix, type CapturedLog } from './redis.fixture.js';

/**
 * Degraded mode against a real Redis that goes away: a throwaway redis-server child, killed with
 * SIGKILL, then started again on the same port without its data (as a Redis that lost its memory).
 * Runs wherever redis-server is on PATH; it does not use REDIS_URL.
 */
const NO_SERVER = spawnSync('redis-server', ['--version']).error !== undefined;
const SUITE = NO_SERVER ? 'redis coordination while Redis is unreachable (skipped: redis-server is not on PATH)' : 'redis coordination while Redis is unreachable';

describe.skipIf(NO_SERVER)(SUITE, () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setup() {
    const server = await RedisServer.start();
    cleanups.push(() => server.kill());
    const prefix = uniquePrefix();
    const open = (log: CapturedLog, recoveryGraceMs?: number): Coordination => {
      const coordination = createRedisCoordination({
        url: server.url,
        logger: log.logger,
        keyPrefix: prefix,
        pollMs: 100,
        commandTimeoutMs: 500,
        ...(recoveryGraceMs === undefined ? {} : { recoveryGraceMs }),
      });
      cleanups.push(() => coordination.close());
      return coordination;
    };
    return { server, open };
  }

  it('keeps the last set, reports the outage once, and re-registers and resyncs when Redis is back', async () => {
    const { server, open } = await setup();
    // ioredis prints an 'error' event no one listens to with console.error; here every one is heard.
    const consoleError = vi.spyOn(console, 'error');
    cleanups.push(async () => consoleError.mockRestore());
    const log = captureLogger();
    const a = open(log);
    const b = open(captureLogger());
    const statuses: CoordinationStatus[] = [];
    a.onStatus((s) => statuses.push(s));
    const heard: string[] = [];
    await b.subscribe('news', (m) => heard.push(m));
    // Heartbeats far apart: only the reconnection itself can bring the instances back within the test.
    const slow = { heartbeatMs: 60_000, ttlMs: 180_000 };
    const ra = await a.register(instance('a'), slow);
    await b.register(instance('b'), slow);
    const seen: InstanceInfo[][] = [];
    await a.watchInstances((set) => seen.push(set));
    await eventually(() => expect(ids(a.instances())).toEqual(['a', 'b']));
    expect(statuses.map((s) => s.connected)).toEqual([true]);

    await server.kill();
    await eventually(() => expect(a.status().connected).toBe(false));
    expect(a.status().reason).toMatch(/\S/);
    await eventually(() => expect(b.status().connected).toBe(false));
    // Updates, a registration, and polls fail meanwhile; the set stays and nothing throws.
    const calls = seen.length;
    ra.update({ draining: true, load: 2 });
    ra.update({ warmModels: ['m/1'] });
    const late = await a.register(instance('c'), slow);
    expect(late.id).toBe('c');
    expect(await codeOf(a.publish('news', 'lost'))).toBe('SIBYL_COORDINATION_UNAVAILABLE');
    expect(await codeOf(a.subscribe('other', () => undefined))).toBe('SIBYL_COORDINATION_UNAVAILABLE');
    await new Promise((resolve) => setTimeout(resolve, 1000)); // ten polls
    expect(ids(a.instances())).toEqual(['a', 'b']);
    expect(seen.length).toBe(calls);
    expect(statuses.map((s) => s.connected)).toEqual([true, false]);

    await server.start(); // same port, empty
    await eventually(() => expect(a.status().connected).toBe(true), 5000);
    // Own instances come back with what changed during the outage, the other process's too.
    await eventually(() => expect(ids(a.instances())).toEqual(['a', 'b', 'c']), 5000);
    await eventually(() => expect(a.instances()[0]).toMatchObject({ draining: true, load: 2, warmModels: ['m/1'] }));
    expect(statuses.map((s) => s.connected)).toEqual([true, false, true]);
    expect(statuses[1]?.reason).toMatch(/\S/);

    // The subscription made before the outage still delivers.
    await eventually(async () => {
      await a.publish('news', 'back');
      expect(heard).toContain('back');
    });

    const warn = log.lines.filter((l) => l.level === 'warn');
    const back = log.lines.filter((l) => l.level === 'info' && /again/.test(l.msg));
    expect(warn.map((l) => l.msg)).toEqual([expect.stringMatching(/unreachable/)]);
    expect(back).toHaveLength(1);
    expect(consoleError).not.toHaveBeenCalled();
  }, 30_000);

  it('after Redis returns empty, keeps the instances it knew for the grace period: the live ones never leave, the dead one leaves after it', async () => {
    const { server, open } = await setup();
    const watcher = open(captureLogger(), 1500);
    const alive = open(captureLogger());
    const dying = open(captureLogger());
    const slow = { heartbeatMs: 60_000, ttlMs: 180_000 };
    await alive.register(instance('alive'), slow);
    await dying.register(instance('dying'), slow);
    const seen: string[][] = [];
    await watcher.watchInstances((set) => seen.push(ids(set)));
    await eventually(() => expect(ids(watcher.instances())).toEqual(['alive', 'dying']));

    await server.kill();
    await eventually(() => expect(watcher.status().connected).toBe(false));
    await dying.close(); // dies during the outage: it cannot deregister
    const before = seen.length;
    await server.start(); // same port, empty
    await eventually(() => expect(watcher.status().connected).toBe(true), 5000);
    const back = Date.now();
    // `alive` re-registers as it reconnects; `dying` is kept until the grace is over, then dropped.
    await eventually(() => expect(ids(watcher.instances())).toEqual(['alive']), 5000);
    expect(Date.now() - back).toBeGreaterThanOrEqual(1000);
    // No set the watcher published after the outage lacked the live instance.
    expect(seen.slice(before).every((set) => set.includes('alive'))).toBe(true);
  }, 30_000);

  it('starts while Redis is down, and registers once it is up', async () => {
    const { server, open } = await setup();
    await server.kill();
    const log = captureLogger();
    const a = open(log);
    const registration = await a.register(instance('early'), { heartbeatMs: 100, ttlMs: 1000 });
    expect(registration.id).toBe('early');
    await a.watchInstances(() => undefined);
    expect(a.status().connected).toBe(false);
    expect(a.instances()).toEqual([]);
    await server.start();
    await eventually(() => expect(ids(a.instances())).toEqual(['early']), 5000);
    expect(log.lines.filter((l) => l.level === 'warn')).toHaveLength(1);
  }, 30_000);

  it('closes while Redis is down without throwing', async () => {
    const { server, open } = await setup();
    const a = open(captureLogger());
    await a.register(instance('a'));
    await a.watchInstances(() => undefined);
    await server.kill();
    await eventually(() => expect(a.status().connected).toBe(false));
    await a.close();
    await a.close();
    expect(ids(a.instances())).toEqual(['a']);
  }, 30_000);
});
