import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { isSibylError } from '@sibyl/protocol';
import type { ModelVersion } from '@sibyl/registry';
import { writeModelRepository, type RepositoryModel } from '@sibyl/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { inspectModel } from './inspect-model.js';
import { createRegistrySource, type RegistrySource } from './registry-source.js';
import { addK, describeEachBackend, openTestRegistry, slowAddK, type BackendName, type TestRegistry } from './test-support/registry-backends.js';
import { createHarness, type Harness } from './test-support/service-harness.js';

const INLINE = { parameters: { execution_mode: { string_value: 'inline' } } };
const ONE_THREAD = {
  parameters: { execution_mode: { string_value: 'thread' }, intra_op_thread_count: { string_value: '1' } },
};

function model(name: string, versions: Record<string, Uint8Array>, config: object = INLINE): RepositoryModel {
  return { name, versions, config };
}

async function waitFor(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function rejection(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    if (isSibylError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a rejection');
}

interface Fixture {
  t: TestRegistry;
  source: RegistrySource;
  h: Harness;
  repo: string;
  /** Runs `x + k` on the model: the version that answered and the k it added. */
  run(name: string, version?: string): Promise<{ version: string; added: number }>;
  /** Uploads a version the way the management API does: store, inspect, register. */
  upload(name: string, bytes: Uint8Array, config?: Record<string, unknown>): Promise<ModelVersion>;
}

async function setUp(
  backend: BackendName,
  models: RepositoryModel[],
  options: { pollSecs?: number; explicit?: boolean; load?: boolean } = {},
): Promise<Fixture> {
  const t = await openTestRegistry(backend);
  const repo = join(t.dir, 'models');
  await mkdir(repo, { recursive: true });
  await writeModelRepository(repo, models);
  let source: RegistrySource | undefined;
  const h = createHarness({
    source: (logger) =>
      (source = createRegistrySource({
        registry: t.registry,
        artifacts: t.artifacts,
        logger,
        repositories: [repo],
        ...(options.pollSecs === undefined ? {} : { pollSecs: options.pollSecs }),
      })),
    ...(options.explicit === true ? { explicitModelControl: true } : {}),
  });
  await source!.importRepositories();
  if (options.load !== false) await h.service.load();
  return {
    t,
    source: source!,
    h,
    repo,
    async run(name, version) {
      const response = await h.service.infer({
        modelName: name,
        ...(version === undefined ? {} : { modelVersion: version }),
        inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: new Float32Array([100]) }],
      });
      return { version: response.modelVersion, added: (response.outputs[0]!.data as Float32Array)[0]! - 100 };
    },
    async upload(name, bytes, config) {
      const stored = await t.artifacts.put(Readable.from([Buffer.from(bytes)]), { filename: 'model.onnx' });
      const signature = await inspectModel(stored.path, config, { model: name });
      await t.registry.createModel({ name }).catch((err: unknown) => {
        if (!isSibylError(err) || err.code !== 'SIBYL_REGISTRY_MODEL_EXISTS') throw err;
      });
      return t.registry.registerVersion({
        model: name,
        sha256: stored.sha256,
        size: stored.size,
        filename: 'model.onnx',
        format: 'onnx-file',
        signature,
        config: config ?? null,
        createdBy: 'alice',
      });
    },
  };
}

async function tearDown(f: Fixture | undefined): Promise<void> {
  await f?.h.service.close();
  await f?.source.close();
  await f?.t.cleanup();
}

describeEachBackend('registry source: importing a model repository', (backend) => {
  let f: Fixture;
  beforeAll(async () => {
    f = await setUp(backend, [
      model('adder', { '1': addK('adder', 1), '2': addK('adder', 2) }),
      model('latest', { '1': addK('latest', 1), '3': addK('latest', 3) }, { ...INLINE, version_policy: { latest: { num_versions: 1 } } }),
      { name: 'broken', versions: { '1': new Uint8Array([0xde, 0xad, 0xbe, 0xef]) } },
      model('half', { '1': addK('half', 1), '2': new Uint8Array([1, 2, 3]) }),
    ]);
  }, 120_000);
  afterAll(() => tearDown(f), 60_000);

  it('registers each version directory under its number, with the signature onnxruntime derives, and deploys the newest', async () => {
    const versions = await f.t.registry.listVersions('adder');
    expect(versions.map((v) => [v.version, v.format, v.createdBy])).toEqual([
      [1, 'onnx-file', 'model-repository'],
      [2, 'onnx-file', 'model-repository'],
    ]);
    expect(versions[0]!.signature).toEqual({
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1] }],
      outputs: [{ name: 'y', datatype: 'FP32', shape: [1] }],
      maxBatchSize: 0,
    });
    expect(versions[0]!.config).toEqual(INLINE);
    expect(await f.t.artifacts.has(versions[1]!.sha256)).toBe(true);
    expect(await f.t.registry.getModel('adder')).toMatchObject({ liveVersion: 2, previousVersion: null, platform: 'onnxruntime_onnx' });
    const events = await f.t.registry.events('adder');
    expect(events.find((e) => e.action === 'deploy')).toMatchObject({ actor: 'model-repository', to: '2' });
  });

  it('serves the live version to requests without a version, and every loaded version by name', async () => {
    expect(await f.run('adder')).toEqual({ version: '2', added: 2 });
    expect(await f.run('adder', '1')).toEqual({ version: '1', added: 1 });
    expect((await f.h.service.modelMetadata('adder')).versions).toEqual(['1', '2']);
  });

  it('imports only the versions the version_policy serves', async () => {
    expect((await f.t.registry.listVersions('latest')).map((v) => v.version)).toEqual([3]);
    expect(await f.run('latest')).toEqual({ version: '3', added: 3 });
    expect((await rejection(f.run('latest', '1'))).code).toBe('SIBYL_MODEL_VERSION_NOT_FOUND');
  });

  it('does not register a file that cannot serve, and lists it UNAVAILABLE with the runtime\'s reason', async () => {
    expect((await rejection(f.t.registry.getModel('broken'))).code).toBe('SIBYL_REGISTRY_MODEL_NOT_FOUND');
    const rows = await f.h.service.repositoryIndex();
    const broken = rows.find((r) => r.name === 'broken');
    expect(broken).toMatchObject({ version: '1', state: 'UNAVAILABLE' });
    expect(broken!.reason).toContain(`model 'broken' version 1: onnxruntime cannot load '${join(f.repo, 'broken', '1', 'model.onnx')}'`);
    expect((await rejection(f.run('broken'))).code).toBe('SIBYL_MODEL_NOT_READY');
    // One bad version of a model does not keep its good one out.
    expect((await f.t.registry.listVersions('half')).map((v) => v.version)).toEqual([1]);
    expect(rows.find((r) => r.name === 'half' && r.version === '2')).toMatchObject({ state: 'UNAVAILABLE' });
    expect(await f.run('half')).toEqual({ version: '1', added: 1 });
    expect(await f.h.service.serverReady()).toBe(false);
  });

  it('records what serving found: ready for the versions that loaded', async () => {
    await f.source.close(); // waits for the reports written so far
    const versions = await f.t.registry.listVersions('adder');
    expect(versions.map((v) => v.state)).toEqual(['ready', 'ready']);
    const states = (await f.t.registry.events('adder')).filter((e) => e.action === 'version.state').map((e) => `${e.detail['version']}:${e.to}`);
    expect(states.sort()).toEqual(['1:loading', '1:ready', '2:loading', '2:ready']);
  });

  it('importing again registers nothing; a changed file or config.json becomes a new version, deployed while the repository owns releases', async () => {
    const before = (await f.t.registry.listVersions('adder')).length;
    expect((await f.source.importRepositories()).registered).toBe(0);
    expect(await f.t.registry.listVersions('adder')).toHaveLength(before);

    await writeFile(join(f.repo, 'adder', '2', 'model.onnx'), addK('adder', 20));
    const changed = await f.source.importRepositories();
    expect(changed).toMatchObject({ registered: 1, deployed: ['adder'] });
    const after = await f.t.registry.listVersions('adder');
    expect(after.map((v) => v.version)).toEqual([1, 2, 3]);
    expect((await f.t.registry.getModel('adder')).liveVersion).toBe(3);
    await waitFor('version 3 live', async () => (await f.run('adder')).version === '3');
    expect(await f.run('adder')).toEqual({ version: '3', added: 20 });

    // The same file again: found by content, nothing new.
    expect((await f.source.importRepositories()).registered).toBe(0);

    const config = JSON.parse(await readFile(join(f.repo, 'adder', 'config.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(join(f.repo, 'adder', 'config.json'), JSON.stringify({ ...config, max_batch_size: 0 }));
    expect((await f.source.importRepositories()).registered).toBe(2);
    expect((await f.t.registry.listVersions('adder')).map((v) => v.version)).toEqual([1, 2, 3, 4, 5]);
    expect((await f.source.importRepositories()).registered).toBe(0);
  });
});

describeEachBackend('registry source: version directories with more than the model file', (backend) => {
  let f: Fixture;
  beforeAll(async () => {
    f = await setUp(backend, []);
  }, 120_000);
  afterAll(() => tearDown(f), 60_000);

  it('imports them as one deterministic .tar.gz: served from the extracted directory, imported once', async () => {
    // Triton's `model.onnx` directory form, and a version directory holding an extra file.
    await mkdir(join(f.repo, 'nested', '1', 'model.onnx'), { recursive: true });
    await writeFile(join(f.repo, 'nested', '1', 'model.onnx', 'model.onnx'), addK('nested', 4));
    await writeFile(join(f.repo, 'nested', 'config.json'), JSON.stringify(INLINE));
    await writeModelRepository(f.repo, [model('extra', { '1': addK('extra', 5) })]);
    await writeFile(join(f.repo, 'extra', '1', 'notes.txt'), 'kept with the model');
    expect((await f.source.importRepositories()).registered).toBe(2);
    for (const name of ['nested', 'extra']) {
      const [v] = await f.t.registry.listVersions(name);
      expect(v).toMatchObject({ format: 'tar.gz', filename: 'model.tar.gz' });
      expect((await f.t.artifacts.stat(v!.sha256)).format).toBe('tar.gz');
    }
    await waitFor('both served', async () => (await f.run('nested').catch(() => ({ added: 0 }))).added === 4 && (await f.run('extra').catch(() => ({ added: 0 }))).added === 5);
    expect((await f.source.importRepositories()).registered).toBe(0);
  });
});

describeEachBackend('registry source: releases without a restart', (backend) => {
  let f: Fixture;
  beforeAll(async () => {
    f = await setUp(backend, [model('m', { '1': addK('m', 1), '2': addK('m', 2) })]);
  }, 120_000);
  afterAll(() => tearDown(f), 60_000);

  it('deploy and rollback reach requests without a version within 1 s, and no request fails meanwhile', async () => {
    // A steady stream of requests for the whole test; each result is kept with the time it was sent.
    const results: Array<{ sentAt: number; version: string; added: number } | { sentAt: number; error: unknown }> = [];
    let streaming = true;
    const stream = (async () => {
      while (streaming) {
        const sentAt = performance.now();
        try {
          results.push({ sentAt, ...(await f.run('m')) });
        } catch (error) {
          results.push({ sentAt, error });
        }
        await new Promise((r) => setImmediate(r));
      }
    })();

    const switches: Array<{ at: number; to: string }> = [];
    const switchTo = async (action: () => Promise<unknown>, to: string) => {
      await action();
      const at = performance.now();
      switches.push({ at, to });
      await waitFor(`version ${to} live`, () => {
        const last = results[results.length - 1];
        return last !== undefined && 'version' in last && last.version === to && last.sentAt > at;
      }, 1000);
      await new Promise((r) => setTimeout(r, 100));
    };
    await new Promise((r) => setTimeout(r, 100));
    await switchTo(() => f.t.registry.deploy('m', 1, 'alice'), '1');
    await switchTo(() => f.t.registry.deploy('m', 2, 'alice'), '2');
    await switchTo(() => f.t.registry.rollback('m', 'alice'), '1');
    await switchTo(() => f.t.registry.rollback('m', 'alice'), '2');
    streaming = false;
    await stream;

    expect(results.filter((r) => 'error' in r)).toEqual([]);
    expect(results.length).toBeGreaterThan(100);
    // Switch latency: from the registry call's return to the first request that reached the new version.
    const latencies = switches.map((s) => {
      const first = results.find((r) => r.sentAt >= s.at && 'version' in r && r.version === s.to);
      return first === undefined ? NaN : first.sentAt - s.at;
    });
    console.log(`[${backend}] switch latency after deploy/rollback returned (ms): ${latencies.map((ms) => ms.toFixed(2)).join(', ')}`);
    // Each response is the version live when it was sent, or (within 1 s of a switch) the one before.
    for (const r of results as Array<{ sentAt: number; version: string; added: number }>) {
      expect(r.added).toBe(Number(r.version));
      const last = [...switches].reverse().find((s) => s.at <= r.sentAt);
      const before = switches[switches.indexOf(last!) - 1];
      const allowed = last === undefined ? ['2'] : r.sentAt - last.at <= 1000 ? [last.to, before?.to ?? '2'] : [last.to];
      expect(allowed).toContain(r.version);
    }
  }, 30_000);

  it('loads a new upload without sending it traffic; a named request reaches it; deploy makes it live', async () => {
    const v3 = await f.upload('m', addK('m', 3), INLINE);
    expect(v3.version).toBe(3);
    await waitFor('version 3 ready', async () => (await f.h.service.modelReady('m', '3').catch(() => false)) === true);
    expect(await f.run('m')).toEqual({ version: '2', added: 2 });
    expect(await f.run('m', '3')).toEqual({ version: '3', added: 3 });
    await f.t.registry.deploy('m', 3, 'alice');
    await waitFor('version 3 live', async () => (await f.run('m')).version === '3', 1000);
  });

  it('a retired version stops serving; the live one cannot be retired', async () => {
    await f.t.registry.retireVersion('m', 1, 'alice');
    await waitFor('version 1 unloaded', async () => (await rejection(f.run('m', '1')).catch(() => ({ code: '' }))).code === 'SIBYL_MODEL_VERSION_NOT_FOUND');
    const err = await rejection(f.run('m', '1'));
    expect(err.message).toContain('it is retired');
    expect((await rejection(f.t.registry.retireVersion('m', 3))).code).toBe('SIBYL_REGISTRY_VERSION_LIVE');
    expect(f.h.logs.some((l) => l['model'] === 'm' && String(l.msg).startsWith("unloaded model 'm' version 1"))).toBe(true);
  });

  it('undeploy leaves requests without a version nothing to reach; named versions still serve', async () => {
    await f.t.registry.undeploy('m', 'alice');
    await waitFor('nothing live', async () => (await rejection(f.run('m')).catch(() => ({ code: '', message: '' }))).code === 'SIBYL_MODEL_NOT_READY');
    expect((await rejection(f.run('m'))).message).toContain('no version is live');
    expect(await f.h.service.modelReady('m')).toBe(false);
    expect(await f.run('m', '2')).toEqual({ version: '2', added: 2 });
    await f.t.registry.rollback('m', 'alice');
    await waitFor('version 3 live again', async () => (await f.run('m').catch(() => ({ version: '' }))).version === '3');
  });

  it('records a version that fails to load as failed, with the reason, and keeps serving the live one', async () => {
    // Registered without the upload check, as a file that went bad in the store would be.
    const bad = Buffer.from('not a model');
    const stored = await f.t.artifacts.put(Readable.from([bad]), { filename: 'model.onnx' });
    const v = await f.t.registry.registerVersion({
      model: 'm',
      sha256: stored.sha256,
      size: stored.size,
      filename: 'model.onnx',
      format: 'onnx-file',
      signature: { platform: 'onnxruntime_onnx', inputs: [], outputs: [] },
      createdBy: 'alice',
    });
    await waitFor('the failure recorded', async () => (await f.t.registry.getVersion('m', v.version)).state === 'failed');
    const recorded = await f.t.registry.getVersion('m', v.version);
    expect(recorded.stateReason).toContain(`model 'm' version ${v.version}: onnxruntime cannot load`);
    expect((await rejection(f.t.registry.deploy('m', v.version))).code).toBe('SIBYL_REGISTRY_VERSION_NOT_DEPLOYABLE');
    expect(await f.run('m')).toEqual({ version: '3', added: 3 });
  });

  it('a model deleted from the registry stops serving', async () => {
    await f.upload('gone', addK('gone', 5), INLINE);
    await waitFor('gone loaded', async () => (await f.h.service.modelReady('gone', '1').catch(() => false)) === true);
    await f.t.registry.deleteModel('gone', 'alice');
    await waitFor('gone removed', async () => (await rejection(f.h.service.modelReady('gone')).catch(() => ({ code: '' }))).code === 'SIBYL_MODEL_NOT_FOUND');
  });
});

describeEachBackend('registry source: switching with requests in flight', (backend) => {
  let f: Fixture;
  beforeAll(async () => {
    // One worker thread per version: concurrent requests queue in front of it.
    f = await setUp(backend, [model('slow', { '1': slowAddK('slow', 1), '2': slowAddK('slow', 2) }, ONE_THREAD)]);
    await f.t.registry.deploy('slow', 1, 'alice');
    await waitFor('version 1 live', async () => (await f.run('slow')).version === '1');
  }, 120_000);
  afterAll(() => tearDown(f), 60_000);

  it('requests started on the old version finish on it; retiring it waits for them', async () => {
    const inflight = Array.from({ length: 24 }, () => f.run('slow'));
    await f.t.registry.deploy('slow', 2, 'alice');
    // The switch happens while requests still queue on version 1; then version 1 is retired under them.
    // (Watched in the log: a request without a version would queue behind the ones on version 1.)
    await waitFor('version 2 live', () => f.h.logs.some((l) => l['event'] === 'live' && l['model'] === 'slow' && l['version'] === '2'), 1000);
    await f.t.registry.retireVersion('slow', 1, 'alice');
    await waitFor('version 1 unloaded', () => f.h.logs.some((l) => String(l.msg).startsWith("unloaded model 'slow' version 1")), 1000);
    const done = await Promise.allSettled(inflight);
    expect(done.filter((d) => d.status === 'rejected')).toEqual([]);
    const answers = done.map((d) => (d as PromiseFulfilledResult<{ version: string; added: number }>).value);
    expect(answers.every((a) => a.version === '1' && a.added === 1)).toBe(true);
    const unloaded = f.h.logs.find((l) => String(l.msg).startsWith("unloaded model 'slow' version 1"));
    expect(unloaded?.['inflight']).toBeGreaterThan(0);
    expect((await f.run('slow')).version).toBe('2');
    await waitFor('version 1 released', () => (f.h.service.repositoryIndex() as unknown as Promise<Array<{ version?: string }>>).then((rows) => !rows.some((r) => r.version === '1')));
  }, 60_000);
});

describeEachBackend('registry source: deploying a version that is still loading', (backend) => {
  let f: Fixture;
  beforeAll(async () => {
    f = await setUp(backend, [model('late', { '1': addK('late', 1) })]);
  }, 120_000);
  afterAll(() => tearDown(f), 60_000);

  it('keeps the old live version serving until the new one is ready, then switches', async () => {
    const answers: Array<{ version: string } | { error: unknown }> = [];
    let streaming = true;
    const stream = (async () => {
      while (streaming) {
        answers.push(await f.run('late').catch((error: unknown) => ({ error })));
        await new Promise((r) => setImmediate(r));
      }
    })();
    // Upload and deploy at once: the service sees the deploy before the version has loaded (two
    // worker threads take a while to start).
    const v2 = await f.upload('late', addK('late', 2), { ...ONE_THREAD, instance_group: [{ count: 2 }] });
    await f.t.registry.deploy('late', v2.version, 'alice');
    await waitFor('version 2 live', () => answers.some((a) => 'version' in a && a.version === '2'), 10_000);
    streaming = false;
    await stream;
    expect(answers.filter((a) => 'error' in a)).toEqual([]);
    const versions = answers.map((a) => (a as { version: string }).version);
    // Version 1 until the switch, version 2 after it: never back.
    expect(versions.slice(versions.indexOf('2')).every((v) => v === '2')).toBe(true);
    expect(versions[0]).toBe('1');
  }, 60_000);
});

describeEachBackend('registry source: model control', (backend) => {
  let f: Fixture | undefined;
  afterEach(() => tearDown(f), 60_000);

  it('explicit: nothing loads at start; load(name) loads a model, unload(name) drains it', async () => {
    f = await setUp(backend, [model('a', { '1': addK('a', 1) }), model('b', { '1': addK('b', 1) })], { explicit: true });
    expect((await f.h.service.repositoryIndex()).map((r) => [r.name, r.state, r.reason])).toEqual([
      ['a', 'UNAVAILABLE', 'unloaded'],
      ['b', 'UNAVAILABLE', 'unloaded'],
    ]);
    expect(await f.h.service.serverReady()).toBe(true);
    expect((await rejection(f.run('a'))).message).toContain('not loaded');
    const summary = await f.h.service.load('a');
    expect(summary).toMatchObject({ loaded: 1, failed: 0 });
    expect(await f.run('a')).toEqual({ version: '1', added: 1 });
    // A release of a loaded model still applies; an unloaded model stays unloaded.
    await f.upload('b', addK('b', 2), INLINE);
    await f.t.registry.deploy('b', 2, 'alice');
    await f.h.service.settled();
    expect((await rejection(f.run('b'))).message).toContain('not loaded');
    await f.h.service.unload('a');
    expect((await rejection(f.run('a'))).message).toContain('not loaded');
    expect((await rejection(f.h.service.load('nope'))).code).toBe('SIBYL_MODEL_NOT_FOUND');
    expect((await rejection(f.h.service.unload('nope'))).code).toBe('SIBYL_MODEL_NOT_FOUND');
  }, 60_000);

  it('load(name) re-reads the repository: a file added since start is imported, and a model that cannot serve is refused with the reason', async () => {
    f = await setUp(backend, [model('a', { '1': addK('a', 1) })], { explicit: true });
    await writeModelRepository(f.repo, [model('a', { '1': addK('a', 1), '2': addK('a', 2) }), { name: 'bad', versions: { '1': new Uint8Array([7]) } }]);
    await f.h.service.load('a');
    expect(await f.run('a')).toEqual({ version: '2', added: 2 });
    const err = await rejection(f.h.service.load('bad'));
    expect(err.code).toBe('SIBYL_MODEL_FILE_INVALID');
    expect(err.message).toContain('onnxruntime cannot load');
  }, 60_000);

  it('keeps the canary and shadow versions loaded, whatever the version_policy; clearing them unloads them', async () => {
    const latestOnly = { ...INLINE, version_policy: { latest: { num_versions: 1 } } };
    f = await setUp(backend, [model('c', { '1': addK('c', 1) }, latestOnly)]);
    for (const v of [2, 3, 4]) await f.upload('c', addK('c', v), latestOnly);
    const fx = f;
    await waitFor('version 4 loaded', async () => (await fx.run('c', '4').catch(() => ({ version: '' }))).version === '4');
    expect(await f.run('c')).toEqual({ version: '1', added: 1 });
    const notServed = async (v: string) => (await rejection(fx.run('c', v)).catch(() => ({ code: '' }))).code === 'SIBYL_MODEL_VERSION_NOT_FOUND';
    expect(await notServed('2')).toBe(true);
    expect(await notServed('3')).toBe(true);

    await f.t.registry.setTraffic('c', { canaryVersion: 2, canaryWeight: 0.1, shadowVersion: 3 }, 'alice');
    const answers = async (v: string) => (await fx.run('c', v).catch(() => ({ version: '' }))).version === v;
    await waitFor('canary and shadow loaded', async () => (await answers('2')) && (await answers('3')));
    expect(await f.run('c', '2')).toEqual({ version: '2', added: 2 });
    expect(await f.run('c', '3')).toEqual({ version: '3', added: 3 });

    await f.t.registry.setTraffic('c', { canaryVersion: null, shadowVersion: null }, 'alice');
    await waitFor('canary and shadow unloaded', async () => (await notServed('2')) && (await notServed('3')));
    expect(await f.run('c')).toEqual({ version: '1', added: 1 });
  }, 60_000);

  it('poll: a new version directory is imported and served; after someone else deploys, the import leaves the live version alone', async () => {
    f = await setUp(backend, [model('p', { '1': addK('p', 1) })], { pollSecs: 0.2 });
    expect(await f.run('p')).toEqual({ version: '1', added: 1 });
    await writeModelRepository(f.repo, [model('p', { '1': addK('p', 1), '2': addK('p', 2) })]);
    await waitFor('version 2 live', async () => (await f!.run('p')).version === '2', 10_000);
    await f.t.registry.deploy('p', 1, 'alice');
    await writeModelRepository(f.repo, [model('p', { '1': addK('p', 1), '2': addK('p', 2), '3': addK('p', 3) })]);
    await waitFor('version 3 loaded', async () => (await f!.h.service.modelReady('p', '3').catch(() => false)) === true, 10_000);
    expect(await f.run('p')).toEqual({ version: '1', added: 1 });
    expect((await f.t.registry.getModel('p')).liveVersion).toBe(1);
    // Removing a directory removes nothing from the registry.
    await rm(join(f.repo, 'p', '3'), { recursive: true });
    await new Promise((r) => setTimeout(r, 500));
    expect((await f.t.registry.listVersions('p')).map((v) => v.version)).toEqual([1, 2, 3]);
  }, 60_000);
});

describe.skipIf(process.env.DATABASE_URL === undefined || process.env.DATABASE_URL === '')('registry source: another process [postgres]', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await setUp('postgres', [model('shared', { '1': addK('shared', 1), '2': addK('shared', 2) })]);
  }, 120_000);
  afterAll(() => tearDown(f), 60_000);

  it('follows deploys and uploads made through another connection (LISTEN/NOTIFY)', async () => {
    const other = await f.t.another('bob');
    await other.deploy('shared', 1);
    await waitFor('version 1 live', async () => (await f.run('shared')).version === '1', 1000);
    await other.rollback('shared');
    await waitFor('version 2 live', async () => (await f.run('shared')).version === '2', 1000);
    const events = await f.t.registry.events('shared');
    expect(events.filter((e) => e.actor === 'bob').map((e) => e.action)).toEqual(['rollback', 'deploy']);
  });
});

describe('inspectModel', () => {
  let t: TestRegistry;
  beforeAll(async () => {
    t = await openTestRegistry('pglite');
  });
  afterAll(() => t.cleanup());

  it('derives the signature through a real load; applies a config', async () => {
    const file = join(t.dir, 'm.onnx');
    await writeFile(file, addK('m', 1));
    expect(await inspectModel(file)).toEqual({
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1] }],
      outputs: [{ name: 'y', datatype: 'FP32', shape: [1] }],
      maxBatchSize: 0,
    });
    const err = await rejection(inspectModel(file, { input: [{ name: 'x', data_type: 'TYPE_INT32', dims: [1] }] }, { model: 'm' }));
    expect(err.code).toBe('SIBYL_CONFIG_MISMATCH');
    expect((await rejection(inspectModel(file, { max_batch_size: 'x' }))).code).toBe('SIBYL_CONFIG_INVALID');
    expect((await rejection(inspectModel(file, [1]))).code).toBe('SIBYL_CONFIG_INVALID');
  });

  it('throws the precise runtime error for a file that is not a model', async () => {
    const file = join(t.dir, 'bad.onnx');
    await writeFile(file, Buffer.from('this is not an ONNX model'));
    const err = await rejection(inspectModel(file, undefined, { model: 'up', version: 7 }));
    expect(err.code).toBe('SIBYL_MODEL_FILE_INVALID');
    expect(err.message).toContain("model 'up' version 7: onnxruntime cannot load");
    expect((await rejection(inspectModel(join(t.dir, 'missing.onnx')))).code).toBe('SIBYL_MODEL_FILE_MISSING');
  });
});
