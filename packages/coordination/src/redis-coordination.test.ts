import { spawn } from 'node:child_process';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Coordination } from './coordination.js';
import { codeOf, describeCoordinationContract, eventually, ids, instance } from './coordination-contract.fixture.js';
import type { InstanceInfo } from './instance.js';
import { createRedisCoordination, type RedisCoordinationOptions } from './redis-coordination.js';
import { REDIS_URL, captureLogger, dropKeys, uniquePrefix } from './redis.fixture.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SKIP = REDIS_URL === '';
const SUITE = SKIP ? 'redis coordination (skipped: set REDIS_URL to run it against a real Redis)' : 'redis coordination';

/** Coordinations opened by a test, closed and their keys dropped after it. */
const opened: { coordination: Coordination; prefix: string }[] = [];
function open(prefix: string, options: Partial<RedisCoordinationOptions> = {}): Coordination {
  const coordination = createRedisCoordination({ url: REDIS_URL, logger: captureLogger().logger, keyPrefix: prefix, pollMs: 100, ...options });
  opened.push({ coordination, prefix });
  return coordination;
}
async function closeOpened(): Promise<void> {
  const all = opened.splice(0);
  await Promise.all(all.map(({ coordination }) => coordination.close()));
  for (const prefix of new Set(all.map((o) => o.prefix))) await dropKeys(REDIS_URL, prefix);
}

describe.skipIf(SKIP)(SUITE, () => {
  // Two coordinations on one prefix: two connections each, as two processes would have.
  describeCoordinationContract('redis', async () => {
    const prefix = uniquePrefix();
    const writer = open(prefix);
    const reader = open(prefix);
    return { writer, reader, cleanup: closeOpened };
  });

  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(REDIS_URL);
  });
  afterAll(() => redis?.disconnect());
  afterEach(closeOpened);

  it('keeps each instance in a key with a TTL, indexed in one set', async () => {
    const prefix = uniquePrefix();
    const writer = open(prefix);
    await writer.register(instance('w1', { warmModels: ['m/1'] }), { heartbeatMs: 200, ttlMs: 1000 });
    const pttl = await redis.pttl(`${prefix}instance:w1`);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(1000);
    expect(await redis.smembers(`${prefix}instances`)).toEqual(['w1']);
    expect(JSON.parse((await redis.get(`${prefix}instance:w1`))!)).toMatchObject({ id: 'w1', warmModels: ['m/1'] });
  });

  it('announces joins, placement changes and leaves at once, without waiting for a poll', async () => {
    const prefix = uniquePrefix();
    const writer = open(prefix);
    const reader = open(prefix, { pollMs: 600_000 }); // a poll would come long after the test's timeout
    const seen: InstanceInfo[][] = [];
    await reader.watchInstances((set) => seen.push(set));
    const registration = await writer.register(instance('w1'), { heartbeatMs: 60_000, ttlMs: 180_000 });
    await eventually(() => expect(ids(reader.instances())).toEqual(['w1']));
    registration.update({ warmModels: ['m/1'] });
    await eventually(() => expect(reader.instances()[0]?.warmModels).toEqual(['m/1']));
    registration.update({ draining: true });
    await eventually(() => expect(reader.instances()[0]?.draining).toBe(true));
    await registration.deregister();
    await eventually(() => expect(reader.instances()).toEqual([]));
    expect(await redis.exists(`${prefix}instance:w1`)).toBe(0);
    expect(await redis.smembers(`${prefix}instances`)).toEqual([]);
    expect(seen.map((s) => s.map((i) => [i.id, i.warmModels.join(), i.draining]))).toEqual([
      [['w1', '', false]],
      [['w1', 'm/1', false]],
      [['w1', 'm/1', true]],
      [],
    ]);
  });

  it('sees an instance registered by another process within a poll, and drops it after its TTL once the process is killed', async () => {
    const prefix = uniquePrefix();
    const reader = open(prefix, { pollMs: 100 });
    await reader.watchInstances(() => undefined);
    const dir = await mkdtemp(join(tmpdir(), 'sibyl-coordination-'));
    // The child resolves workspace packages to their sources, as vitest does.
    await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { paths: { '@sibyl/*': [join(ROOT, 'packages/*/src/index.ts')] } } }));
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./instance-process.fixture.ts', import.meta.url)), REDIS_URL, prefix, 'doomed'], {
      cwd: ROOT,
      env: { ...process.env, TSX_TSCONFIG_PATH: join(dir, 'tsconfig.json') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const exited = new Promise((resolve) => child.once('exit', resolve));
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (c: Buffer) => c.toString().includes('registered') && resolve());
        child.once('exit', (code) => reject(new Error(`instance process exited (${code}):\n${stderr}`)));
      });
      await eventually(() => expect(ids(reader.instances())).toEqual(['doomed']), 5000);
      // It stays while it heartbeats: several TTLs later it is still there.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(ids(reader.instances())).toEqual(['doomed']);

      const killedAt = Date.now();
      child.kill('SIGKILL');
      await exited;
      await eventually(() => expect(reader.instances()).toEqual([]), 5000);
      // No one announced the leave: it went when its key expired (TTL 600 ms, last heartbeat at most 150 ms before the kill).
      expect(Date.now() - killedAt).toBeGreaterThanOrEqual(300);
      await eventually(async () => expect(await redis.smembers(`${prefix}instances`)).toEqual([]));
    } finally {
      child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  }, 20_000);

  it('removes a stale index member, but not one whose key came back', async () => {
    const prefix = uniquePrefix();
    await redis.sadd(`${prefix}instances`, 'ghost', 'w1');
    const writer = open(prefix);
    await writer.register(instance('w1'));
    const reader = open(prefix);
    await reader.watchInstances(() => undefined);
    await eventually(async () => expect(await redis.smembers(`${prefix}instances`)).toEqual(['w1']));
    expect(ids(reader.instances())).toEqual(['w1']);
  });

  it('ignores a key that does not hold an instance, and keeps the others', async () => {
    const prefix = uniquePrefix();
    await redis.set(`${prefix}instance:junk`, '{"id":"junk","pool":3}');
    await redis.sadd(`${prefix}instances`, 'junk');
    const writer = open(prefix);
    await writer.register(instance('w1'));
    const reader = open(prefix);
    await reader.watchInstances(() => undefined);
    await eventually(() => expect(ids(reader.instances())).toEqual(['w1']));
  });

  it('starts watching on the first instances() call', async () => {
    const prefix = uniquePrefix();
    const writer = open(prefix);
    await writer.register(instance('w1'));
    const reader = open(prefix);
    await eventually(() => expect(ids(reader.instances())).toEqual(['w1']));
  });

  it('keeps each prefix apart', async () => {
    const mine = uniquePrefix();
    const theirs = uniquePrefix();
    const writer = open(theirs);
    await writer.register(instance('theirs'));
    const heard: string[] = [];
    const reader = open(mine);
    await reader.subscribe('c', (m) => heard.push(m));
    await writer.publish('c', 'theirs');
    await open(mine).publish('c', 'mine');
    await eventually(() => expect(heard).toEqual(['mine']));
    await reader.watchInstances(() => undefined);
    expect(reader.instances()).toEqual([]);
  });

  it('refuses bad options, naming them', () => {
    const { logger } = captureLogger();
    const refuse = (options: Partial<RedisCoordinationOptions>) => () => createRedisCoordination({ url: REDIS_URL, logger, ...options });
    expect(refuse({ url: 'http://127.0.0.1:6379' })).toThrow(/url/);
    expect(refuse({ url: 'not a url' })).toThrow(/url/);
    expect(refuse({ pollMs: 0 })).toThrow(/pollMs/);
    expect(refuse({ keyPrefix: '' })).toThrow(/keyPrefix/);
    expect(refuse({ commandTimeoutMs: 1.5 })).toThrow(/commandTimeoutMs/);
  });

  it('never writes a heartbeat after the deregistration', async () => {
    const prefix = uniquePrefix();
    const writer = open(prefix);
    const registration = await writer.register(instance('w1'), { heartbeatMs: 10, ttlMs: 5000 });
    registration.update({ warmModels: ['m/1'] });
    registration.update({ load: 1 });
    await registration.deregister();
    await new Promise((resolve) => setTimeout(resolve, 100)); // ten heartbeat periods
    expect(await redis.exists(`${prefix}instance:w1`)).toBe(0);
    expect(await codeOf(writer.register(instance('w1')))).toBe('resolved');
  });
});
