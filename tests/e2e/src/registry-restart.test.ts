/**
 * The registry survives a restart: a server stopped and started again on the same data directory (or
 * the same PostgreSQL database) still has every model, version, live pointer and audit entry, serves
 * the same live versions, and importing its model repository again creates no version.
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb } from '@sibyl/registry';
import { buildOnnxModel } from '@sibyl/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpRequest, postJson, startServer, tempRepository, type HttpAnswer, type RunningServer, type TempRepository } from './index.js';

function addK(name: string, k: number): Uint8Array {
  return buildOnnxModel({
    name,
    inputs: [{ name: 'x', datatype: 'FP32', shape: [1] }],
    outputs: [{ name: 'y', datatype: 'FP32', shape: [1] }],
    initializers: [{ name: 'k', datatype: 'FP32', dims: [1], values: new Float32Array([k]) }],
    nodes: [{ op: 'Add', inputs: ['x', 'k'], outputs: ['y'] }],
  });
}

/** Every file below `dir` (recursively) with its size; [] when `dir` does not exist. */
async function listFiles(dir: string): Promise<Array<{ path: string; size: number }>> {
  let names: string[];
  try {
    names = (await readdir(dir, { recursive: true })) as string[];
  } catch {
    return [];
  }
  const out: Array<{ path: string; size: number }> = [];
  for (const name of names) {
    const info = await stat(join(dir, name)).catch(() => undefined);
    if (info?.isFile()) out.push({ path: name, size: info.size });
  }
  return out;
}

const INLINE = { parameters: { execution_mode: { string_value: 'inline' } } };
const DATABASE_URL = process.env.DATABASE_URL ?? '';

async function admin(sql: string): Promise<void> {
  const db = await openDb({ databaseUrl: DATABASE_URL, poolSize: 1 });
  try {
    await db.exec(sql);
  } finally {
    await db.close();
  }
}

async function call(server: RunningServer, method: string, path: string, body?: unknown): Promise<HttpAnswer> {
  const answer = await httpRequest(`${server.managementUrl!}${path}`, {
    method,
    headers: { 'x-sibyl-actor': 'e2e', ...(body === undefined || body instanceof Uint8Array ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: body instanceof Uint8Array ? body : JSON.stringify(body) }),
  });
  if (answer.status >= 300) throw new Error(`${method} ${path} answered ${answer.status}: ${answer.text}`);
  return answer;
}

async function answer(server: RunningServer, model: string): Promise<string> {
  const res = await postJson(`${server.httpUrl}/v2/models/${model}/infer`, { inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [0] }] });
  if (res.status !== 200) throw new Error(`infer ${model}: ${res.status} ${res.text}`);
  return (res.json as { model_version: string }).model_version;
}

/** Everything the registry holds, as the management API shows it. */
async function snapshot(server: RunningServer) {
  const models = ((await call(server, 'GET', '/v1/models')).json as { models: Array<Record<string, unknown>> }).models;
  const out: Record<string, unknown> = {};
  for (const m of models) {
    const name = m['name'] as string;
    const versions = ((await call(server, 'GET', `/v1/models/${name}/versions`)).json as { versions: Array<Record<string, unknown>> }).versions;
    const events = ((await call(server, 'GET', `/v1/models/${name}/events?limit=1000`)).json as { events: Array<Record<string, unknown>> }).events;
    out[name] = {
      live: m['live_version'],
      previous: m['previous_version'],
      created: m['created_at'],
      versions: versions.map((v) => ({ version: v['version'], sha256: v['sha256'], created: v['created_at'], state: v['state'] })),
      events,
    };
  }
  return out as Record<string, { live: number | null; previous: number | null; versions: Array<{ version: number; sha256: string }>; events: Array<{ id: number }> }>;
}

function suite(database: 'pglite' | 'postgres') {
  let repo: TempRepository;
  let dataDir: string;
  let dbName: string | undefined;
  let args: string[];
  let env: Record<string, string> = {};

  beforeAll(async () => {
    repo = await tempRepository([
      { name: 'kept', versions: { '1': addK('kept', 1), '2': addK('kept', 2) }, config: INLINE },
      { name: 'other', versions: { '1': addK('other', 1) }, config: INLINE },
    ]);
    dataDir = await mkdtemp(join(tmpdir(), 'sibyl-e2e-restart-'));
    args = ['--data-dir', dataDir];
    if (database === 'postgres') {
      dbName = `sibyl_e2e_restart_${process.pid}_${Date.now().toString(36)}`;
      await admin(`CREATE DATABASE "${dbName}"`);
      const url = new URL(DATABASE_URL);
      url.pathname = `/${dbName}`;
      env = { DATABASE_URL: url.toString() };
    }
  });
  afterAll(async () => {
    await repo?.remove();
    await rm(dataDir, { recursive: true, force: true });
    if (dbName !== undefined) {
      await admin(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    }
  });

  it('keeps every model, version, live pointer and audit entry across a restart; re-importing adds nothing', async () => {
    let before: Awaited<ReturnType<typeof snapshot>>;
    const first = await startServer({ repositories: [repo.dir], args, env });
    try {
      expect(first.output()).toContain(database === 'pglite' ? `PGlite in ${join(dataDir, 'registry')}` : 'PostgreSQL at');
      expect(await answer(first, 'kept')).toBe('2');
      // A release through the API, and a version uploaded there: both must survive.
      await call(first, 'POST', '/v1/models/kept/deploy', { version: 1 });
      await call(first, 'POST', '/v1/models', { name: 'uploaded' });
      await call(first, 'POST', '/v1/models/uploaded/versions?filename=model.onnx', addK('uploaded', 7));
      await call(first, 'POST', '/v1/models/uploaded/deploy', { version: 1 });
      expect(await answer(first, 'kept')).toBe('1');
      before = await snapshot(first);
      expect(Object.keys(before).sort()).toEqual(['kept', 'other', 'uploaded']);
      expect(before['kept']).toMatchObject({ live: 1, previous: 2 });
    } finally {
      expect(await first.stop()).toEqual({ code: 0, signal: null });
    }

    const second = await startServer({ repositories: [repo.dir], args, env });
    try {
      const importLine = second.logLines().find((l) => l['event'] === 'import');
      expect(importLine).toMatchObject({ registered: 0, deployed: [] });
      const after = await snapshot(second);
      expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
      for (const [name, was] of Object.entries(before)) {
        const now = after[name]!;
        expect(now.live, `${name} live`).toBe(was.live);
        expect(now.previous, `${name} previous`).toBe(was.previous);
        expect(now.versions.map((v) => [v.version, v.sha256]), `${name} versions`).toEqual(was.versions.map((v) => [v.version, v.sha256]));
        // Append-only: every entry written before the restart is still there, unchanged.
        const byId = new Map(now.events.map((e) => [e.id, e]));
        for (const e of was.events) expect(byId.get(e.id), `${name} event ${e.id}`).toEqual(e);
      }
      // The same live versions serve: the release made through the API, not the repository's newest.
      expect(await answer(second, 'kept')).toBe('1');
      expect(await answer(second, 'uploaded')).toBe('1');
      expect(await answer(second, 'other')).toBe('1');
    } finally {
      expect(await second.stop()).toEqual({ code: 0, signal: null });
    }
  }, 120_000);

  it('after a kill -9 in the middle of an upload, a restart shows no half-registered version and no leftover bytes', async () => {
    const first = await startServer({ repositories: [repo.dir], args, env });
    const artifacts = join(dataDir, 'artifacts');
    const storedBefore = await listFiles(join(artifacts, 'sha256'));
    await call(first, 'POST', '/v1/models', { name: 'halfway' });
    // 32 MiB announced, 8 MiB sent: the server is streaming it into a temp file when it dies.
    const total = 32 * 1024 * 1024;
    const url = new URL(`${first.managementUrl!}/v1/models/halfway/versions?filename=model.onnx`);
    const upload = request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(total), 'x-sibyl-actor': 'e2e' },
    });
    upload.on('error', () => undefined); // the connection dies with the server
    upload.write(Buffer.alloc(8 * 1024 * 1024, 7));
    const deadline = Date.now() + 30_000;
    while (!(await listFiles(join(artifacts, 'tmp'))).some((f) => f.size > 0)) {
      if (Date.now() > deadline) throw new Error(`the upload never reached ${join(artifacts, 'tmp')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect((await first.stop('SIGKILL')).signal).toBe('SIGKILL');
    upload.destroy();

    const second = await startServer({ repositories: [repo.dir], args, env });
    try {
      expect((await call(second, 'GET', '/v1/models/halfway')).json).toMatchObject({ live_version: null });
      expect((await call(second, 'GET', '/v1/models/halfway/versions')).json).toEqual({ versions: [] });
      const events = ((await call(second, 'GET', '/v1/models/halfway/events')).json as { events: Array<{ action: string }> }).events;
      expect(events.map((e) => e.action)).toEqual(['model.create']);
      // The store opened clean: no temp file left, no new stored bytes.
      expect(await listFiles(join(artifacts, 'tmp'))).toEqual([]);
      expect((await listFiles(join(artifacts, 'sha256'))).map((f) => f.path).sort()).toEqual(storedBefore.map((f) => f.path).sort());
    } finally {
      await call(second, 'DELETE', '/v1/models/halfway');
      expect(await second.stop()).toEqual({ code: 0, signal: null });
    }
  }, 120_000);

  it('refuses a second server on a data directory in use', async () => {
    if (database === 'postgres') return; // the lock guards the embedded database only
    const holder = await startServer({ repositories: [repo.dir], args });
    try {
      const second = startServer({ repositories: [repo.dir], args });
      await expect(second).rejects.toThrow(/SIBYL_REGISTRY_DATA_DIR_IN_USE|is in use by process/);
    } finally {
      await holder.stop();
    }
  }, 120_000);
}

describe('restart on the same data directory [pglite]', () => suite('pglite'));
describe.skipIf(DATABASE_URL === '')('restart on the same database [postgres]', () => suite('postgres'));
