import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHttpBackend, createInProcessBackend, type Backend } from '@sibyl/backends';
import { createMetrics } from '@sibyl/observability';
import type { InferContext, InferRequest, InferResponse } from '@sibyl/protocol';
import { createLocalInferenceService, type LocalInferenceService } from '@sibyl/runtime';
import { identityModel, writeModelRepository } from '@sibyl/testkit';
import { routerUnavailable } from './errors.js';
import { captureLogger, createMemoryRouter, manualClock, modelRoute, versionRoute, type MemoryRouter } from './memory-router.fixture.js';
import { createRoutedInferenceService, type RoutedInferenceService, type RoutedInferenceServiceOptions } from './routed-inference-service.js';
import type { ShadowResult } from './shadow-traffic.js';
import { splitPoint } from './traffic-split.js';

// Real parts end to end: each "instance" is the real runtime over a Triton-layout repository of ONNX
// identity models (versions 1-3 of 'm'; 't' runs on worker threads), reached through the real
// in-process or HTTP backends; only the router is an in-memory one whose routes each test sets.
// The same behind the real REST server, and a retry on an instance answering not ready over HTTP:
// apps/gateway/src/routed-rest.test.ts.

const EXTENSIONS = ['binary_tensor_data'];
const TENSOR = { name: 'INPUT0', datatype: 'FP32' as const, shape: [-1, 4] };
const INSTANCES = ['a', 'b', 'c'] as const;
const { logger } = captureLogger();
const metrics = createMetrics({ processMetrics: false });

let dir: string;
const services = new Map<string, LocalInferenceService>();
/** An HTTP address where nothing listens. */
let refusedUrl: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sibyl-routed-'));
  await writeModelRepository(dir, [
    { name: 'm', versions: { '1': identityModel('m', [TENSOR]), '2': identityModel('m', [TENSOR]), '3': identityModel('m', [TENSOR]) } },
    {
      name: 't',
      versions: { '1': identityModel('t', [TENSOR]), '2': identityModel('t', [TENSOR]) },
      config: { parameters: { execution_mode: { string_value: 'thread' } } },
    },
  ]);
  const open = async () => {
    const service = createLocalInferenceService({ repositories: [dir], logger, metrics, serverVersion: 'test', extensions: EXTENSIONS });
    await service.load();
    return service;
  };
  for (const name of INSTANCES) services.set(name, await open());
  refusedUrl = `http://127.0.0.1:${await freePort()}`;
}, 120_000);

afterAll(async () => {
  for (const service of services.values()) await service.close();
  await rm(dir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A Backend that counts the calls it forwards (the real one underneath does the work). */
interface Counted extends Backend {
  readonly calls: { infer: number; modelMetadata: number; modelReady: number };
}

function counted(backend: Backend): Counted {
  const calls = { infer: 0, modelMetadata: 0, modelReady: 0 };
  return {
    calls,
    target: backend.target,
    transport: backend.transport,
    get inflight() {
      return backend.inflight;
    },
    serverLive: () => backend.serverLive(),
    serverReady: () => backend.serverReady(),
    serverMetadata: () => backend.serverMetadata(),
    modelMetadata: (name, version) => (calls.modelMetadata++, backend.modelMetadata(name, version)),
    modelReady: (name, version) => (calls.modelReady++, backend.modelReady(name, version)),
    infer: (request, context) => (calls.infer++, backend.infer(request, context)),
    repositoryIndex: () => backend.repositoryIndex(),
    close: () => backend.close(),
  };
}

interface Setup {
  router: MemoryRouter;
  service: RoutedInferenceService;
  pool: Map<string, Counted>;
  calls: (address: string) => number;
}

let opened: Array<{ service: RoutedInferenceService; pool: Map<string, Counted> }> = [];
afterEach(async () => {
  for (const { service, pool } of opened) {
    await service.close();
    for (const [address, backend] of pool) if (address.startsWith('http')) await backend.close();
  }
  opened = [];
});

/** Addresses `a`, `b`, `c` are in-process instances; `refused` and `refused2` refuse connections. */
function setup(extra: Partial<RoutedInferenceServiceOptions> = {}): Setup {
  const router = createMemoryRouter();
  const pool = new Map<string, Counted>();
  for (const name of INSTANCES) pool.set(name, counted(createInProcessBackend(services.get(name)!)));
  pool.set('refused', counted(createHttpBackend({ url: refusedUrl })));
  pool.set('refused2', counted(createHttpBackend({ url: refusedUrl.replace('127.0.0.1', 'localhost') })));
  const service = createRoutedInferenceService({
    router,
    backends: {
      get(address) {
        const backend = pool.get(address);
        if (backend === undefined) throw new Error(`no backend ${address}`);
        return backend;
      },
    },
    logger,
    serverVersion: '9.9.9',
    extensions: EXTENSIONS,
    ...extra,
  });
  opened.push({ service, pool });
  return { router, service, pool, calls: (address) => pool.get(address)!.calls.infer };
}

const values = [1, 2, 3, 4];
function request(extra: Partial<InferRequest> = {}): InferRequest {
  return { modelName: 'm', inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [1, 4], data: new Float32Array(values) }], ...extra };
}

function outputOf(response: InferResponse): number[] {
  return Array.from(response.outputs[0]!.data as Float32Array);
}

const v = (version: number, addresses: string[], replicas?: number) => versionRoute('m', version, addresses, replicas);

describe('routing a request', () => {
  it('sends a request without a version to the live version, without changing the caller\'s request', async () => {
    const { router, service, calls } = setup();
    router.set(modelRoute(v(1, ['a'])));
    const req = request({ id: 'r1' });
    const response = await service.infer(req);
    expect(response).toMatchObject({ modelName: 'm', modelVersion: '1', id: 'r1' });
    expect(outputOf(response)).toEqual(values);
    expect(req.modelVersion).toBeUndefined();
    expect(calls('a')).toBe(1);
  });

  it('sends a request naming a version to exactly that version', async () => {
    const { router, service, calls } = setup();
    router.set(modelRoute(v(1, ['a'])), [v(2, ['b'])]);
    expect((await service.infer(request({ modelVersion: '2' }))).modelVersion).toBe('2');
    expect(calls('b')).toBe(1);
    expect(calls('a')).toBe(0);
  });

  it('refuses a route to a pool kind it has no client for (torchserve, pipeline) without sending it', async () => {
    const { router, service, calls } = setup();
    for (const kind of ['torchserve', 'pipeline'] as const) {
      router.set(modelRoute({ ...v(1, ['a']), pool: 'ts', kind }));
      router.invalidate({ model: 'm' });
      await expect(service.infer(request())).rejects.toMatchObject({ code: 'SIBYL_POOL_KIND_UNSUPPORTED', category: 'UNIMPLEMENTED' });
    }
    router.set(modelRoute({ ...v(1, ['a']), pool: 'triton', kind: 'triton' }));
    router.invalidate({ model: 'm' });
    await service.infer(request());
    expect(calls('a')).toBe(1);
  });

  it('refuses a version that is not a positive integer as the runtime does, without asking the router', async () => {
    const { router, service } = setup();
    router.set(modelRoute(v(1, ['a'])));
    for (const version of ['x', '01', '0', '-1', '1.5']) {
      await expect(service.infer(request({ modelVersion: version }))).rejects.toMatchObject({
        code: 'SIBYL_MODEL_VERSION_NOT_FOUND',
        category: 'NOT_FOUND',
        message: `unknown version '${version}' of model 'm': a version is a positive integer`,
      });
    }
    expect(router.calls.resolveVersion).toBe(0);
  });

  it('splits 20% to the canary over 2,000 request ids, the same id always to the same side', async () => {
    const { router, service } = setup();
    router.set(modelRoute(v(1, ['a']), { canary: { route: v(2, ['b']), weight: 0.2 } }));
    const side = new Map<string, string>();
    for (let i = 0; i < 2000; i++) {
      const id = `request-${i}`;
      side.set(id, (await service.infer(request({ id }))).modelVersion);
    }
    const canary = [...side.values()].filter((version) => version === '2').length;
    expect(canary).toBeGreaterThanOrEqual(340);
    expect(canary).toBeLessThanOrEqual(460);
    for (let i = 0; i < 2000; i += 97) {
      const id = `request-${i}`;
      expect((await service.infer(request({ id }))).modelVersion).toBe(side.get(id));
    }
  });

  it('splits by the routing key before the request id', async () => {
    const { router, service } = setup();
    router.set(modelRoute(v(1, ['a']), { canary: { route: v(2, ['b']), weight: 0.2 } }));
    const canaryKey = firstKey((k) => splitPoint(k) < 0.2);
    const liveKey = firstKey((k) => splitPoint(k) >= 0.2);
    const context = (routingKey: string): InferContext => ({ routingKey });
    expect((await service.infer(request({ id: liveKey }), context(canaryKey))).modelVersion).toBe('2');
    expect((await service.infer(request({ id: canaryKey }), context(liveKey))).modelVersion).toBe('1');
    expect((await service.infer(request({ id: canaryKey }))).modelVersion).toBe('2');
  });
});

function firstKey(test: (key: string) => boolean): string {
  for (let i = 0; ; i++) if (test(`key-${i}`)) return `key-${i}`;
}

describe('shadow traffic', () => {
  it('sends a copy to the shadow version and records its outcome', async () => {
    const results: ShadowResult[] = [];
    const { router, service, calls } = setup({ shadow: { onResult: (r) => results.push(r) } });
    router.set(modelRoute(v(1, ['a']), { shadow: v(3, ['c']) }));
    const response = await service.infer(request());
    expect(response.modelVersion).toBe('1');
    await service.close();
    expect(calls('c')).toBe(1);
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ model: 'm', version: 3, primaryVersion: 1, target: 'in-process', ok: true });
    expect(results[0]!.latencyMs).toBeGreaterThanOrEqual(0);
    expect(service.stats().shadow).toEqual({ sent: 1, succeeded: 1, failed: 0, dropped: 0 });
  });

  it('does not shadow a request that names a version', async () => {
    const { router, service, calls } = setup();
    router.set(modelRoute(v(1, ['a']), { shadow: v(3, ['c']) }), [v(1, ['a'])]);
    await service.infer(request({ modelVersion: '1' }));
    await service.close();
    expect(calls('c')).toBe(0);
  });

  it('gives the shadow its own inputs when the primary runs on worker threads (which detach them)', async () => {
    const results: ShadowResult[] = [];
    const { router, service } = setup({ shadow: { onResult: (r) => results.push(r) } });
    router.set(modelRoute(versionRoute('t', 1, ['a']), { shadow: versionRoute('t', 2, ['b']) }));
    const response = await service.infer(request({ modelName: 't' }));
    expect(response.modelVersion).toBe('1');
    expect(outputOf(response)).toEqual(values);
    await service.close();
    expect(results.map((r) => [r.version, r.ok, r.error?.message])).toEqual([[2, true, undefined]]);
  });

  it('never fails the primary because of the shadow', async () => {
    const results: ShadowResult[] = [];
    const { router, service } = setup({ shadow: { onResult: (r) => results.push(r) } });
    // The shadow instance is refusing connections, then the shadow pool is empty.
    router.set(modelRoute(v(1, ['a']), { shadow: v(3, ['refused']) }));
    expect(outputOf(await service.infer(request()))).toEqual(values);
    router.set(modelRoute(v(1, ['a']), { shadow: v(3, []) }));
    router.invalidate({ model: 'm' });
    expect(outputOf(await service.infer(request()))).toEqual(values);
    await service.close();
    expect(results.map((r) => [r.ok, r.error?.code]).sort()).toEqual([
      [false, 'SIBYL_BACKEND_UNREACHABLE'],
      [false, 'SIBYL_POOL_NO_INSTANCE'],
    ]);
    expect(service.stats().shadow).toMatchObject({ failed: 2, succeeded: 0 });
  });

  it('drops copies over the concurrency bound, and counts them', async () => {
    const { router, service, calls } = setup({ shadow: { maxConcurrent: 1 } });
    router.set(modelRoute(v(1, ['a']), { shadow: v(3, ['c']) }));
    await service.cache.model('m'); // warm: the calls below reach their backends without waiting
    const answers = await Promise.all([1, 2, 3, 4, 5].map(() => service.infer(request())));
    expect(answers.map((a) => a.modelVersion)).toEqual(['1', '1', '1', '1', '1']);
    await service.close();
    expect(calls('c')).toBe(1);
    expect(service.stats().shadow).toEqual({ sent: 1, succeeded: 1, failed: 0, dropped: 4 });
  });
});

describe('choosing an instance', () => {
  it('takes the least loaded of the home instances, ties in the router\'s order', async () => {
    const { router, service, calls } = setup();
    router.set(modelRoute(v(1, ['a', 'b', 'c'], 2)));
    await service.infer(request()); // warm: no await before the backend is called
    expect(calls('a')).toBe(1);
    // Issued together: a is busy with the first, so b takes the second; both busy, a (first) the third; c is not a home instance.
    await Promise.all([service.infer(request()), service.infer(request()), service.infer(request())]);
    expect([calls('a'), calls('b'), calls('c')]).toEqual([3, 1, 0]);
  });

  it('retries once, on the next instance, a request that did not reach its instance', async () => {
    const { router, service, calls } = setup();
    router.set(modelRoute(v(1, ['refused', 'a'], 1)));
    expect(outputOf(await service.infer(request()))).toEqual(values);
    expect([calls('refused'), calls('a')]).toEqual([1, 1]);
    expect(service.stats()).toMatchObject({ retried: 1, forwarded: 2 });
  });

  it('retries only once', async () => {
    const { router, service, calls } = setup();
    router.set(modelRoute(v(1, ['refused', 'refused2', 'a'], 2)));
    await expect(service.infer(request())).rejects.toMatchObject({ code: 'SIBYL_BACKEND_UNREACHABLE' });
    expect([calls('refused'), calls('refused2'), calls('a')]).toEqual([1, 1, 0]);
  });

  it('never retries a request its instance received', async () => {
    const { router, service, calls } = setup();
    router.set(modelRoute(v(1, ['a', 'b'])), [v(1, ['a', 'b'])]);
    const bad = request({ inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [1, 3], data: new Float32Array(3) }] });
    await expect(service.infer(bad)).rejects.toMatchObject({ category: 'INVALID_ARGUMENT' });
    // Version 3 of 't' does not exist on the instance: its NOT_FOUND is an answer, not a failed delivery.
    router.set(modelRoute(versionRoute('t', 3, ['a', 'b'])));
    await expect(service.infer(request({ modelName: 't' }))).rejects.toMatchObject({ code: 'SIBYL_MODEL_VERSION_NOT_FOUND' });
    expect([calls('a'), calls('b')]).toEqual([2, 0]);
    expect(service.stats().retried).toBe(0);
  });

  it('avoids an instance that failed for a while, then tries it again', async () => {
    const clock = manualClock();
    const { router, service, calls } = setup({ now: clock.now, suspectMs: 2000 });
    router.set(modelRoute(v(1, ['refused', 'a'], 2)));
    await service.infer(request());
    expect([calls('refused'), calls('a')]).toEqual([1, 1]);
    await service.infer(request());
    await service.infer(request());
    expect([calls('refused'), calls('a')]).toEqual([1, 3]);
    clock.advance(2000);
    await service.infer(request());
    expect([calls('refused'), calls('a')]).toEqual([2, 4]);
  });

  it('asks the router again after a failed delivery', async () => {
    const { router, service, calls } = setup();
    router.set(modelRoute(v(1, ['refused', 'a'], 1)));
    await service.infer(request());
    await new Promise((resolve) => setImmediate(resolve));
    // Once for the miss, once to refresh after the failure; a delivered request asks nothing more.
    expect(router.calls.resolveModel).toBe(2);
    await service.infer(request());
    await new Promise((resolve) => setImmediate(resolve));
    expect(router.calls.resolveModel).toBe(2);
    expect(calls('a')).toBe(2);
  });
});

describe('route changes and a router that is down', () => {
  it('picks up a new route on invalidation', async () => {
    const { router, service } = setup();
    router.set(modelRoute(v(1, ['a'])));
    expect((await service.infer(request())).modelVersion).toBe('1');
    router.set(modelRoute(v(2, ['b'])));
    expect((await service.infer(request())).modelVersion).toBe('1');
    router.invalidate({ model: 'm' });
    expect((await service.infer(request())).modelVersion).toBe('2');
  });

  it('keeps serving the last known route when the router is down after an invalidation', async () => {
    const { router, service, calls } = setup();
    router.set(modelRoute(v(1, ['a'])));
    await service.infer(request());
    router.failWith(routerUnavailable('grpc://router:9000', 'connect ECONNREFUSED'));
    router.invalidate({});
    expect((await service.infer(request())).modelVersion).toBe('1');
    expect((await service.infer(request())).modelVersion).toBe('1');
    expect(calls('a')).toBe(3);
    expect(service.stats().cache.staleServes).toBeGreaterThanOrEqual(2);
    expect(await service.serverReady()).toBe(true);
    await expect(service.infer(request({ modelName: 'never-seen' }))).rejects.toMatchObject({ code: 'SIBYL_ROUTER_UNAVAILABLE', category: 'UNAVAILABLE' });
  });
});

describe('errors', () => {
  it('passes on the router\'s and the backend\'s errors with their codes', async () => {
    const { router, service } = setup();
    await expect(service.infer(request({ modelName: 'nope' }))).rejects.toMatchObject({ code: 'SIBYL_REGISTRY_MODEL_NOT_FOUND', category: 'NOT_FOUND' });
    router.set(modelRoute(v(1, ['a'])));
    await expect(service.infer(request({ modelVersion: '9' }))).rejects.toMatchObject({ code: 'SIBYL_REGISTRY_VERSION_NOT_FOUND' });
    router.set(modelRoute(null, { model: 'idle' }));
    await expect(service.infer(request({ modelName: 'idle' }))).rejects.toMatchObject({ code: 'SIBYL_ROUTE_MODEL_NOT_LIVE', category: 'UNAVAILABLE' });
    router.set(modelRoute(versionRoute('empty', 1, [])));
    const err = await service.infer(request({ modelName: 'empty' })).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SIBYL_POOL_NO_INSTANCE', category: 'UNAVAILABLE', httpStatus: 503 });
    expect((err as Error).message).toBe("backend pool 'default' has no live instance to serve model 'empty' version 1");
    expect(service.stats().noInstance).toBe(1);
  });
});

describe('metadata, readiness and the server calls', () => {
  it('routes model metadata and readiness like an inference', async () => {
    const { router, service, pool } = setup();
    router.set(modelRoute(v(2, ['b'])), [v(3, ['c'])]);
    expect(await service.modelMetadata('m')).toMatchObject({ name: 'm', inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [-1, 4] }] });
    expect(pool.get('b')!.calls.modelMetadata).toBe(1);
    expect(await service.modelReady('m', '3')).toBe(true);
    expect(pool.get('c')!.calls.modelReady).toBe(1);
    router.set(modelRoute(null, { model: 'idle' }));
    expect(await service.modelReady('idle')).toBe(false);
    await expect(service.modelMetadata('idle')).rejects.toMatchObject({ code: 'SIBYL_ROUTE_MODEL_NOT_LIVE' });
    router.set(modelRoute(versionRoute('empty', 1, [])));
    expect(await service.modelReady('empty')).toBe(false);
    await expect(service.modelReady('nope')).rejects.toMatchObject({ category: 'NOT_FOUND' });
  });

  it('answers the server calls itself, and the repository index from the router', async () => {
    const { router, service } = setup();
    expect(await service.serverMetadata()).toEqual({ name: 'sibyl', version: '9.9.9', extensions: [...EXTENSIONS] });
    expect(await service.serverLive()).toBe(true);
    expect(await service.serverReady()).toBe(true);
    router.set(modelRoute(v(1, ['a'])), [v(1, ['a'])]);
    expect(await service.repositoryIndex()).toEqual([{ name: 'm', version: '1', state: 'READY', reason: '' }]);
    router.failWith(routerUnavailable('grpc://router:9000', 'down'));
    expect(await service.serverReady()).toBe(false);
    await service.close();
    expect(await service.serverLive()).toBe(false);
  });

  it('takes a readiness hook from the app', async () => {
    let ready = false;
    const { service } = setup({ ready: async () => ready });
    expect(await service.serverReady()).toBe(false);
    ready = true;
    expect(await service.serverReady()).toBe(true);
  });
});
