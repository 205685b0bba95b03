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

const router: Router = {
  async resolveModel(model) {
    if (model !== 'm') throw new SibylError('SIBYL_REGISTRY_MODEL_NOT_FOUND', 'NOT_FOUND', `model '${model}' is not registered`);
    return MODEL;
  },
  async resolveVersion(model, version) {
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
  return Object.create(backend, {
    infer: {
      value: (...args: Parameters<Backend['infer']>) => {
        calls.set(name, (calls.get(name) ?? 0) + 1);
        return backend.infer(...args);
      },
    },
  }) as Backend;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sibyl-gateway-routed-'));
  await writeModelRepository(dir, [{ name: 'm', versions: { '1': identityModel('m', [TENSOR]), '2': identityModel('m', [TENSOR]) } }]);
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
  const pool = new Map<string, Backend>([
    ['live', counting('live', createInProcessBackend(live))],
    ['closed', counting('closed', closedBackend)],
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
    expect([calls.get('closed'), calls.get('live')]).toEqual([1, 1]);
    expect(routed.stats()).toMatchObject({ retried: 1 });
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
});
