import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryCoordination, createRedisCoordination, type Coordination } from '@sibyl/coordination';
import { createMetrics } from '@sibyl/observability';
import type { OpenedRegistry } from '@sibyl/registry';
import { createRouter, type CreateRouterOptions, type RouterRegistry } from './create-router.js';
import { rendezvousOrder } from './rendezvous.js';
import type { RouteInvalidation } from './route.js';
import type { Router } from './router.js';
import {
  captureLogger,
  DB_BACKENDS,
  instance,
  openTestRegistry,
  readyVersion,
  REDIS_URL,
  settle,
  waitFor,
  type TestRegistry,
} from './test-support.fixture.js';

/** A router and a recorder of what its watchers hear. */
async function startRouter(options: CreateRouterOptions) {
  const router = createRouter(options);
  const heard: Array<RouteInvalidation & { at: number }> = [];
  await router.watch((i) => heard.push({ ...i, at: performance.now() }));
  return { router, heard };
}

for (const backend of DB_BACKENDS) {
  describe.skipIf(!backend.available)(`createRouter over the registry [${backend.name}] and memory coordination`, () => {
    let db: TestRegistry;
    let registry: OpenedRegistry;
    let coordination: Coordination;
    let router: Router;
    let heard: Array<RouteInvalidation & { at: number }>;
    let log: ReturnType<typeof captureLogger>;
    let defaultOnnxRule: number;

    beforeAll(async () => {
      db = await openTestRegistry(backend);
      registry = db.registry;
      defaultOnnxRule = (await registry.listRules()).find((r) => r.pool === 'onnx')!.id;
    }, 60_000);
    afterAll(async () => {
      await db.cleanup();
    });

    beforeEach(async () => {
      coordination = createMemoryCoordination();
      log = captureLogger();
      ({ router, heard } = await startRouter({ registry, coordination, logger: log.logger }));
    });
    afterEach(async () => {
      await router.close();
      await coordination.close();
    });

    const heardFor = (model: string) => heard.filter((i) => i.model === model || i.model === undefined).length;

    it('default rules route an ONNX version to pool onnx, live instances in rendezvous order', async () => {
      const v = await readyVersion(registry, 'iris');
      await registry.deploy('iris', v);
      for (const id of ['w-a', 'w-b', 'w-c']) await coordination.register(instance(id, 'onnx', { load: 3 }));
      await coordination.register(instance('w-draining', 'onnx', { draining: true }));
      await coordination.register(instance('tf-1', 'tf'));

      const route = await router.resolveModel('iris');
      expect(route.model).toBe('iris');
      expect(route.canary).toBeNull();
      expect(route.shadow).toBeNull();
      expect(route.generation).toBeGreaterThan(0);
      const ring = rendezvousOrder(['w-a', 'w-b', 'w-c'], `iris/${v}`);
      expect(route.live).toEqual({
        model: 'iris',
        version: v,
        pool: 'onnx',
        kind: 'sibyl-onnx',
        ruleId: defaultOnnxRule,
        replicas: 1,
        targets: ring.map((id) => ({ id, address: `http://${id}.test:8000`, load: 3 })),
      });
      const again = await router.resolveModel('iris');
      expect(again.generation).toBeGreaterThan(route.generation);
    });

    it('placement_replicas home instances come least-loaded first', async () => {
      const v = await readyVersion(registry, 'replicated', { config: { parameters: { placement_replicas: { string_value: '2' } } } });
      const loads: Record<string, number> = { r1: 5, r2: 1, r3: 9, r4: 0 };
      for (const [id, load] of Object.entries(loads)) await coordination.register(instance(id, 'onnx', { load }));
      const route = await router.resolveVersion('replicated', v);
      const ring = rendezvousOrder(Object.keys(loads), `replicated/${v}`);
      const home = ring.slice(0, 2).sort((a, b) => loads[a]! - loads[b]!);
      expect(route.replicas).toBe(2);
      expect(route.targets.map((t) => t.id)).toEqual([...home, ...ring.slice(2)]);
    });

    it('a higher-priority rule to another pool is seen after its invalidation, which arrives within 1 s', async () => {
      const v = await readyVersion(registry, 'moved');
      await registry.deploy('moved', v);
      await coordination.register(instance('w-1', 'onnx'));
      expect((await router.resolveModel('moved')).live!.pool).toBe('onnx');
      await registry.createPool({ name: 'triton-a', kind: 'triton', endpoints: ['http://triton-1:8000', 'http://triton-2:8000'] });
      await settle(() => heard.length);

      const before = heard.length;
      const started = performance.now();
      const rule = await registry.createRule({ priority: 1, pool: 'triton-a', match: { name: 'moved' } });
      await waitFor(() => heard.length > before, 5000, 'the invalidation of the new rule');
      expect(heard[before]!.at - started).toBeLessThan(1000);

      const route = await router.resolveModel('moved');
      expect(route.live).toMatchObject({ pool: 'triton-a', kind: 'triton', ruleId: rule.id, replicas: 2 });
      expect(route.live!.targets.map((t) => t.id).sort()).toEqual(['endpoint:http://triton-1:8000', 'endpoint:http://triton-2:8000']);
      expect(route.live!.targets.every((t) => t.address === t.id.slice('endpoint:'.length) && t.load === 0)).toBe(true);
      await registry.deleteRule(rule.id);
    });

    it('routes a canary with its weight and a shadow, and sees traffic changes', async () => {
      const v1 = await readyVersion(registry, 'split');
      const v2 = await readyVersion(registry, 'split');
      const v3 = await readyVersion(registry, 'split');
      await registry.deploy('split', v1);
      await coordination.register(instance('w-1', 'onnx'));
      expect(await router.resolveModel('split')).toMatchObject({ live: { version: v1 }, canary: null, shadow: null });
      await settle(() => heard.length);

      const before = heardFor('split');
      await registry.setTraffic('split', { canaryVersion: v2, canaryWeight: 0.25, shadowVersion: v3 });
      await waitFor(() => heardFor('split') > before, 5000, 'the traffic invalidation');
      const route = await router.resolveModel('split');
      expect(route.live).toMatchObject({ version: v1, pool: 'onnx' });
      expect(route.canary).toMatchObject({ weight: 0.25, route: { version: v2, pool: 'onnx', targets: [{ id: 'w-1' }] } });
      expect(route.shadow).toMatchObject({ version: v3, pool: 'onnx' });
    });

    it('routes explicit versions; retired, unknown versions and models are NOT_FOUND', async () => {
      const v1 = await readyVersion(registry, 'explicit');
      const v2 = await readyVersion(registry, 'explicit');
      await registry.deploy('explicit', v2);
      await coordination.register(instance('w-1', 'onnx'));
      expect(await router.resolveVersion('explicit', v1)).toMatchObject({ model: 'explicit', version: v1, pool: 'onnx', targets: [{ id: 'w-1' }] });
      await settle(() => heard.length);
      const count = heardFor('explicit');
      await registry.retireVersion('explicit', v1);
      await waitFor(() => heardFor('explicit') > count, 5000, 'the retire invalidation');
      await expect(router.resolveVersion('explicit', v1)).rejects.toMatchObject({
        code: 'SIBYL_ROUTE_VERSION_RETIRED',
        category: 'NOT_FOUND',
        message: expect.stringContaining('retired'),
      });
      await expect(router.resolveVersion('explicit', 99)).rejects.toMatchObject({ code: 'SIBYL_REGISTRY_VERSION_NOT_FOUND' });
      await expect(router.resolveModel('no-such-model')).rejects.toMatchObject({ code: 'SIBYL_REGISTRY_MODEL_NOT_FOUND', category: 'NOT_FOUND' });
      await expect(router.resolveVersion('no-such-model', 1)).rejects.toMatchObject({ category: 'NOT_FOUND' });
    });

    it('an instance that leaves moves its models to the next instance on the ring', async () => {
      const v = await readyVersion(registry, 'ring');
      await registry.deploy('ring', v);
      const registrations = new Map<string, Awaited<ReturnType<Coordination['register']>>>();
      for (const id of ['n1', 'n2', 'n3', 'n4']) registrations.set(id, await coordination.register(instance(id, 'onnx')));
      const before = (await router.resolveModel('ring')).live!.targets.map((t) => t.id);
      await settle(() => heard.length);

      const count = heardFor('ring');
      await registrations.get(before[0]!)!.deregister();
      await waitFor(() => heardFor('ring') > count, 5000, 'the placement invalidation');
      const after = (await router.resolveModel('ring')).live!.targets.map((t) => t.id);
      expect(after).toEqual(before.slice(1));

      // Draining counts as leaving, too.
      const count2 = heardFor('ring');
      registrations.get(after[0]!)!.update({ draining: true });
      await waitFor(() => heardFor('ring') > count2, 5000, 'the draining invalidation');
      expect((await router.resolveModel('ring')).live!.targets.map((t) => t.id)).toEqual(before.slice(2));
    });

    it('a version no rule matches is SIBYL_ROUTE_NO_MATCH naming its metadata', async () => {
      const v = await readyVersion(registry, 'torchy', { platform: 'pytorch_libtorch' });
      const err = await router.resolveVersion('torchy', v).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'SIBYL_ROUTE_NO_MATCH', category: 'UNAVAILABLE' });
      expect((err as Error).message).toContain("model 'torchy'");
      expect((err as Error).message).toContain("platform 'pytorch_libtorch'");
    });

    it('a model with nothing live has live null', async () => {
      await readyVersion(registry, 'dormant');
      expect(await router.resolveModel('dormant')).toMatchObject({ model: 'dormant', live: null, canary: null, shadow: null });
    });

    it('index() lists every model and version with Triton-like states', async () => {
      const v1 = await readyVersion(registry, 'indexed');
      const v2 = await readyVersion(registry, 'indexed');
      await registry.setVersionState('indexed', v2, 'failed', 'bad opset');
      await registry.createModel({ name: 'indexed-empty' });
      const index = await router.index();
      expect(index.filter((e) => e.name === 'indexed')).toEqual([
        { name: 'indexed', version: String(v1), state: 'READY', reason: '' },
        { name: 'indexed', version: String(v2), state: 'UNAVAILABLE', reason: 'failed: bad opset' },
      ]);
      expect(index.filter((e) => e.name === 'indexed-empty')).toEqual([
        { name: 'indexed-empty', state: 'UNAVAILABLE', reason: 'the model has no versions' },
      ]);
    });

    it('with a transport of grpc, targets are the instances gRPC listeners', async () => {
      const v = await readyVersion(registry, 'over-grpc');
      await coordination.register(instance('g-1', 'onnx'));
      const grpcRouter = createRouter({ registry, coordination, logger: log.logger, transport: 'grpc' });
      try {
        expect((await grpcRouter.resolveVersion('over-grpc', v)).targets).toEqual([{ id: 'g-1', address: 'grpc://g-1.test:8001', load: 0 }]);
      } finally {
        await grpcRouter.close();
      }
    });

    it('an in-process pool routes to the in-process target whatever coordination holds', async () => {
      const v = await readyVersion(registry, 'embedded');
      await coordination.register(instance('w-1', 'onnx'));
      const embedded = createRouter({ registry, coordination, logger: log.logger, inProcess: { pools: { onnx: 'in-process' } } });
      try {
        expect(await embedded.resolveVersion('embedded', v)).toMatchObject({
          pool: 'onnx',
          replicas: 1,
          targets: [{ id: 'in-process', address: 'in-process', load: 0 }],
        });
      } finally {
        await embedded.close();
      }
    });

    it('serves the cached route while the registry cannot be read, warning once', async () => {
      const v = await readyVersion(registry, 'resilient');
      await registry.deploy('resilient', v);
      await coordination.register(instance('w-1', 'onnx'));
      let down = false;
      // The router's view of the registry fails like a lost database; writes go through the real one.
      const flaky = new Proxy(registry, {
        get(target, prop, receiver) {
          const value = Reflect.get(target, prop, receiver);
          if (typeof value !== 'function' || prop === 'subscribe') return value;
          return (...args: unknown[]) => (down ? Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432')) : value.apply(target, args));
        },
      }) as RouterRegistry;
      const degraded = await startRouter({ registry: flaky, coordination, logger: log.logger });
      try {
        await settle(() => degraded.heard.length);
        const fresh = await degraded.router.resolveModel('resilient');
        await settle(() => degraded.heard.length);
        const count = degraded.heard.length;
        down = true;
        await registry.updateModel('resilient', { description: 'changed' });
        await waitFor(() => degraded.heard.slice(count).some((i) => i.model === 'resilient'), 5000, 'the invalidation');
        const stale = await degraded.router.resolveModel('resilient');
        expect(stale.live).toEqual(fresh.live);
        await degraded.router.resolveModel('resilient');
        expect(log.lines.filter((l) => l.level === 'warn' && l.msg.includes('registry cannot be read'))).toHaveLength(1);
        await expect(degraded.router.resolveModel('never-cached')).rejects.toMatchObject({ code: 'SIBYL_ROUTE_REGISTRY_UNAVAILABLE', category: 'UNAVAILABLE' });
        down = false;
        await degraded.router.resolveModel('resilient');
        expect(log.lines.some((l) => l.level === 'info' && l.msg.includes('registry answers again'))).toBe(true);
      } finally {
        await degraded.router.close();
      }
    });

    it('counts and times resolutions when given metrics', async () => {
      const v = await readyVersion(registry, 'measured');
      const metrics = createMetrics({ processMetrics: false });
      const measured = createRouter({ registry, coordination, logger: log.logger, metrics });
      try {
        await measured.resolveVersion('measured', v);
        await measured.resolveModel('measured');
        await expect(measured.resolveModel('nothing-here')).rejects.toThrow();
        const text = await metrics.registry.metrics();
        expect(text).toContain('sibyl_route_resolutions_total{kind="version",outcome="ok"} 1');
        expect(text).toContain('sibyl_route_resolutions_total{kind="model",outcome="ok"} 1');
        expect(text).toContain('sibyl_route_resolutions_total{kind="model",outcome="error"} 1');
        expect(text).toContain('sibyl_route_resolution_duration_seconds_count{kind="model"} 2');
      } finally {
        await measured.close();
      }
    });
  });
}

describe.skipIf(REDIS_URL === '')('createRouter with Redis coordination', () => {
  let db: TestRegistry;
  let registry: OpenedRegistry;
  const keyPrefix = `sibyl-routing-test-${process.pid}-${Date.now().toString(36)}:`;

  beforeAll(async () => {
    db = await openTestRegistry(DB_BACKENDS[0]!);
    registry = db.registry;
  }, 60_000);
  afterAll(async () => {
    await db.cleanup();
  });

  it('routes to instances other processes registered, and moves models when one leaves', async () => {
    const { logger } = captureLogger();
    const workers = createRedisCoordination({ url: REDIS_URL, logger, keyPrefix });
    const routerSide = createRedisCoordination({ url: REDIS_URL, logger, keyPrefix, pollMs: 100 });
    const { router, heard } = await startRouter({ registry, coordination: routerSide, logger });
    try {
      const v = await readyVersion(registry, 'redis-routed');
      await registry.deploy('redis-routed', v);
      const regs = [];
      for (const id of ['x1', 'x2', 'x3']) regs.push(await workers.register(instance(id, 'onnx'), { heartbeatMs: 100, ttlMs: 1000 }));
      await waitFor(() => routerSide.instances('onnx').length === 3, 5000, 'the instances in the router');
      const before = (await router.resolveModel('redis-routed')).live!.targets.map((t) => t.id);
      expect(before).toEqual(rendezvousOrder(['x1', 'x2', 'x3'], `redis-routed/${v}`));

      const count = heard.filter((i) => i.model === 'redis-routed').length;
      await regs.find((r) => r.id === before[0])!.deregister();
      await waitFor(() => heard.filter((i) => i.model === 'redis-routed').length > count, 5000, 'the placement invalidation');
      expect((await router.resolveModel('redis-routed')).live!.targets.map((t) => t.id)).toEqual(before.slice(1));
    } finally {
      await router.close();
      await workers.close();
      await routerSide.close();
    }
  });
});
