/**
 * Releases without a restart, over the network: versions uploaded through the management API, then
 * deploy, deploy, rollback while a steady stream of inference requests runs. No request may fail, and
 * each response must carry the version that was live when it was sent (or, within the 1 s the
 * platform allows for a switch to propagate, the one live before). Then Triton's repository
 * extension on the management port: explicit load and unload, and poll mode picking up a new file.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openDb } from '@sibyl/registry';
import { buildOnnxModel, writeModelRepository } from '@sibyl/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpRequest, postJson, startServer, tempRepository, type HttpAnswer, type RunningServer, type TempRepository } from './index.js';

/** y = x + k over FP32 [1]: a response tells which version answered. */
function addK(name: string, k: number): Uint8Array {
  return buildOnnxModel({
    name,
    inputs: [{ name: 'x', datatype: 'FP32', shape: [1] }],
    outputs: [{ name: 'y', datatype: 'FP32', shape: [1] }],
    initializers: [{ name: 'k', datatype: 'FP32', dims: [1], values: new Float32Array([k]) }],
    nodes: [{ op: 'Add', inputs: ['x', 'k'], outputs: ['y'] }],
  });
}

const INLINE = { parameters: { execution_mode: { string_value: 'inline' } } };

function management(server: RunningServer) {
  const base = server.managementUrl;
  if (base === undefined) throw new Error(`no management listener in the server output:\n${server.output()}`);
  const headers = { 'x-sibyl-actor': 'e2e' };
  const json = async (method: string, path: string, body?: unknown): Promise<HttpAnswer> =>
    httpRequest(`${base}${path}`, {
      method,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const ok = async (answer: Promise<HttpAnswer>): Promise<HttpAnswer> => {
    const a = await answer;
    if (a.status >= 300) throw new Error(`management API answered ${a.status}: ${a.text}`);
    return a;
  };
  return {
    json,
    ok,
    createModel: (name: string) => ok(json('POST', '/v1/models', { name })),
    upload: (name: string, bytes: Uint8Array) =>
      ok(httpRequest(`${base}/v1/models/${name}/versions?filename=model.onnx`, { method: 'POST', body: bytes, headers: { ...headers, 'content-type': 'application/octet-stream' } })),
    deploy: (name: string, version: number) => ok(json('POST', `/v1/models/${name}/deploy`, { version })),
    rollback: (name: string) => ok(json('POST', `/v1/models/${name}/rollback`)),
    load: (name: string) => json('POST', `/v2/repository/models/${name}/load`),
    unload: (name: string) => json('POST', `/v2/repository/models/${name}/unload`),
  };
}

async function infer(server: RunningServer, model: string): Promise<{ status: number; version: string; added: number; text: string }> {
  const answer = await postJson(`${server.httpUrl}/v2/models/${model}/infer`, { inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [100] }] });
  if (answer.status !== 200) return { status: answer.status, version: '', added: NaN, text: answer.text };
  const json = answer.json as { model_version: string; outputs: Array<{ data: number[] }> };
  return { status: 200, version: json.model_version, added: json.outputs[0]!.data[0]! - 100, text: '' };
}

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const DATABASE_URL = process.env.DATABASE_URL ?? '';

async function admin(sql: string): Promise<void> {
  const db = await openDb({ databaseUrl: DATABASE_URL, poolSize: 1 });
  try {
    await db.exec(sql);
  } finally {
    await db.close();
  }
}

describe.each([
  { database: 'pglite', skip: false },
  { database: 'postgres', skip: DATABASE_URL === '' },
])('deploy and rollback under a steady stream of requests [$database]', ({ database, skip }) => {
  let repo: TempRepository;
  let server: RunningServer;
  let dbName: string | undefined;

  beforeAll(async () => {
    if (skip) return;
    repo = await tempRepository([]);
    let env: Record<string, string> = {};
    if (database === 'postgres') {
      dbName = `sibyl_e2e_release_${process.pid}_${Date.now().toString(36)}`;
      await admin(`CREATE DATABASE "${dbName}"`);
      const url = new URL(DATABASE_URL);
      url.pathname = `/${dbName}`;
      env = { DATABASE_URL: url.toString() };
    }
    server = await startServer({ repositories: [repo.dir], env });
  });
  afterAll(async () => {
    await server?.stop();
    await repo?.remove();
    if (dbName !== undefined) await admin(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
  });

  it.skipIf(skip)('upload two versions, deploy 1, deploy 2, roll back: no request fails, each answer is the live version', async () => {
    const api = management(server);
    await api.createModel('release');
    const v1 = (await api.upload('release', addK('release', 1))).json as { version: number; state: string };
    const v2 = (await api.upload('release', addK('release', 2))).json as { version: number };
    expect([v1.version, v2.version]).toEqual([1, 2]);
    // Nothing is live yet: requests without a version are refused, named versions serve once loaded.
    await eventually('version 2 loaded', async () => (await httpRequest(`${server.httpUrl}/v2/models/release/versions/2/ready`)).status === 200);
    expect((await infer(server, 'release')).status).toBe(503);

    await api.deploy('release', 1);
    await eventually('version 1 live', async () => (await infer(server, 'release')).version === '1', 1000);

    // The stream: four clients back to back, each answer kept with the moment its request was sent.
    type Answer = Awaited<ReturnType<typeof infer>> & { sentAt: number };
    const answers: Answer[] = [];
    let streaming = true;
    const clients = Array.from({ length: 4 }, async () => {
      while (streaming) {
        const sentAt = performance.now();
        answers.push({ sentAt, ...(await infer(server, 'release')) });
      }
    });
    // Each release: when it was asked for, when it was answered (committed), from and to.
    const switches: Array<{ askedAt: number; at: number; from: string; to: string }> = [];
    const release = async (to: string, call: () => Promise<unknown>) => {
      const from = switches[switches.length - 1]?.to ?? '1';
      const askedAt = performance.now();
      await call();
      switches.push({ askedAt, at: performance.now(), from, to });
      await new Promise((r) => setTimeout(r, 1500));
    };
    await new Promise((r) => setTimeout(r, 500));
    await release('2', () => api.deploy('release', 2));
    await release('1', () => api.rollback('release'));
    await release('2', () => api.rollback('release'));
    streaming = false;
    await Promise.all(clients);

    expect(answers.filter((a) => a.status !== 200).map((a) => `${a.status} ${a.text}`)).toEqual([]);
    expect(answers.length).toBeGreaterThan(200);
    const staleMs: number[] = switches.map(() => 0);
    for (const a of answers) {
      expect(a.added, 'the output is the answering version').toBe(Number(a.version));
      const i = switches.findLastIndex((s) => s.askedAt <= a.sentAt);
      if (i < 0) {
        expect(a.version).toBe('1');
        continue;
      }
      const s = switches[i]!;
      if (a.sentAt < s.at) {
        expect([s.from, s.to], 'sent while the release was being made').toContain(a.version);
      } else if (a.version !== s.to) {
        // Only the version live before, and only within 1 s of the release.
        expect(a.version).toBe(s.from);
        expect(a.sentAt - s.at).toBeLessThanOrEqual(1000);
        staleMs[i] = Math.max(staleMs[i]!, a.sentAt - s.at);
      }
    }
    // How long after each release was answered a request could still reach the old version.
    console.log(`[${database}] release propagation (ms after the API answered): ${staleMs.map((ms) => ms.toFixed(1)).join(', ')}; ${answers.length} requests`);

    const events = (await api.ok(api.json('GET', '/v1/models/release/events'))).json as { events: Array<{ action: string; actor: string; to: string | null }> };
    const releases = events.events.filter((e) => ['deploy', 'rollback'].includes(e.action)).reverse();
    expect(releases.map((e) => `${e.action}:${e.to}:${e.actor}`)).toEqual(['deploy:1:e2e', 'deploy:2:e2e', 'rollback:1:e2e', 'rollback:2:e2e']);
    const versions = (await api.ok(api.json('GET', '/v1/models/release/versions'))).json as { versions: Array<{ version: number; state: string }> };
    expect(versions.versions.map((v) => `${v.version}:${v.state}`)).toEqual(['1:ready', '2:ready']);
  }, 60_000);
});

describe('Triton repository extension on the management port', () => {
  let repo: TempRepository;
  let server: RunningServer;

  beforeAll(async () => {
    repo = await tempRepository([
      { name: 'a', versions: { '1': addK('a', 1) }, config: INLINE },
      { name: 'b', versions: { '1': addK('b', 1) }, config: INLINE },
      { name: 'c', versions: { '1': Buffer.from('not an ONNX model') } },
    ]);
    server = await startServer({ repositories: [repo.dir], args: ['--model-control-mode', 'explicit'] });
  });
  afterAll(async () => {
    await server?.stop();
    await repo?.remove();
  });

  it('explicit: nothing serves until loaded; load and unload through the management API', async () => {
    const api = management(server);
    expect(server.readyAtStart).toBe(true);
    const index = (await httpRequest(`${server.httpUrl}/v2/repository/index`, { method: 'POST' })).json as Array<{ name: string; state: string }>;
    expect(index.map((r) => `${r.name}:${r.state}`)).toEqual(['a:UNAVAILABLE', 'b:UNAVAILABLE', 'c:UNAVAILABLE']);
    expect((await infer(server, 'a')).status).toBe(503);

    expect((await api.load('a')).status).toBe(200);
    expect(await infer(server, 'a')).toMatchObject({ status: 200, version: '1', added: 1 });
    expect((await infer(server, 'b')).status).toBe(503);

    // A file added to the repository is read again by the next load.
    await writeModelRepository(repo.dir, [{ name: 'a', versions: { '1': addK('a', 1), '2': addK('a', 2) }, config: INLINE }]);
    expect((await api.load('a')).status).toBe(200);
    expect(await infer(server, 'a')).toMatchObject({ status: 200, version: '2', added: 2 });

    expect((await api.unload('a')).status).toBe(200);
    expect((await infer(server, 'a')).status).toBe(503);
    expect((await api.load('nope')).status).toBe(404);
    // A model that cannot load: Triton's 400, with the runtime's reason.
    const refused = await api.load('c');
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('onnxruntime cannot load');
  }, 60_000);
});

describe('poll mode', () => {
  let repo: TempRepository;
  let server: RunningServer;

  beforeAll(async () => {
    repo = await tempRepository([{ name: 'p', versions: { '1': addK('p', 1) }, config: INLINE }]);
    server = await startServer({ repositories: [repo.dir], args: ['--model-control-mode', 'poll', '--repository-poll-secs', '1'] });
  });
  afterAll(async () => {
    await server?.stop();
    await repo?.remove();
  });

  it('a new version directory becomes a version and serves; a changed file becomes the next one', async () => {
    expect(await infer(server, 'p')).toMatchObject({ version: '1', added: 1 });
    await writeModelRepository(repo.dir, [{ name: 'p', versions: { '1': addK('p', 1), '2': addK('p', 2) }, config: INLINE }]);
    await eventually('version 2 serving', async () => (await infer(server, 'p')).version === '2');
    await writeFile(join(repo.dir, 'p', '2', 'model.onnx'), addK('p', 20));
    await eventually('version 3 serving', async () => (await infer(server, 'p')).version === '3');
    expect(await infer(server, 'p')).toMatchObject({ version: '3', added: 20 });
    const versions = (await management(server).ok(management(server).json('GET', '/v1/models/p/versions'))).json as { versions: unknown[] };
    expect(versions.versions).toHaveLength(3);
  }, 60_000);
});
