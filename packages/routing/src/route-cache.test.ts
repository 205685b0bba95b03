import { afterEach, describe, expect, it } from 'vitest';
import { routerUnavailable, routeNoMatch } from './errors.js';
import { captureLogger, createMemoryRouter, manualClock, modelRoute, versionRoute, type MemoryRouter } from './memory-router.fixture.js';
import { createRouteCache, type RouteCache } from './route-cache.js';

const live1 = versionRoute('m', 1, ['a']);
const live2 = versionRoute('m', 2, ['b']);
const down = () => routerUnavailable('grpc://router:9000', 'connect ECONNREFUSED');

let cache: RouteCache | undefined;
afterEach(async () => {
  await cache?.close();
  cache = undefined;
});

function setup(options: { staleAfterMs?: number; errorTtlMs?: number } = {}) {
  const router = createMemoryRouter();
  router.set(modelRoute(live1), [live1, live2]);
  const clock = manualClock();
  const { logger, lines } = captureLogger();
  cache = createRouteCache({ router, logger, now: clock.now, ...options });
  return { router, clock, lines, cache };
}

/** Lets background router calls finish. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('route cache lookups', () => {
  it('asks the router once for concurrent misses, then answers from memory', async () => {
    const { router, cache } = setup();
    expect(cache.peekModel('m')).toBeUndefined();
    const [a, b, c] = await Promise.all([cache.model('m'), cache.model('m'), cache.model('m')]);
    expect(a.live?.version).toBe(1);
    expect(b).toBe(a);
    expect(c).toBe(a);
    expect(router.calls.resolveModel).toBe(1);
    expect(cache.peekModel('m')).toBe(a);
    expect(await cache.model('m')).toBe(a);
    expect(router.calls.resolveModel).toBe(1);
    expect(cache.stats()).toMatchObject({ misses: 3, hits: 2 });
  });

  it('caches version routes by model and version', async () => {
    const { router, cache } = setup();
    expect((await cache.version('m', 2)).targets[0]?.address).toBe('b');
    expect(cache.peekVersion('m', 2)?.version).toBe(2);
    expect(cache.peekVersion('m', 1)).toBeUndefined();
    await cache.version('m', 2);
    expect(router.calls.resolveVersion).toBe(1);
  });

  it('watches the router before its first call to it', async () => {
    const { router } = setup();
    expect(router.calls.watch).toBe(1);
    await settle();
    expect(router.watchers).toBe(1);
  });

  it('serves a route past staleAfterMs and re-resolves it in the background', async () => {
    const { router, cache, clock } = setup({ staleAfterMs: 30_000 });
    const first = await cache.model('m');
    router.set(modelRoute(live2));
    clock.advance(29_999);
    expect(cache.peekModel('m')).toBe(first);
    await settle();
    expect(router.calls.resolveModel).toBe(1);
    clock.advance(1);
    // Due: still answered from memory at once, and re-resolved behind it (once, however many ask).
    expect(cache.peekModel('m')).toBe(first);
    expect(await cache.model('m')).toBe(first);
    await settle();
    expect(router.calls.resolveModel).toBe(2);
    expect(cache.peekModel('m')?.live?.version).toBe(2);
    expect(cache.stats().refreshes).toBe(1);
  });

  it('refresh() re-resolves cached routes in the background', async () => {
    const { router, cache } = setup();
    await cache.model('m');
    await cache.version('m', 1);
    router.set(modelRoute(live2), [versionRoute('m', 1, ['c'])]);
    cache.refresh('m');
    cache.refresh('unknown');
    await settle();
    expect(router.calls).toMatchObject({ resolveModel: 2, resolveVersion: 2 });
    expect(cache.peekModel('m')?.live?.version).toBe(2);
    expect(cache.peekVersion('m', 1)?.targets[0]?.address).toBe('c');
  });
});

describe('route cache errors', () => {
  it('remembers a NOT_FOUND for errorTtlMs, then asks again', async () => {
    const { router, cache, clock } = setup({ errorTtlMs: 1000 });
    await expect(cache.model('nope')).rejects.toMatchObject({ code: 'SIBYL_REGISTRY_MODEL_NOT_FOUND', category: 'NOT_FOUND' });
    await expect(cache.model('nope')).rejects.toMatchObject({ code: 'SIBYL_REGISTRY_MODEL_NOT_FOUND' });
    expect(cache.peekModel('nope')).toBeUndefined();
    expect(router.calls.resolveModel).toBe(1);
    clock.advance(1000);
    await expect(cache.model('nope')).rejects.toMatchObject({ code: 'SIBYL_REGISTRY_MODEL_NOT_FOUND' });
    expect(router.calls.resolveModel).toBe(2);
  });

  it('drops a remembered error on invalidation', async () => {
    const { router, cache } = setup();
    await expect(cache.version('m', 7)).rejects.toMatchObject({ code: 'SIBYL_REGISTRY_VERSION_NOT_FOUND' });
    const v7 = versionRoute('m', 7, ['a']);
    router.set(modelRoute(live1), [v7]);
    router.invalidate({ model: 'm' });
    expect((await cache.version('m', 7)).version).toBe(7);
    expect(router.calls.resolveVersion).toBe(2);
  });

  it('does not remember an UNAVAILABLE answer', async () => {
    const { router, cache } = setup();
    router.failWith(down());
    await expect(cache.model('m')).rejects.toMatchObject({ code: 'SIBYL_ROUTER_UNAVAILABLE' });
    router.failWith(undefined);
    expect((await cache.model('m')).live?.version).toBe(1);
    expect(router.calls.resolveModel).toBe(2);
  });
});

describe('route cache invalidation', () => {
  it('drops one model on {model} and every model on {}', async () => {
    const { router, cache } = setup();
    const other = versionRoute('o', 1, ['z']);
    router.set(modelRoute(other));
    await cache.model('m');
    await cache.model('o');
    router.set(modelRoute(live2));
    router.invalidate({ model: 'm' });
    expect(cache.peekModel('m')).toBeUndefined();
    expect(cache.peekModel('o')).toBeDefined();
    expect((await cache.model('m')).live?.version).toBe(2);
    router.invalidate({});
    expect(cache.peekModel('m')).toBeUndefined();
    expect(cache.peekModel('o')).toBeUndefined();
    expect(cache.stats().invalidations).toBe(2);
  });

  it('does not cache an answer that was under way when the model was invalidated', async () => {
    const { router, cache } = setup();
    const release = hold(router);
    const before = cache.model('m');
    await settle();
    router.set(modelRoute(live2));
    router.invalidate({ model: 'm' });
    release();
    // The caller that asked before the change gets the answer it was waiting for...
    expect((await before).live).toBeDefined();
    // ...but it is not kept: the next lookup asks again and sees the change.
    expect(cache.peekModel('m')).toBeUndefined();
    expect((await cache.model('m')).live?.version).toBe(2);
  });
});

function hold(router: MemoryRouter): () => void {
  return router.hold();
}

describe('route cache degraded mode', () => {
  it('serves the route known before an invalidation while the router is down, warning once per model', async () => {
    const { router, cache, lines, clock } = setup({ errorTtlMs: 1000 });
    const known = await cache.model('m');
    await cache.version('m', 2);
    router.failWith(down());
    router.invalidate({});
    expect(await cache.model('m')).toBe(known);
    expect(cache.peekModel('m')).toBe(known);
    expect((await cache.version('m', 2)).version).toBe(2);
    // Asked again only errorTtlMs later, not on every request.
    const calls = router.calls.resolveModel;
    await cache.model('m');
    await settle();
    expect(router.calls.resolveModel).toBe(calls);
    clock.advance(1000);
    await cache.model('m');
    await settle();
    expect(router.calls.resolveModel).toBe(calls + 1);
    const warnings = lines().filter((l) => l.level === 'warn' && l.model === 'm');
    expect(warnings).toHaveLength(1);
    expect(cache.stats().staleServes).toBeGreaterThanOrEqual(4);
    // A model never cached has nothing to fall back on.
    await expect(cache.model('other')).rejects.toMatchObject({ code: 'SIBYL_ROUTER_UNAVAILABLE' });
    // Back up: the next re-resolution replaces the stale route.
    router.failWith(undefined);
    router.set(modelRoute(live2));
    clock.advance(1000);
    await cache.model('m');
    await settle();
    expect(cache.peekModel('m')?.live?.version).toBe(2);
    expect(lines().some((l) => l.level === 'info' && l.model === 'm')).toBe(true);
  });

  it('keeps a cached route whose background re-resolution finds the router down', async () => {
    const { router, cache, clock } = setup({ staleAfterMs: 100 });
    const known = await cache.model('m');
    router.failWith(down());
    clock.advance(100);
    expect(cache.peekModel('m')).toBe(known);
    await settle();
    expect(cache.peekModel('m')).toBe(known);
  });

  it('does not serve a stale route for an answer about the model (an UNAVAILABLE the router decided)', async () => {
    const { router, cache } = setup();
    await cache.model('m');
    router.failWith(routeNoMatch({ name: 'm', version: 1, platform: 'onnxruntime_onnx', algorithm: null, tenant: 'default', labels: {} }, 0));
    router.invalidate({ model: 'm' });
    await expect(cache.model('m')).rejects.toMatchObject({ code: 'SIBYL_ROUTE_NO_MATCH' });
  });

  it('knows it has routes while only a fallback is left', async () => {
    const { router, cache } = setup();
    expect(cache.hasRoutes()).toBe(false);
    await cache.model('m');
    router.invalidate({});
    expect(cache.peekModel('m')).toBeUndefined();
    expect(cache.hasRoutes()).toBe(true);
  });
});

describe('route cache lifecycle', () => {
  it('stops watching on close', async () => {
    const { router, cache } = setup();
    await settle();
    expect(router.watchers).toBe(1);
    await cache.close();
    await cache.close();
    expect(router.watchers).toBe(0);
  });

  it('rejects bad options', () => {
    const router = createMemoryRouter();
    const { logger } = captureLogger();
    expect(() => createRouteCache({ router, logger, staleAfterMs: 0 })).toThrow(/staleAfterMs/);
    expect(() => createRouteCache({ router, logger, errorTtlMs: -1 })).toThrow(/errorTtlMs/);
  });
});
