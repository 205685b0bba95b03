import { createServer } from 'node:net';
import { credentials, loadPackageDefinition, Metadata, status, type ServiceClientConstructor, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryCoordination, type Coordination } from '@sibyl/coordination';
import { HEALTH_PROTO, PROTOS_DIR, PROTO_LOADER_OPTIONS, SibylError } from '@sibyl/protocol';
import type { OpenedRegistry } from '@sibyl/registry';
import { createRouterClient, routerCallError } from './create-router-client.js';
import { createRouterServer, type RouterServer } from './create-router-server.js';
import { createRouter } from './create-router.js';
import type { RouteInvalidation } from './route.js';
import type { Router } from './router.js';
import { captureLogger, DB_BACKENDS, instance, openTestRegistry, readyVersion, settle, waitFor, type TestRegistry } from './test-support.fixture.js';

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function serviceError(code: number, details: string, trailers: Record<string, string> = {}): ServiceError {
  const metadata = new Metadata();
  for (const [k, v] of Object.entries(trailers)) metadata.set(k, v);
  return Object.assign(new Error(`${code} ${details}`), { code, details, metadata });
}

describe('routerCallError', () => {
  it('keeps the trailer code, with its own category when the status agrees', () => {
    const err = routerCallError(serviceError(status.RESOURCE_EXHAUSTED, 'too big', { 'sibyl-error-code': 'SIBYL_TOO_BIG_FOR_TEST' }), 'r:1');
    expect(err).toMatchObject({ code: 'SIBYL_TOO_BIG_FOR_TEST', category: 'RESOURCE_EXHAUSTED', message: 'too big' });
    const known = routerCallError(serviceError(status.UNAVAILABLE, 'no rule', { 'sibyl-error-code': 'SIBYL_ROUTE_NO_MATCH', 'retry-after': '2' }), 'r:1');
    expect(known).toMatchObject({ code: 'SIBYL_ROUTE_NO_MATCH', category: 'UNAVAILABLE', retryAfterSeconds: 2 });
    const conflict = routerCallError(serviceError(status.ALREADY_EXISTS, 'taken', { 'sibyl-error-code': 'SIBYL_REGISTRY_MODEL_EXISTS' }), 'r:1');
    expect(conflict.category).toBe('CONFLICT');
  });

  it('without a code: unreachable statuses are SIBYL_ROUTER_UNAVAILABLE, the rest SIBYL_ROUTER_FAILED', () => {
    expect(routerCallError(serviceError(status.UNAVAILABLE, 'No connection established'), 'r:1')).toMatchObject({
      code: 'SIBYL_ROUTER_UNAVAILABLE',
      category: 'UNAVAILABLE',
      message: expect.stringContaining('r:1'),
    });
    expect(routerCallError(serviceError(status.DEADLINE_EXCEEDED, 'deadline'), 'r:1').code).toBe('SIBYL_ROUTER_UNAVAILABLE');
    expect(routerCallError(serviceError(status.UNIMPLEMENTED, 'no such method'), 'r:1')).toMatchObject({ code: 'SIBYL_ROUTER_FAILED', category: 'INTERNAL' });
  });
});

describe('router gRPC server and client', () => {
  const backend = DB_BACKENDS[0]!;
  let db: TestRegistry;
  let registry: OpenedRegistry;
  let coordination: Coordination;
  let router: Router;
  let server: RouterServer;
  let client: Router;
  let port: number;
  const log = captureLogger();

  beforeAll(async () => {
    db = await openTestRegistry(backend);
    registry = db.registry;
    coordination = createMemoryCoordination();
    router = createRouter({ registry, coordination, logger: log.logger });
    server = createRouterServer({ router, logger: log.logger });
    port = await server.bind('127.0.0.1', 0);
    client = createRouterClient({ address: `127.0.0.1:${port}`, logger: log.logger, initialBackoffMs: 20, maxBackoffMs: 200 });
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    await server?.close(100);
    await router?.close();
    await coordination?.close();
    await db?.cleanup();
  });

  it('answers every method as the in-process router does', async () => {
    const v1 = await readyVersion(registry, 'wire', { config: { parameters: { placement_replicas: { string_value: '2' } } } });
    const v2 = await readyVersion(registry, 'wire');
    const v3 = await readyVersion(registry, 'wire');
    await registry.deploy('wire', v1);
    await registry.setTraffic('wire', { canaryVersion: v2, canaryWeight: 0.3, shadowVersion: v3 });
    await registry.setVersionState('wire', v3, 'failed', 'no memory');
    for (const id of ['a', 'b', 'c']) await coordination.register(instance(id, 'onnx', { load: id.charCodeAt(0) % 4 }));

    const local = await router.resolveModel('wire');
    const remote = await client.resolveModel('wire');
    expect(remote).toEqual({ ...local, generation: expect.any(Number) });
    expect(remote.generation).toBeGreaterThan(local.generation);
    expect(remote.canary).toMatchObject({ weight: 0.3, route: { version: v2 } });
    expect(remote.live!.replicas).toBe(2);
    expect(remote.live!.targets).toHaveLength(3);

    expect(await client.resolveVersion('wire', v3)).toEqual(await router.resolveVersion('wire', v3));
    expect(await client.index()).toEqual(await router.index());
    expect((await client.index()).find((e) => e.name === 'wire' && e.version === String(v3))).toEqual({
      name: 'wire',
      version: String(v3),
      state: 'UNAVAILABLE',
      reason: 'failed: no memory',
    });

    await readyVersion(registry, 'wire-dormant');
    expect(await client.resolveModel('wire-dormant')).toMatchObject({ live: null, canary: null, shadow: null });
  });

  it('keeps error codes and categories across the wire', async () => {
    const notFound = await client.resolveModel('missing-model').catch((e: unknown) => e);
    expect(notFound).toBeInstanceOf(SibylError);
    expect(notFound).toMatchObject({ code: 'SIBYL_REGISTRY_MODEL_NOT_FOUND', category: 'NOT_FOUND', message: "model 'missing-model' is not registered" });

    const v = await readyVersion(registry, 'wire-torch', { platform: 'pytorch_libtorch' });
    await expect(client.resolveVersion('wire-torch', v)).rejects.toMatchObject({
      code: 'SIBYL_ROUTE_NO_MATCH',
      category: 'UNAVAILABLE',
      message: expect.stringContaining("platform 'pytorch_libtorch'"),
    });

    const r1 = await readyVersion(registry, 'wire-retired');
    await readyVersion(registry, 'wire-retired');
    await registry.retireVersion('wire-retired', r1);
    await expect(client.resolveVersion('wire-retired', r1)).rejects.toMatchObject({ code: 'SIBYL_ROUTE_VERSION_RETIRED', category: 'NOT_FOUND' });
  });

  it('turns an unexpected failure into INTERNAL once, logged by the server', async () => {
    const broken: Router = {
      resolveModel: () => Promise.reject(new TypeError('boom')),
      resolveVersion: () => Promise.reject(new TypeError('boom')),
      index: () => Promise.reject(new TypeError('boom')),
      watch: () => Promise.reject(new TypeError('boom')),
      close: async () => {},
    };
    const brokenLog = captureLogger();
    const brokenServer = createRouterServer({ router: broken, logger: brokenLog.logger });
    const brokenPort = await brokenServer.bind('127.0.0.1', 0);
    const brokenClient = createRouterClient({ address: `grpc://127.0.0.1:${brokenPort}`, logger: brokenLog.logger });
    try {
      await expect(brokenClient.resolveModel('x')).rejects.toMatchObject({ code: 'SIBYL_INTERNAL', category: 'INTERNAL', message: 'internal error: boom' });
      await expect(brokenClient.watch(() => {})).rejects.toMatchObject({ code: 'SIBYL_INTERNAL' });
      expect(brokenLog.lines.filter((l) => l.level === 'error' && l.rpc === 'ResolveModel')).toHaveLength(1);
    } finally {
      await brokenClient.close();
      await brokenServer.close(100);
    }
  });

  it('serves grpc.health.v1 for the router service', async () => {
    const health = (
      loadPackageDefinition(loadSync(HEALTH_PROTO, { ...PROTO_LOADER_OPTIONS, includeDirs: [PROTOS_DIR] })) as unknown as {
        grpc: { health: { v1: { Health: ServiceClientConstructor } } };
      }
    ).grpc.health.v1.Health;
    const stub = new health(`127.0.0.1:${port}`, credentials.createInsecure()) as unknown as {
      Check(req: { service: string }, cb: (err: ServiceError | null, res?: { status: string }) => void): void;
      close(): void;
    };
    const check = (service: string) =>
      new Promise<{ status: string }>((resolve, reject) => stub.Check({ service }, (err, res) => (err ? reject(err) : resolve(res!))));
    try {
      expect(await check('')).toEqual({ status: 'SERVING' });
      expect(await check('sibyl.router.v1.Router')).toEqual({ status: 'SERVING' });
      const err = (await check('inference.GRPCInferenceService').catch((e: unknown) => e)) as ServiceError;
      expect(err.code).toBe(status.NOT_FOUND);
      expect(err.metadata.get('sibyl-error-code')).toEqual(['SIBYL_ROUTER_HEALTH_SERVICE_UNKNOWN']);
    } finally {
      stub.close();
    }
  });

  it('streams invalidations, and after the server restarts on the same port reconnects with a full invalidation', async () => {
    const v = await readyVersion(registry, 'watched');
    await registry.deploy('watched', v);
    const heard: RouteInvalidation[] = [];
    const stop = await client.watch((i) => heard.push(i));
    try {
      await settle(() => heard.length);
      heard.length = 0;
      await registry.updateModel('watched', { description: 'one' });
      await waitFor(() => heard.some((i) => i.model === 'watched'), 5000, 'the invalidation over gRPC');

      await server.close(100);
      await expect(client.resolveModel('watched')).rejects.toMatchObject({ code: 'SIBYL_ROUTER_UNAVAILABLE', category: 'UNAVAILABLE' });
      heard.length = 0;
      server = createRouterServer({ router, logger: log.logger });
      expect(await server.bind('127.0.0.1', port)).toBe(port);
      await waitFor(() => heard.some((i) => i.model === undefined), 10_000, 'the full invalidation after reconnecting');
      expect(log.lines.some((l) => l.msg.includes('watching the router again'))).toBe(true);

      heard.length = 0;
      await registry.updateModel('watched', { description: 'two' });
      await waitFor(() => heard.some((i) => i.model === 'watched'), 5000, 'an invalidation on the new stream');
      expect((await client.resolveModel('watched')).live!.version).toBe(v);
    } finally {
      stop();
    }
    // Stopped: no more deliveries.
    await settle(() => heard.length);
    heard.length = 0;
    await registry.updateModel('watched', { description: 'three' });
    await new Promise((r) => setTimeout(r, 300));
    expect(heard).toEqual([]);
  });

  it('a router that cannot be reached is SIBYL_ROUTER_UNAVAILABLE, for calls and for watch', async () => {
    const nowhere = createRouterClient({ address: `127.0.0.1:${await closedPort()}`, logger: log.logger, timeoutMs: 2000 });
    try {
      await expect(nowhere.resolveModel('m')).rejects.toMatchObject({ code: 'SIBYL_ROUTER_UNAVAILABLE', category: 'UNAVAILABLE' });
      await expect(nowhere.index()).rejects.toMatchObject({ code: 'SIBYL_ROUTER_UNAVAILABLE' });
      await expect(nowhere.watch(() => {})).rejects.toMatchObject({ code: 'SIBYL_ROUTER_UNAVAILABLE' });
    } finally {
      await nowhere.close();
    }
    await expect(nowhere.resolveModel('m')).rejects.toMatchObject({ code: 'SIBYL_ROUTER_UNAVAILABLE' });
  });
});
