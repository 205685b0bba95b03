/**
 * The split topology serving: management, router, two ONNX workers and a gateway, each its own
 * process (scripts/cluster), over real PostgreSQL and Redis. One cluster for the whole file; the
 * tests run in order and the later ones take workers away.
 *
 * - requests through the gateway (REST and gRPC) are answered correctly, and placement spreads models
 *   over both workers, each model on one (cache-affine);
 * - a TensorFlow.js model (examples/models/iris_tf) is routed by the default rule to the TF worker pool
 *   and answered through the same gateway;
 * - a new routing rule sends a model to another pool within 1 s;
 * - a canary of weight 0.2 gets 20% ± 3% of 2,000 request ids, and an id always lands on one side;
 * - kill -9 of a worker under load fails at most the requests in flight on it, and 2 s later every
 *   request succeeds on the other;
 * - SIGTERM of a worker under load fails nothing, deregisters it at once and exits 0;
 * - SIGTERM of the gateway: readiness false while it drains, the request in flight answered, exit 0.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, REPO_ROOT, type Cluster, type WorkerEndpoints } from '../../../../scripts/cluster/index.js';
import { tempRepository, type TempRepository } from '../harness/fixtures.js';
import { createInferenceClient, type InferenceClient } from '../harness/grpc-client.js';
import { httpRequest } from '../harness/http.js';
import {
  SPLIT_SKIP,
  addK,
  describeFailures,
  eventually,
  inferGrpc,
  inferRest,
  managementApi,
  registeredInstances,
  replicated,
  scratchDatabase,
  scratchRedis,
  served,
  servedBy,
  sleep,
  slowModel,
  startLoad,
  type Answer,
  type Management,
  type ScratchDatabase,
} from './support.js';

/** add_0 … add_11: y = x + i; twelve models, so both workers get some (all twelve on one: 1 in 2048). */
const ADD_MODELS = Array.from({ length: 12 }, (_, i) => `add_${i}`);

describe.skipIf(SPLIT_SKIP)('split topology: serving, routing, canary, failures', () => {
  let db: ScratchDatabase;
  let repo: TempRepository;
  let cluster: Cluster;
  let api: Management;
  let grpc: InferenceClient;
  let onnx: WorkerEndpoints[];

  beforeAll(async () => {
    db = await scratchDatabase();
    const redisUrl = await scratchRedis();
    repo = await tempRepository([
      ...ADD_MODELS.map((name, i) => ({ name, versions: { '1': addK(name, i) } })),
      { name: 'replicated', versions: { '1': addK('replicated', 1000) }, config: replicated('replicated', 2) },
      { name: 'slow', versions: { '1': slowModel('slow') }, config: replicated('slow', 2) },
    ]);
    cluster = await startCluster({
      databaseUrl: db.url,
      redisUrl,
      modelRepositories: [join(REPO_ROOT, 'examples/models'), repo.dir],
      workers: [{ kind: 'onnx' }, { kind: 'onnx' }, { kind: 'tf' }],
    });
    api = managementApi(cluster.endpoints.management.url);
    grpc = createInferenceClient(cluster.endpoints.gateway.grpcAddress);
    onnx = cluster.endpoints.workers.filter((w) => w.pool === 'onnx');
  });

  afterAll(async () => {
    grpc?.close();
    const exits = await cluster?.stop();
    await repo?.remove();
    await db?.drop();
    // A process that crashed on its own shows here, not as a silent pass.
    for (const [name, exit] of exits ?? []) {
      if (exit.code !== 0 && exit.signal !== 'SIGKILL') console.warn(`${name} exited ${JSON.stringify(exit)}; its last lines:\n${cluster.processes.get(name)?.tail(30)}`);
    }
  });

  /** Output of the cluster's processes, for assertion messages. */
  const logs = (...names: string[]) => names.map((n) => `--- ${n} ---\n${cluster.processes.get(n)?.tail(25) ?? '(none)'}`).join('\n');

  it('answers REST and gRPC through the gateway with the model’s outputs; placement spreads models over both workers', async () => {
    const gateway = cluster.endpoints.gateway;
    // iris (examples/models), over REST, compared with onnxruntime run here on the file of the version that answered.
    const request = JSON.parse(await readFile(join(REPO_ROOT, 'examples/requests/iris.json'), 'utf8')) as {
      inputs: Array<{ data: number[] }>;
    };
    const answer = await httpRequest(`${gateway.httpUrl}/v2/models/iris/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
    });
    expect(answer.status, `${answer.text}\n${logs('gateway', 'router', 'onnx-1', 'onnx-2')}`).toBe(200);
    const body = answer.json as { model_name: string; model_version: string; outputs: Array<{ name: string; shape: number[]; data: Array<number | bigint> }> };
    expect(body.model_name).toBe('iris');
    const session = await ort.InferenceSession.create(join(REPO_ROOT, 'examples/models/iris', body.model_version, 'model.onnx'));
    const direct = await session.run({ input: new ort.Tensor('float32', Float32Array.from(request.inputs[0]!.data), [2, 4]) });
    const byName = new Map(body.outputs.map((o) => [o.name, o]));
    expect(byName.get('probabilities')!.shape).toEqual([2, 3]);
    expect(byName.get('probabilities')!.data.map(Number)).toEqual([...(direct['probabilities']!.data as Float32Array)]);
    expect(byName.get('label')!.data.map(Number)).toEqual([...(direct['label']!.data as BigInt64Array)].map(Number));
    await session.release();

    // add_i: three REST and one gRPC request each; every answer is x + i.
    for (const [i, model] of ADD_MODELS.entries()) {
      for (let r = 0; r < 3; r++) {
        const a = await inferRest(gateway.httpUrl, model, 10 * r);
        expect(a, `${model} over REST`).toMatchObject({ status: 200, version: '1', y: 10 * r + i });
      }
      const g = await inferGrpc(grpc, model, 0.5);
      expect(g, `${model} over gRPC`).toMatchObject({ status: 200, version: '1', y: 0.5 + i });
    }

    // Which worker served each model: all four requests of a model on one worker, and both workers used.
    const placement: Record<string, Record<string, number>> = {};
    for (const model of ADD_MODELS) placement[model] = await servedBy(onnx, model);
    for (const [model, counts] of Object.entries(placement)) {
      expect(Object.values(counts).sort(), `${model} served by one worker: ${JSON.stringify(counts)}`).toEqual([0, 4]);
    }
    const homes = new Set(Object.values(placement).map((counts) => Object.entries(counts).find(([, n]) => n > 0)![0]));
    expect([...homes].sort(), `placement ${JSON.stringify(placement)}`).toEqual(['onnx-1', 'onnx-2']);
  });

  it('routes a TensorFlow.js model to the TF worker pool by its platform, and answers it through the gateway', async () => {
    const gateway = cluster.endpoints.gateway;
    const request = JSON.parse(await readFile(join(REPO_ROOT, 'examples/requests/iris_tf.json'), 'utf8')) as unknown;
    const answer = await httpRequest(`${gateway.httpUrl}/v2/models/iris_tf/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
    });
    expect(answer.status, `${answer.text}\n${logs('gateway', 'router', 'tf-1')}`).toBe(200);
    const p = (answer.json as { outputs: Array<{ name: string; shape: number[]; data: number[] }> }).outputs[0]!;
    expect(p).toMatchObject({ name: 'probabilities', shape: [2, 3] });
    const argmax = (xs: number[]) => xs.indexOf(Math.max(...xs));
    expect([argmax(p.data.slice(0, 3)), argmax(p.data.slice(3))]).toEqual([0, 2]);
    const tf = cluster.endpoints.workers.filter((w) => w.pool === 'tf');
    expect(await servedBy(tf, 'iris_tf')).toEqual({ 'tf-1': 1 });
    expect(Object.values(await servedBy(onnx, 'iris_tf')).every((n) => n === 0 || Number.isNaN(n))).toBe(true);

    // Its configuration, through the gateway, is the one the TF worker serves it with.
    const viaGateway = await httpRequest(`${gateway.httpUrl}/v2/models/iris_tf/config`);
    expect(viaGateway.status, viaGateway.text).toBe(200);
    expect(viaGateway.json).toMatchObject({ name: 'iris_tf', platform: 'tensorflowjs_layers', input: [{ name: 'measurements', data_type: 'TYPE_FP32' }] });
    expect(viaGateway.json).toEqual((await httpRequest(`${tf[0]!.httpUrl}/v2/models/iris_tf/config`)).json);
  });

  it('a routing rule sending one model to another pool takes effect within 1 s', async () => {
    const gateway = cluster.endpoints.gateway;
    const b = await cluster.addWorker({ kind: 'onnx', pool: 'onnx-b' });
    await api.createPool({ name: 'onnx-b', kind: 'sibyl-onnx', discovery: true, description: 'e2e: a second ONNX pool' });
    const model = 'add_5';
    const before = await servedBy(onnx, model);

    // A client keeps asking for the model across the change; none of its requests may fail.
    const load = startLoad(2, () => inferRest(gateway.httpUrl, model, 1));
    await sleep(300);
    await api.createRoute({ priority: 10, pool: 'onnx-b', match: { name: model }, description: `e2e: ${model} to onnx-b` });
    const committedAt = performance.now();
    await sleep(Math.max(0, committedAt + 1000 - performance.now()));
    const load2 = await load.stop();
    expect(describeFailures(load2), logs('gateway', 'router', b.name)).toBe('');

    // From 1 s after the rule was committed: every request is served by the onnx-b worker.
    const bBefore = await served(b.metricsUrl, model);
    const oldBefore = await servedBy(onnx, model);
    for (let r = 0; r < 20; r++) expect(await inferRest(gateway.httpUrl, model, 2)).toMatchObject({ status: 200, y: 7 });
    expect((await served(b.metricsUrl, model)) - bBefore, `onnx-b served ${model}\n${logs('router', b.name)}`).toBe(20);
    expect(await servedBy(onnx, model)).toEqual(oldBefore);
    expect(Object.values(before).reduce((x, y) => x + y, 0)).toBeGreaterThan(0);
    // The rule matches that one name only: another model stays in the onnx pool.
    const other = await servedBy(onnx, 'add_6');
    expect((await inferRest(gateway.httpUrl, 'add_6', 0)).status).toBe(200);
    const otherAfter = await servedBy(onnx, 'add_6');
    expect(Object.values(otherAfter).reduce((x, y) => x + y, 0) - Object.values(other).reduce((x, y) => x + y, 0)).toBe(1);
    expect(await served(b.metricsUrl, 'add_6')).toBe(0);
  });

  it('a canary of weight 0.2 gets 20% ± 3% of 2,000 request ids; an id always gets the same version', async () => {
    const gateway = cluster.endpoints.gateway;
    await api.createModel('canary');
    expect(await api.upload('canary', addK('canary', 1))).toBe(1);
    await api.deploy('canary', 1);
    expect(await api.upload('canary', addK('canary', 2))).toBe(2);
    await eventually('version 1 of canary serving', async () => (await inferRest(gateway.httpUrl, 'canary', 0)).version === '1');
    await api.traffic('canary', { canary_version: 2, canary_weight: 0.2, shadow_version: null });
    // The split reaches the gateway within 1 s of the answer (release propagation); wait it out.
    await sleep(1000);

    const ids = Array.from({ length: 2000 }, (_, i) => `req-${i}-${(i * 2654435761) % 1000003}`);
    const first = new Map<string, Answer>();
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < ids.length) {
          const id = ids[next++]!;
          first.set(id, await inferRest(gateway.httpUrl, 'canary', 100, { id }));
        }
      }),
    );
    const answers = [...first.values()];
    expect(describeFailures(answers)).toBe('');
    for (const a of answers) expect(a.y, 'the output is the version that answered').toBe(100 + Number(a.version));
    const canary = answers.filter((a) => a.version === '2').length;
    console.log(`canary 0.2: ${canary} of ${answers.length} request ids on version 2`);
    expect(canary).toBeGreaterThanOrEqual(340);
    expect(canary).toBeLessThanOrEqual(460);

    // The same ids again, twice: the same version every time.
    for (let round = 0; round < 2; round++) {
      for (const id of ids.slice(0, 300)) {
        const again = await inferRest(gateway.httpUrl, 'canary', 100, { id });
        expect(again.version, `request id ${id}, round ${round + 2}`).toBe(first.get(id)!.version);
      }
    }
  });

  it('kill -9 of a worker under load fails at most the requests in flight on it; 2 s later every request succeeds', async () => {
    const gateway = cluster.endpoints.gateway;
    const concurrency = 8;
    const load = startLoad(concurrency, () => inferRest(gateway.httpUrl, 'replicated', 1));
    // placement_replicas 2: both ONNX workers hold the model and share its requests.
    await eventually('both ONNX workers serving replicated', async () => Object.values(await servedBy(onnx, 'replicated')).every((n) => n > 20));
    expect(load.failures(), describeFailures(load.answers)).toEqual([]);

    const killedAt = performance.now();
    const exit = await cluster.kill('onnx-2', 'SIGKILL');
    expect(exit.signal).toBe('SIGKILL');
    const survivorBefore = await served(onnx[0]!.metricsUrl, 'replicated');
    await sleep(3500);
    const answers = await load.stop();

    const failed = answers.filter((a) => a.status !== 200);
    console.log(`kill -9 under load: ${answers.length} requests, ${failed.length} failed; last failure sent ${failed.length === 0 ? '-' : (Math.max(...failed.map((a) => a.sentAt)) - killedAt).toFixed(0)} ms after the kill`);
    expect(failed.length, `failures (at most the ${concurrency} in flight):\n${describeFailures(answers)}`).toBeLessThanOrEqual(concurrency);
    const late = answers.filter((a) => a.sentAt >= killedAt + 2000);
    expect(late.length).toBeGreaterThan(50);
    expect(late.filter((a) => a.status !== 200), describeFailures(late)).toEqual([]);
    for (const a of answers.filter((x) => x.status === 200)) expect(a.y).toBe(1001);
    expect((await served(onnx[0]!.metricsUrl, 'replicated')) - survivorBefore, 'the survivor took the load').toBeGreaterThanOrEqual(late.length);
  });

  it('SIGTERM of a worker under load: no request fails, it deregisters at once and exits 0', async () => {
    const gateway = cluster.endpoints.gateway;
    // Back to two: the killed worker again, on its ports.
    await cluster.restart('onnx-2');
    const load = startLoad(8, (c) => (c % 2 === 0 ? slowInfer(gateway.httpUrl, 1000) : inferRest(gateway.httpUrl, 'replicated', 1)));
    const worker2Before = await servedBy(onnx, 'slow');
    await eventually('the restarted worker serving again', async () => {
      const now = await servedBy(onnx, 'slow');
      return (now['onnx-2'] ?? 0) - (worker2Before['onnx-2'] ?? 0) > 5 && (now['onnx-1'] ?? 0) - (worker2Before['onnx-1'] ?? 0) > 5;
    });
    const mine = (i: Record<string, unknown>) => JSON.stringify(i).includes(onnx[1]!.grpcAddress) || JSON.stringify(i).includes(onnx[1]!.httpUrl.slice(7));
    expect((await registeredInstances(cluster.redisUrl)).some(mine), 'onnx-2 registered in Redis').toBe(true);

    const exit = await cluster.kill('onnx-2', 'SIGTERM');
    // Checked before its TTL (1.5 s) could have expired the record: gone because it deregistered.
    const stillThere = (await registeredInstances(cluster.redisUrl)).filter(mine);
    expect(exit, logs('onnx-2')).toEqual({ code: 0, signal: null });
    expect(stillThere, 'onnx-2 record in Redis right after it exited').toEqual([]);
    await sleep(1500);
    const answers = await load.stop();
    expect(answers.length).toBeGreaterThan(50);
    expect(describeFailures(answers), logs('gateway', 'onnx-2')).toBe('');
  });

  it('SIGTERM of the gateway: not ready while it drains, the request in flight is answered, exit 0', async () => {
    const gateway = cluster.endpoints.gateway;
    // A request that lasts about 2 s on this machine, whatever its speed: the cost grows as n³
    // (a fixed n=3500 took 4 s on one machine and 0.4 s on another, shorter than the probing below).
    const probe = await slowInfer(gateway.httpUrl, 2000);
    expect(probe, logs('gateway')).toMatchObject({ status: 200 });
    const n = Math.min(5000, Math.max(2000, Math.round(2000 * Math.cbrt(2000 / Math.max(1, probe.doneAt - probe.sentAt)))));
    const slow = slowInfer(gateway.httpUrl, n);
    await sleep(300);
    cluster.processes.get('gateway')!.signal('SIGTERM');
    const exited = cluster.processes.get('gateway')!.exited;
    const readiness: string[] = [];
    let done = false;
    // The signal is handled asynchronously; probing from 100 ms later asks the draining gateway.
    await sleep(100);
    void exited.then(() => (done = true));
    const probedAt: number[] = [];
    while (!done) {
      probedAt.push(performance.now());
      const r = await fetch(`${gateway.httpUrl}/v2/health/ready`).then(
        (res) => String(res.status),
        (err: Error) => `error ${String((err.cause as { code?: string } | undefined)?.code ?? err.message)}`,
      );
      readiness.push(r);
      await sleep(50);
    }
    const answer = await slow;
    const exit = await exited;
    expect(answer, logs('gateway')).toMatchObject({ status: 200 });
    expect(exit, logs('gateway')).toEqual({ code: 0, signal: null });
    // Not ready from the signal on: a probe is answered 503 or finds the listener closed (what a
    // kubelet counts as not ready too); never 200 again. At least one probe ran while the request was
    // still in flight, i.e. during the drain.
    console.log(`gateway readiness while draining: ${readiness.join(', ')}`);
    expect(readiness.length).toBeGreaterThan(0);
    for (const r of readiness) expect(r, `readiness while draining: ${readiness.join(', ')}`).toMatch(/^(503|error .*)$/);
    expect(probedAt[0]!, `n ${n}: sent at ${answer.sentAt}, answered at ${answer.doneAt}`).toBeLessThan(answer.doneAt);
  });
});

/** One request to `slow` whose compute is an n×n matrix product (about 1 s at 2500). */
async function slowInfer(httpUrl: string, n: number): Promise<Answer> {
  const sentAt = performance.now();
  try {
    const answer = await httpRequest(`${httpUrl}/v2/models/slow/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        inputs: [
          { name: 'x', datatype: 'FP32', shape: [1], data: [1] },
          { name: 'n', datatype: 'INT64', shape: [2], data: [n, n] },
        ],
      }),
    });
    const doneAt = performance.now();
    if (answer.status !== 200) return { status: answer.status, version: '', y: NaN, error: answer.text.slice(0, 300), sentAt, doneAt };
    const json = answer.json as { model_version: string; outputs: Array<{ data: number[] }> };
    return { status: 200, version: json.model_version, y: json.outputs[0]!.data[0]!, error: '', sentAt, doneAt };
  } catch (err) {
    return { status: 0, version: '', y: NaN, error: String((err as Error).cause ?? err), sentAt, doneAt: performance.now() };
  }
}
