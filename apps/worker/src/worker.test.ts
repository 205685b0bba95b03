/**
 * A worker started in-process against real PostgreSQL (a fresh database) and Redis (a unique key
 * prefix), fetching model files from a real artifact file server, called over REST and gRPC.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import { createArtifactStore, registerArtifactRoutes, type ArtifactStore } from '@sibyl/artifacts';
import { createRedisCoordination, type Coordination, type InstanceInfo } from '@sibyl/coordination';
import { createLogger } from '@sibyl/observability';
import { loadInferenceDefinitions } from '@sibyl/protocol';
import { openDb, openRegistry, type OpenedRegistry } from '@sibyl/registry';
import { createRegistrySource } from '@sibyl/runtime';
import { createTfEngine } from '@sibyl/runtime-tf';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWorkerConfig } from './config.js';
import { addK, publish } from './test-models.fixture.js';
import { startWorker, type RunningWorker } from './worker.js';

const DATABASE_URL = process.env.DATABASE_URL ?? '';
const REDIS_URL = process.env.REDIS_URL ?? '';

/** Log lines of the worker, parsed. */
function capture(): { logger: ReturnType<typeof createLogger>; lines: Array<{ msg: string; [k: string]: unknown }> } {
  const lines: Array<{ msg: string }> = [];
  const destination = new Writable({
    write(chunk: Buffer, _e, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as { msg: string });
      cb();
    },
  });
  return { logger: createLogger({ destination, format: 'json' }), lines };
}

async function admin(sql: string): Promise<void> {
  const db = await openDb({ databaseUrl: DATABASE_URL, poolSize: 1 });
  try {
    await db.exec(sql);
  } finally {
    await db.close();
  }
}

/** A scratch database on DATABASE_URL's server, named after `label`; its name (for dropping it) and URL. */
async function scratchDatabase(label: string): Promise<{ name: string; url: string }> {
  const name = `sibyl_${label}_${process.pid}_${Date.now().toString(36)}`;
  await admin(`CREATE DATABASE "${name}"`);
  const u = new URL(DATABASE_URL);
  u.pathname = `/${name}`;
  return { name, url: u.toString() };
}

async function restInfer(port: number, model: string, x: number): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://127.0.0.1:${port}/v2/models/${model}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [x] }] }),
  });
  return { status: res.status, body: await res.json() };
}

const baseFlags = (dir: string) => ['--http-address', '127.0.0.1', '--http-port', '0', '--grpc-address', '127.0.0.1', '--grpc-port', '0', '--metrics-address', '127.0.0.1', '--metrics-port', '0', '--advertise-host', '127.0.0.1', '--data-dir', dir, '--exit-timeout-secs', '5'];

describe.skipIf(DATABASE_URL === '' || REDIS_URL === '')('worker-onnx [postgres, redis]', () => {
  let dir: string;
  let dbName: string;
  let url: string;
  let registry: OpenedRegistry;
  let store: ArtifactStore;
  let files: FastifyInstance;
  let watcher: Coordination;
  let worker: RunningWorker;
  let log: ReturnType<typeof capture>;
  let client: grpc.Client & Record<string, any>;
  const keyPrefix = `sibyl-worker-test-${process.pid}-${Date.now().toString(36)}:`;
  const mine = (): InstanceInfo | undefined => watcher.instances('onnx').find((i) => i.id === worker.instanceId);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sibyl-worker-'));
    ({ name: dbName, url } = await scratchDatabase('worker_test'));
    // The management side: the registry and the artifact file server the worker fetches from.
    registry = await openRegistry({ databaseUrl: url, actor: 'tester', poolSize: 2 });
    store = await createArtifactStore({ dir: join(dir, 'management-artifacts') });
    files = Fastify({ forceCloseConnections: true });
    registerArtifactRoutes(files, store);
    const artifactUrl = await files.listen({ host: '127.0.0.1', port: 0 });
    await publish(registry, store, 'adder', addK('adder', 10));

    watcher = createRedisCoordination({ url: REDIS_URL, logger: capture().logger, keyPrefix, pollMs: 50 });
    const config = loadWorkerConfig('onnx', [...baseFlags(join(dir, 'worker')), '--artifact-url', artifactUrl, '--heartbeat-ms', '100', '--instance-ttl-ms', '1000', '--redis-key-prefix', keyPrefix], {
      DATABASE_URL: url,
      REDIS_URL,
    });
    log = capture();
    worker = await startWorker(config, 'onnx', log.logger);
    const definitions = grpc.loadPackageDefinition(loadInferenceDefinitions()) as any;
    client = new definitions.inference.GRPCInferenceService(`127.0.0.1:${worker.ports.grpc}`, grpc.credentials.createInsecure());
  }, 120_000);

  afterAll(async () => {
    client?.close();
    await worker?.close();
    await watcher?.close();
    await files?.close();
    await registry?.close();
    if (dbName !== undefined) await admin(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('logs one ready line naming the pool, the instance and the ports', () => {
    const ready = log.lines.filter((l) => l.event === 'ready');
    expect(ready).toHaveLength(1);
    expect(ready[0]!.msg).toContain(`pool onnx, instance ${worker.instanceId}, HTTP ${worker.ports.http}, gRPC ${worker.ports.grpc}`);
  });

  it('registers in coordination with its advertised addresses, no warm model yet, and is ready', async () => {
    await expect.poll(() => mine(), { timeout: 5000 }).toBeDefined();
    expect(mine()).toMatchObject({
      pool: 'onnx',
      kind: 'sibyl-onnx',
      httpAddress: `127.0.0.1:${worker.ports.http}`,
      grpcAddress: `127.0.0.1:${worker.ports.grpc}`,
      warmModels: [],
      draining: false,
    });
    expect((await fetch(`http://127.0.0.1:${worker.ports.http}/v2/health/ready`)).status).toBe(200);
  });

  it('serves a registered and deployed model over REST, its file fetched from the file server; then it is warm', async () => {
    const { status, body } = await restInfer(worker.ports.http, 'adder', 1);
    expect(status).toBe(200);
    expect(body).toMatchObject({ model_name: 'adder', model_version: '1', outputs: [{ name: 'y', data: [11] }] });
    await expect.poll(() => mine()?.warmModels, { timeout: 5000 }).toEqual(['adder/1']);
  });

  it('serves it over gRPC with raw contents', async () => {
    const response = await new Promise<any>((resolve, reject) =>
      client.ModelInfer(
        { model_name: 'adder', inputs: [{ name: 'x', datatype: 'FP32', shape: [1] }], raw_input_contents: [Buffer.from(new Float32Array([2]).buffer)] },
        (err: Error | null, res: any) => (err ? reject(err) : resolve(res)),
      ),
    );
    expect(new Float32Array(new Uint8Array(response.raw_output_contents[0]).buffer)[0]).toBe(12);
  });

  it("serves the statistics and model configuration extensions of the models it runs", async () => {
    const base = `http://127.0.0.1:${worker.ports.http}`;
    const metadata = (await (await fetch(`${base}/v2`)).json()) as { extensions: string[] };
    expect(metadata.extensions).toEqual(expect.arrayContaining(['statistics', 'model_configuration']));
    const stats = (await (await fetch(`${base}/v2/models/adder/stats`)).json()) as { model_stats: Array<{ name: string; inference_count: number }> };
    expect(stats.model_stats[0]).toMatchObject({ name: 'adder' });
    expect(stats.model_stats[0]!.inference_count).toBeGreaterThan(0);
    const config = await fetch(`${base}/v2/models/adder/config`);
    expect(config.status).toBe(200);
    expect(await config.json()).toMatchObject({ name: 'adder', platform: 'onnxruntime_onnx', input: [{ name: 'x', data_type: 'TYPE_FP32' }] });
  });

  it('loads a cold model once for concurrent first requests; an unknown model is 404', async () => {
    await publish(registry, store, 'cold', addK('cold', 100));
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => restInfer(worker.ports.http, 'cold', i)));
    results.forEach((r, i) => expect(r.body.outputs?.[0]?.data).toEqual([i + 100]));
    expect(log.lines.filter((l) => /^loaded model 'cold' version 1/.test(l.msg))).toHaveLength(1);
    await expect.poll(() => mine()?.warmModels, { timeout: 5000 }).toEqual(['adder/1', 'cold/1']);
    const missing = await restInfer(worker.ports.http, 'nobody', 1);
    expect(missing.status).toBe(404);
    expect(missing.body.error).toContain("unknown model 'nobody'");
  });

  it('exports the model cache series on its metrics port', async () => {
    const text = await (await fetch(`http://127.0.0.1:${worker.ports.metrics}/metrics`)).text();
    expect(text).toMatch(/^sibyl_model_cache_models 2$/m);
    expect(text).toMatch(/^sibyl_model_cache_bytes [1-9]\d*$/m);
    expect(text).toMatch(/^sibyl_model_cache_misses_total [1-9]\d*$/m);
    expect(text).toMatch(/^sibyl_model_cache_hits_total [1-9]\d*$/m);
    expect(text).toMatch(/^sibyl_model_cache_evictions_total 0$/m);
    expect(text).toMatch(/^sibyl_model_load_duration_seconds_count 2$/m);
  });

  it('close drains (readiness false) and deregisters', async () => {
    const running = worker;
    const closing = running.close();
    // Readiness is false from the first step of close (400, as Triton answers "not ready"); the
    // listener stays open for the quiet period, and new inference is refused as draining.
    const ready = await fetch(`http://127.0.0.1:${running.ports.http}/v2/health/ready`).then((r) => r.status, () => 'refused');
    expect(ready === 400 || ready === 'refused').toBe(true);
    const late = await fetch(`http://127.0.0.1:${running.ports.http}/v2/models/any/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }] }),
    }).then(
      async (r) => ({ status: r.status, code: ((await r.json()) as { code: string }).code, connection: r.headers.get('connection') }),
      () => 'refused' as const,
    );
    if (late !== 'refused') expect(late).toEqual({ status: 503, code: 'SIBYL_SERVER_DRAINING', connection: 'close' });
    await closing;
    await expect.poll(() => watcher.instances('onnx').some((i) => i.id === running.instanceId), { timeout: 5000 }).toBe(false);
    expect(log.lines.some((l) => l.event === 'stopped')).toBe(true);
  });
});

describe.skipIf(DATABASE_URL === '' || REDIS_URL === '')('worker-tf [postgres, redis]', () => {
  const EXAMPLES = fileURLToPath(new URL('../../../examples/models', import.meta.url));
  let dir: string;
  let dbName: string;
  let url: string;
  let registry: OpenedRegistry;
  let files: FastifyInstance;
  let artifactUrl: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sibyl-worker-tf-'));
    ({ name: dbName, url } = await scratchDatabase('worker_tf_test'));
    // The management side: iris_tf imported into the registry (checked on TensorFlow.js), its files served.
    registry = await openRegistry({ databaseUrl: url, actor: 'tester', poolSize: 2 });
    const store = await createArtifactStore({ dir: join(dir, 'management-artifacts') });
    await cp(join(EXAMPLES, 'iris_tf'), join(dir, 'repository', 'iris_tf'), { recursive: true });
    const source = createRegistrySource({ registry, artifacts: store, logger: capture().logger, repositories: [join(dir, 'repository')], engines: [createTfEngine()] });
    const imported = await source.importRepositories();
    await source.close();
    expect(imported.deployed).toHaveLength(1);
    files = Fastify({ forceCloseConnections: true });
    registerArtifactRoutes(files, store);
    artifactUrl = await files.listen({ host: '127.0.0.1', port: 0 });
  }, 120_000);

  afterAll(async () => {
    await files?.close();
    await registry?.close();
    if (dbName !== undefined) await admin(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it("serves the registry's TF.js models on demand through the model cache, and logs the backend it chose", async () => {
    const config = loadWorkerConfig('tf', [...baseFlags(join(dir, 'worker-1')), '--artifact-url', artifactUrl], { DATABASE_URL: url });
    const log = capture();
    const worker = await startWorker(config, 'tf', log.logger);
    try {
      expect((await fetch(`http://127.0.0.1:${worker.ports.http}/v2/health/ready`)).status).toBe(200);
      expect(worker.instanceId).toMatch(/^tf-/);
      expect(log.lines.find((l) => l.event === 'tf-backend')).toMatchObject({ backend: 'wasm' });
      expect(await (await fetch(`http://127.0.0.1:${worker.ports.http}/v2`)).json()).toMatchObject({ runtimes: ['TensorFlow.js (wasm)'] });
      const res = await fetch(`http://127.0.0.1:${worker.ports.http}/v2/models/iris_tf/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: [{ name: 'measurements', datatype: 'FP32', shape: [2, 4], data: [5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3] }] }),
      });
      expect(res.status).toBe(200);
      const body = await res.json();
      const p = body.outputs[0].data as number[];
      expect(body).toMatchObject({ model_name: 'iris_tf', model_version: '1' });
      expect(body.outputs[0]).toMatchObject({ name: 'probabilities', datatype: 'FP32', shape: [2, 3] });
      expect(p.indexOf(Math.max(...p.slice(0, 3)))).toBe(0);
      expect(p.slice(3).indexOf(Math.max(...p.slice(3)))).toBe(2);
      const meta = await (await fetch(`http://127.0.0.1:${worker.ports.http}/v2/models/iris_tf`)).json();
      expect(meta).toMatchObject({ name: 'iris_tf', platform: 'tensorflowjs_layers', inputs: [{ name: 'measurements', datatype: 'FP32', shape: [-1, 4] }] });
      // Loaded through the model cache, charged what it costs.
      const metrics = await (await fetch(`http://127.0.0.1:${worker.ports.metrics}/metrics`)).text();
      expect(metrics).toMatch(/^sibyl_model_cache_models 1$/m);
      expect(log.lines.some((l) => typeof l.msg === 'string' && l.msg.includes("loaded model 'iris_tf' version 1 (tensorflowjs_layers on TensorFlow.js (wasm)"))).toBe(true);
      expect((await restInfer(worker.ports.http, 'anything', 1)).status).toBe(404);
    } finally {
      await worker.close();
    }
  }, 60_000);

  it('registers in pool tf with kind sibyl-tf', async () => {
    const keyPrefix = `sibyl-worker-tf-test-${process.pid}-${Date.now().toString(36)}:`;
    const watcher = createRedisCoordination({ url: REDIS_URL, logger: capture().logger, keyPrefix, pollMs: 50 });
    const worker = await startWorker(loadWorkerConfig('tf', [...baseFlags(join(dir, 'worker-2')), '--artifact-url', artifactUrl, '--redis-key-prefix', keyPrefix], { DATABASE_URL: url, REDIS_URL }), 'tf', capture().logger);
    try {
      await expect.poll(() => watcher.instances('tf').map((i) => [i.id, i.kind, i.httpAddress]), { timeout: 5000 }).toEqual([
        [worker.instanceId, 'sibyl-tf', `127.0.0.1:${worker.ports.http}`],
      ]);
    } finally {
      await worker.close();
      await watcher.close();
    }
  }, 60_000);
});
