/**
 * TensorFlow.js models in the all-in-one server, over the network: the example `iris_tf` imported from
 * the model repository and served through the same REST and gRPC API as the ONNX models; a TF.js model
 * directory uploaded with the `sibyl` CLI (packed as a .tar.gz), deployed and served; bad uploads refused
 * with the runtime's reason, and nothing registered.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInferenceClient, get, httpRequest, postJson, startServer, type RunningServer } from './index.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const IRIS_TF = join(ROOT, 'examples/models/iris_tf');
const CLI = join(ROOT, 'apps/cli/bin/sibyl.js');
const run = promisify(execFile);

const ROWS = [5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3];
const argmax = (p: readonly number[]) => p.indexOf(Math.max(...p));

async function sibyl(server: RunningServer, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env: { ...process.env, SIBYL_URL: server.managementUrl!, SIBYL_ACTOR: 'e2e' } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('TensorFlow.js models in the all-in-one server', () => {
  let repo: string;
  let server: RunningServer;

  beforeAll(async () => {
    repo = await mkdtemp(join(tmpdir(), 'sibyl-e2e-tf-'));
    await cp(IRIS_TF, join(repo, 'iris_tf'), { recursive: true });
    server = await startServer({ repositories: [repo] });
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    if (repo !== undefined) await rm(repo, { recursive: true, force: true });
  });

  it('serves the example iris_tf over REST with its metadata from the model', async () => {
    const meta = await get(`${server.httpUrl}/v2/models/iris_tf`);
    expect(meta.json).toMatchObject({
      name: 'iris_tf',
      platform: 'tensorflowjs_layers',
      inputs: [{ name: 'measurements', datatype: 'FP32', shape: [-1, 4] }],
      outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 3] }],
    });
    const answer = await postJson(`${server.httpUrl}/v2/models/iris_tf/infer`, { inputs: [{ name: 'measurements', datatype: 'FP32', shape: [2, 4], data: ROWS }] });
    expect(answer.status).toBe(200);
    const p = (answer.json as { outputs: Array<{ data: number[] }> }).outputs[0]!.data;
    expect([argmax(p.slice(0, 3)), argmax(p.slice(3))]).toEqual([0, 2]);
  });

  it('says in server metadata which runtimes it runs, and on which TensorFlow.js backend', async () => {
    const meta = await get(`${server.httpUrl}/v2`);
    expect(meta.json).toMatchObject({ name: 'sibyl', runtimes: ['onnxruntime-node (CPU)', 'TensorFlow.js (wasm)'] });
    expect(server.logLines().find((l) => l['event'] === 'tf-backend')).toMatchObject({ backend: 'wasm' });
  });

  it('serves it over gRPC with raw contents too', async () => {
    const client = createInferenceClient(server.grpcAddress);
    try {
      const raw = Buffer.from(new Float32Array(ROWS).buffer);
      const response = await client.modelInfer({
        model_name: 'iris_tf',
        inputs: [{ name: 'measurements', datatype: 'FP32', shape: [2, 4] }],
        raw_input_contents: [raw],
      });
      const out = (response as { raw_output_contents: Buffer[] }).raw_output_contents[0]!;
      const p = Array.from(new Float32Array(out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength)));
      expect([argmax(p.slice(0, 3)), argmax(p.slice(3))]).toEqual([0, 2]);
    } finally {
      client.close();
    }
  });

  it('refuses a request that does not fit the model with a precise 400', async () => {
    const answer = await postJson(`${server.httpUrl}/v2/models/iris_tf/infer`, { inputs: [{ name: 'measurements', datatype: 'INT32', shape: [1, 4], data: [1, 2, 3, 4] }] });
    expect(answer.status).toBe(400);
    expect(answer.text).toMatch(/measurements/);
  });

  it('takes a TF.js model directory uploaded with the CLI, deploys it and serves it', async () => {
    expect((await sibyl(server, 'models', 'create', 'flowers_tf')).code).toBe(0);
    const upload = await sibyl(server, 'versions', 'upload', 'flowers_tf', join(IRIS_TF, '1'));
    expect(upload.code, upload.stderr).toBe(0);
    expect((await sibyl(server, 'deploy', 'flowers_tf', '1')).code).toBe(0);
    const deadline = Date.now() + 10_000;
    let answer = await postJson(`${server.httpUrl}/v2/models/flowers_tf/infer`, { inputs: [{ name: 'measurements', datatype: 'FP32', shape: [1, 4], data: ROWS.slice(4) }] });
    while (answer.status !== 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      answer = await postJson(`${server.httpUrl}/v2/models/flowers_tf/infer`, { inputs: [{ name: 'measurements', datatype: 'FP32', shape: [1, 4], data: ROWS.slice(4) }] });
    }
    expect(answer.status, answer.text).toBe(200);
    expect(argmax((answer.json as { outputs: Array<{ data: number[] }> }).outputs[0]!.data)).toBe(2);
    const meta = await get(`${server.httpUrl}/v2/models/flowers_tf`);
    expect(meta.json).toMatchObject({ platform: 'tensorflowjs_layers' });
  });

  it("takes a new config for a TF.js model through Triton's repository load (a new version over the same files)", async () => {
    const config = JSON.stringify({ max_batch_size: 8, dynamic_batching: { max_queue_delay_microseconds: 1000 } });
    const load = await httpRequest(`${server.managementUrl}/v2/repository/models/iris_tf/load`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-sibyl-actor': 'e2e' },
      body: JSON.stringify({ parameters: { config } }),
    });
    expect(load.status, load.text).toBe(200);
    const answer = await postJson(`${server.httpUrl}/v2/models/iris_tf/infer`, { inputs: [{ name: 'measurements', datatype: 'FP32', shape: [2, 4], data: ROWS }] });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.json).toMatchObject({ model_version: '2' });
  });

  it('refuses a TF.js directory whose model.json is broken, naming TensorFlow.js, and registers nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sibyl-e2e-tf-broken-'));
    try {
      await writeFile(join(dir, 'model.json'), '{"format":"layers-model","modelTopology":');
      expect((await sibyl(server, 'models', 'create', 'broken_tf')).code).toBe(0);
      const upload = await sibyl(server, 'versions', 'upload', 'broken_tf', dir);
      expect(upload.code).not.toBe(0);
      expect(upload.stderr).toMatch(/TensorFlow\.js cannot load/);
      const versions = await get(`${server.managementUrl}/v1/models/broken_tf/versions`);
      expect(versions.status).toBe(200);
      expect(JSON.stringify(versions.json)).not.toMatch(/"version":\s*1/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
