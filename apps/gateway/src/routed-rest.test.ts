import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpBackend, createInProcessBackend, type Backend } from '@sibyl/backends';
import { createMetrics } from '@sibyl/observability';
import { SibylError } from '@sibyl/protocol';
import { createRoutedInferenceService, splitPoint, type ModelRoute, type RoutedInferenceService, type Router, type VersionRoute } from '@sibyl/routing';
import { createLocalInferenceService, type LocalInferenceService } from '@sibyl/runtime';
import { identityModel, writeModelRepository } from '@sibyl/testkit';
import { ROUTING_KEY_HEADER } from './edge-context.js';
import { captureLogger } from './fake-inference-service.fixture.js';
import { createRestServer } from './rest-server.js';
import { SERVER_EXTENSIONS } from './server-extensions.js';

// The gateway as split mode runs it, over real sockets: the REST server in front of the routed data
// plane, which forwards to real runtimes (in-process, and one over HTTP behind another REST server).
// Only the router is a fixed table here; the real one is tested in packages/routing.

const TENSOR = { name: 'INPUT0', datatype: 'FP32' as const, shape: [-1, 4] };
const { logger } = captureLogger();
const metrics = createMetrics({ processMetrics: false });
const values = [1, 2, 3, 4];

let dir: string;
let live: LocalInferenceService;
let closed: LocalInferenceService;
let closedRest: FastifyInstance;
let closedBackend: Backend;
let liveRest: FastifyInstance;
let liveBackend: Backend;
let liveBase: string;
let routed: RoutedInferenceService;
let gateway: FastifyInstance;
let base: string;
const calls = new Map<string, number>();

function route(version: number, addresses: string[]): VersionRoute {
  return {
    model: 'm',
    version,
    pool: 'default',
    kind: 'sibyl-onnx',
    ruleId: 1,
    replicas: 1,
    targets: addresses.map((address) => ({ id: address, address, load: 0 })),
  };
}

// The closed instance comes first in both versions' routes: every request first meets an instance
// that answers "not ready" over HTTP, and is retried on the live one.
const MODEL: ModelRoute = {
  model: 'm',
  live: route(1, ['closed', 'live']),
  canary: { route: route(2, ['closed', 'live']), weight: 0.2 },
  shadow: null,
  generation: 1,
};

// Model `p`: a worker over REST (the live runtime behind its own REST server), after the closed one
// (under an address of its own, so that the other tests' retries do not make it suspect).
// Without a traffic split or shadow, its REST requests pass through the gateway undecoded.
const PASSED: ModelRoute = { model: 'p', live: { ...route(1, ['closed-p', 'live-http']), model: 'p' }, canary: null, shadow: null, generation: 1 };

const router: Router = {
  async resolveModel(model) {
    if (model === 'p') return PASSED;
    if (model !== 'm') throw new SibylError('SIBYL_REGISTRY_MODEL_NOT_FOUND', 'NOT_FOUND', `model '${model}' is not registered`);
    return MODEL;
  },
  async resolveVersion(model, version) {
    if (model === 'p' && version === 1) return PASSED.live!;
    if (model !== 'm' || version > 2) throw new SibylError('SIBYL_REGISTRY_VERSION_NOT_FOUND', 'NOT_FOUND', `model '${model}' has no version ${version}`);
    return route(version, ['closed', 'live']);
  },
  async index() {
    return [];
  },
  async watch() {
    return () => undefined;
  },
  async close() {},
};

function counting(name: string, backend: Backend): Backend {
  const count = () => calls.set(name, (calls.get(name) ?? 0) + 1);
  const forward = backend.forwardRestInfer;
  return Object.create(backend, {
    infer: {
      value: (...args: Parameters<Backend['infer']>) => {
        count();
        return backend.infer(...args);
      },
    },
    forwardRestInfer: {
      value:
        forward === undefined
          ? undefined
          : (...args: Parameters<NonNullable<Backend['forwardRestInfer']>>) => {
              count();
              calls.set(`${name}:passed`, (calls.get(`${name}:passed`) ?? 0) + 1);
              return forward.apply(backend, args);
            },
    },
  }) as Backend;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sibyl-gateway-routed-'));
  await writeModelRepository(dir, [
    { name: 'm', versions: { '1': identityModel('m', [TENSOR]), '2': identityModel('m', [TENSOR]) } },
    { name: 'p', versions: { '1': identityModel('p', [TENSOR]) } },
  ]);
  const open = async () => {
    const service = createLocalInferenceService({ repositories: [dir], logger, metrics, serverVersion: 'test', extensions: SERVER_EXTENSIONS });
    await service.load();
    return service;
  };
  live = await open();
  closed = await open();
  await closed.close();
  closedRest = createRestServer({ service: closed, logger });
  await closedRest.listen({ host: '127.0.0.1', port: 0 });
  closedBackend = createHttpBackend({ url: `http://127.0.0.1:${(closedRest.server.address() as AddressInfo).port}` });
  liveRest = createRestServer({ service: live, logger });
  await liveRest.listen({ host: '127.0.0.1', port: 0 });
  liveBase = `http://127.0.0.1:${(liveRest.server.address() as AddressInfo).port}`;
  liveBackend = createHttpBackend({ url: liveBase });
  const pool = new Map<string, Backend>([
    ['live', counting('live', createInProcessBackend(live))],
    ['live-http', counting('live-http', liveBackend)],
    ['closed', counting('closed', closedBackend)],
    ['closed-p', counting('closed-p', closedBackend)],
  ]);
  routed = createRoutedInferenceService({
    router,
    backends: { get: (address) => pool.get(address)! },
    logger,
    serverVersion: '1.2.3',
    extensions: SERVER_EXTENSIONS,
  });
  gateway = createRestServer({ service: routed, logger });
  await gateway.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(gateway.server.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await routed?.close();
  await closedBackend?.close();
  await closedRest?.close();
  await liveBackend?.close();
  await liveRest?.close();
  await live?.close();
  await rm(dir, { recursive: true, force: true });
});

function keyWhere(test: (point: number) => boolean): string {
  for (let i = 0; ; i++) if (test(splitPoint(`key-${i}`))) return `key-${i}`;
}

describe('the REST server over the routed data plane', () => {
  it('answers a request end to end: split by x-sibyl-routing-key, retried past an instance that is not ready', async () => {
    const res = await fetch(`${base}/v2/models/m/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [ROUTING_KEY_HEADER]: keyWhere((p) => p < 0.2) },
      // The request id alone would take the live side: the header decides.
      body: JSON.stringify({ id: keyWhere((p) => p >= 0.2), inputs: [{ name: 'INPUT0', shape: [1, 4], datatype: 'FP32', data: values }] }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ model_name: 'm', model_version: '2', outputs: [{ name: 'INPUT0_out', shape: [1, 4], data: values }] });
    // The closed instance is a REST worker: the request went to it undecoded, failed as not
    // delivered, and the in-process instance took it decoded.
    expect([calls.get('closed'), calls.get('closed:passed'), calls.get('live')]).toEqual([1, 1, 1]);
    expect(routed.stats()).toMatchObject({ retried: 1 });
  });

  it('passes a REST request through to the first instance, and retries it undecoded on the next when not delivered', async () => {
    const retried = routed.stats().retried;
    const res = await fetch(`${base}/v2/models/p/versions/1/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [{ name: 'INPUT0', shape: [1, 4], datatype: 'FP32', data: values }] }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ model_name: 'p', model_version: '1', outputs: [{ name: 'INPUT0_out', data: values }] });
    expect([calls.get('closed-p:passed'), calls.get('live-http:passed'), calls.get('closed-p'), calls.get('live-http')]).toEqual([1, 1, 1, 1]);
    expect(routed.stats().retried).toBe(retried + 1);
  });

  it('passes a REST request to a Sibyl worker undecoded, JSON or binary, and relays its answer byte for byte', async () => {
    const before = routed.stats().passedThrough;
    const json = JSON.stringify({ id: 'j', inputs: [{ name: 'INPUT0', shape: [1, 4], datatype: 'FP32', data: values }] });
    const header = Buffer.from(JSON.stringify({ id: 'b', inputs: [{ name: 'INPUT0', shape: [1, 4], datatype: 'FP32', parameters: { binary_data_size: 16 } }], parameters: { binary_data_output: true } }));
    const binary = Buffer.concat([header, Buffer.from(Float32Array.from(values).buffer)]);
    const requests = [
      { headers: { 'content-type': 'application/json' }, body: json },
      { headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) }, body: binary },
    ];
    for (const { headers, body } of requests) {
      const [through, direct] = await Promise.all([base, liveBase].map((b) => fetch(`${b}/v2/models/p/versions/1/infer`, { method: 'POST', headers, body })));
      expect(through!.status).toBe(200);
      for (const name of ['content-type', 'inference-header-content-length']) expect(through!.headers.get(name)).toBe(direct!.headers.get(name));
      expect(Buffer.from(await through!.arrayBuffer())).toEqual(Buffer.from(await direct!.arrayBuffer()));
    }
    // Without a version too: the live one, named in the URL the worker sees.
    const res = await fetch(`${base}/v2/models/p/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: json });
    expect(await res.json()).toMatchObject({ id: 'j', model_name: 'p', model_version: '1', outputs: [{ name: 'INPUT0_out', data: values }] });
    expect(routed.stats().passedThrough).toBe(before + 3);
  });

  it("answers a bad request passed through with the worker's own status, code and message", async () => {
    const body = JSON.stringify({ inputs: [{ name: 'INPUT0', shape: [1, 4], datatype: 'INT32', data: values }] });
    const [through, direct] = await Promise.all([base, liveBase].map((b) => fetch(`${b}/v2/models/p/versions/1/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })));
    expect(through!.status).toBe(400);
    expect(through!.status).toBe(direct!.status);
    const [a, b] = [await through!.json(), await direct!.json()];
    expect(a).toEqual(b);
    expect(a).toMatchObject({ code: 'SIBYL_INPUT_DATATYPE_MISMATCH' });
  });

  it('answers metadata from the live version, the server calls itself, and router errors with their status', async () => {
    const meta = await fetch(`${base}/v2/models/m`);
    expect(meta.status).toBe(200);
    expect(await meta.json()).toMatchObject({ name: 'm', inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [-1, 4] }] });
    expect(await (await fetch(`${base}/v2`)).json()).toMatchObject({ name: 'sibyl', version: '1.2.3' });
    const missing = await fetch(`${base}/v2/models/nope/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [{ name: 'INPUT0', shape: [1, 4], datatype: 'FP32', data: values }] }),
    });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: 'SIBYL_REGISTRY_MODEL_NOT_FOUND' });
    const version = await fetch(`${base}/v2/models/m/versions/7/ready`);
    expect(version.status).toBe(404);
  });

  it('answers a model configuration from the backend the version is routed to, in process or over REST', async () => {
    expect(((await (await fetch(`${base}/v2`)).json()) as { extensions: string[] }).extensions).toContain('model_configuration');
    // `m`: the closed instance over HTTP first (not ready: retried), then the in-process runtime.
    const live1 = await fetch(`${base}/v2/models/m/config`);
    expect(live1.status).toBe(200);
    expect(await live1.json()).toEqual(await live.modelConfig('m', '1'));
    expect(await (await fetch(`${base}/v2/models/m/versions/2/config`)).json()).toEqual(await live.modelConfig('m', '2'));
    // `p`: a worker behind its own REST server, through the HTTP backend.
    expect(await (await fetch(`${base}/v2/models/p/config`)).json()).toEqual(await live.modelConfig('p', '1'));
    const missing = await fetch(`${base}/v2/models/nope/config`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: 'SIBYL_REGISTRY_MODEL_NOT_FOUND' });
    expect((await fetch(`${base}/v2/models/m/versions/7/config`)).status).toBe(404);
  });
});
