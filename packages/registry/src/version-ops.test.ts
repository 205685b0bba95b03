import { expect, it } from 'vitest';
import { createRegistry } from './registry.js';
import { describeEachBackend } from './test-support/backends.js';
import { SIGNATURE, sha256Of, upload } from './test-support/fixtures.js';
import { useRegistry } from './test-support/registry-harness.js';

describeEachBackend('versions', (backend) => {
  const f = useRegistry(backend);

  async function model(): Promise<string> {
    const name = f.name();
    await f.registry.createModel({ name });
    return name;
  }

  it('registers versions 1, 2, 3 with everything given, in state registered, and audits each', async () => {
    const name = await model();
    const first = await f.registry.registerVersion(upload(name, 'one'));
    expect(first).toEqual({
      model: name,
      version: 1,
      sha256: sha256Of('one'),
      size: 3,
      filename: 'model.onnx',
      format: 'onnx-file',
      signature: SIGNATURE,
      config: { max_batch_size: 4 },
      createdBy: 'alice',
      createdAt: expect.any(Date),
      state: 'registered',
      stateReason: '',
      stateChangedAt: expect.any(Date),
    });
    const second = await f.registry.registerVersion(
      upload(name, 'two', { format: 'tar.gz', filename: 'model.tar.gz', config: null, createdBy: undefined }),
    );
    expect(second).toMatchObject({ version: 2, format: 'tar.gz', config: null, createdBy: 'tester' });
    expect((await f.registry.registerVersion(upload(name, 'three'))).version).toBe(3);
    expect(await f.registry.getVersion(name, 1)).toEqual(first);
    expect((await f.registry.listVersions(name)).map((v) => v.version)).toEqual([1, 2, 3]);
    const events = await f.registry.events(name);
    expect(events.slice(0, 3).map((e) => [e.action, e.actor, e.to])).toEqual([
      ['version.register', 'alice', '3'],
      ['version.register', 'tester', '2'],
      ['version.register', 'alice', '1'],
    ]);
    expect(events[2]!.detail).toEqual({ version: 1, sha256: sha256Of('one'), size: 3, filename: 'model.onnx', format: 'onnx-file' });
  });

  it('keeps sizes past 2^32 exact', async () => {
    const name = await model();
    const big = 2 ** 40 + 7;
    expect((await f.registry.registerVersion(upload(name, 'big', { size: big }))).size).toBe(big);
    expect((await f.registry.getVersion(name, 1)).size).toBe(big);
  });

  it('gives concurrent registrations distinct, consecutive numbers', async () => {
    const name = await model();
    const dbs = backend.shared ? [f.h.db, await f.h.openAnother()] : [f.h.db];
    const registries = dbs.map((db) => createRegistry(db));
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => registries[i % registries.length]!.registerVersion(upload(name, `c${i}`))),
    );
    expect(results.map((v) => v.version).sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect((await f.registry.events(name)).filter((e) => e.action === 'version.register')).toHaveLength(12);
  });

  it('takes an explicit version number (repository import) and continues after the highest', async () => {
    const name = await model();
    expect((await f.registry.registerVersion(upload(name, 'seven', { version: 7 }))).version).toBe(7);
    expect((await f.registry.registerVersion(upload(name, 'three', { version: 3 }))).version).toBe(3);
    expect((await f.registry.registerVersion(upload(name, 'next'))).version).toBe(8);
    await expect(f.registry.registerVersion(upload(name, 'again', { version: 7 }))).rejects.toMatchObject({
      code: 'SIBYL_REGISTRY_VERSION_EXISTS',
      category: 'CONFLICT',
      message: `model '${name}' already has a version 7`,
    });
  });

  it('refuses a version for an unknown model', async () => {
    await expect(f.registry.registerVersion(upload('ghost', 'x'))).rejects.toMatchObject({
      code: 'SIBYL_REGISTRY_MODEL_NOT_FOUND',
      message: "model 'ghost' is not registered",
    });
  });

  it.each([
    [{ sha256: 'ABC' }, "field 'sha256': expected 64 lower-case hex digits"],
    [{ size: -1 }, "field 'size'"],
    [{ size: 1.5 }, "field 'size'"],
    [{ filename: '../model.onnx' }, "field 'filename': expected a file name without a directory part"],
    [{ filename: '' }, "field 'filename'"],
    [{ format: 'zip' }, "field 'format': expected one of onnx-file, tar.gz"],
    [{ version: 0 }, "field 'version'"],
    [{ config: [1] }, "field 'config'"],
    [{ createdBy: '' }, "field 'createdBy'"],
    [{ signature: { ...SIGNATURE, platform: '' } }, "field 'signature.platform'"],
    [{ signature: { ...SIGNATURE, inputs: [{ name: 'x', datatype: 'FLOAT', shape: [1] }] } }, "field 'signature.inputs[0].datatype'"],
    [{ signature: { ...SIGNATURE, outputs: [{ name: 'y', datatype: 'FP32', shape: [1, -2] }] } }, "field 'signature.outputs[0].shape[1]'"],
    [{ signature: { ...SIGNATURE, maxBatchSize: -1 } }, "field 'signature.maxBatchSize'"],
    [{ signature: { ...SIGNATURE, extra: 1 } }, "unknown field 'signature.extra'"],
    [{ unexpected: true }, "unknown field 'unexpected'"],
  ])('refuses %j, naming the field', async (bad, message) => {
    const name = await model();
    await expect(f.registry.registerVersion({ ...upload(name, 'bad'), ...bad } as never)).rejects.toMatchObject({
      category: 'INVALID_ARGUMENT',
      message: expect.stringContaining(message),
    });
    expect(await f.registry.listVersions(name)).toEqual([]);
  });

  it('says NOT_FOUND for an unknown version, naming model and version', async () => {
    const name = await model();
    await expect(f.registry.getVersion(name, 4)).rejects.toMatchObject({
      code: 'SIBYL_REGISTRY_VERSION_NOT_FOUND',
      category: 'NOT_FOUND',
      message: `model '${name}' has no version 4`,
    });
    await expect(f.registry.getVersion('ghost', 1)).rejects.toMatchObject({ code: 'SIBYL_REGISTRY_MODEL_NOT_FOUND' });
    await expect(f.registry.listVersions('ghost')).rejects.toMatchObject({ code: 'SIBYL_REGISTRY_MODEL_NOT_FOUND' });
    await expect(f.registry.setVersionState(name, 4, 'ready')).rejects.toMatchObject({ code: 'SIBYL_REGISTRY_VERSION_NOT_FOUND' });
    await expect(f.registry.retireVersion(name, 4)).rejects.toMatchObject({ code: 'SIBYL_REGISTRY_VERSION_NOT_FOUND' });
    await expect(f.registry.getVersion(name, -1)).rejects.toMatchObject({ code: 'SIBYL_REGISTRY_FIELD_INVALID' });
    expect(await f.registry.listVersions(name)).toEqual([]);
  });

  it('finds the newest version by artifact sha256 (idempotent import), in any state', async () => {
    const name = await model();
    await f.registry.registerVersion(upload(name, 'same'));
    await f.registry.registerVersion(upload(name, 'other'));
    await f.registry.registerVersion(upload(name, 'same'));
    await f.registry.retireVersion(name, 3);
    expect(await f.registry.findVersionBySha(name, sha256Of('same'))).toMatchObject({ version: 3, state: 'retired' });
    expect(await f.registry.findVersionBySha(name, sha256Of('other'))).toMatchObject({ version: 2 });
    expect(await f.registry.findVersionBySha(name, sha256Of('never'))).toBeUndefined();
    expect(await f.registry.findVersionBySha('ghost', sha256Of('same'))).toBeUndefined();
    await expect(f.registry.findVersionBySha(name, 'nope')).rejects.toMatchObject({ code: 'SIBYL_REGISTRY_FIELD_INVALID' });
  });

  it('records state changes with their reason and audits from -> to; unchanged state writes nothing', async () => {
    const name = await model();
    await f.registry.registerVersion(upload(name, 's'));
    expect(await f.registry.setVersionState(name, 1, 'loading', '', 'worker-1')).toMatchObject({ state: 'loading', stateReason: '' });
    const failed = await f.registry.setVersionState(name, 1, 'failed', 'onnxruntime: invalid graph', 'worker-1');
    expect(failed).toMatchObject({ state: 'failed', stateReason: 'onnxruntime: invalid graph' });
    expect(await f.registry.setVersionState(name, 1, 'ready')).toMatchObject({ state: 'ready', stateReason: '' });
    const count = (await f.registry.events(name)).length;
    await f.registry.setVersionState(name, 1, 'ready');
    const events = await f.registry.events(name);
    expect(events).toHaveLength(count);
    expect(events.slice(0, 3).map((e) => [e.action, e.actor, e.from, e.to, e.detail])).toEqual([
      ['version.state', 'tester', 'failed', 'ready', { version: 1, reason: '' }],
      ['version.state', 'worker-1', 'loading', 'failed', { version: 1, reason: 'onnxruntime: invalid graph' }],
      ['version.state', 'worker-1', 'registered', 'loading', { version: 1, reason: '' }],
    ]);
  });

  it('needs a reason for failed and a known state', async () => {
    const name = await model();
    await f.registry.registerVersion(upload(name, 's'));
    await expect(f.registry.setVersionState(name, 1, 'failed')).rejects.toMatchObject({
      code: 'SIBYL_REGISTRY_FIELD_INVALID',
      message: expect.stringContaining("field 'reason'"),
    });
    await expect(f.registry.setVersionState(name, 1, 'broken' as never)).rejects.toMatchObject({
      code: 'SIBYL_REGISTRY_FIELD_INVALID',
      message: "field 'state': expected one of registered, loading, ready, failed, retired, got \"broken\"",
    });
  });

  it('retires a version for good: idempotent, final, audited', async () => {
    const name = await model();
    await f.registry.registerVersion(upload(name, 'r'));
    const retired = await f.registry.retireVersion(name, 1, 'erin');
    expect(retired).toMatchObject({ state: 'retired' });
    expect(await f.registry.retireVersion(name, 1)).toMatchObject({ state: 'retired' });
    expect(await f.registry.setVersionState(name, 1, 'retired')).toMatchObject({ state: 'retired' });
    await expect(f.registry.setVersionState(name, 1, 'ready')).rejects.toMatchObject({
      code: 'SIBYL_REGISTRY_VERSION_RETIRED',
      category: 'CONFLICT',
      message: `version 1 of model '${name}' is retired; it cannot become ready`,
    });
    const retires = (await f.registry.events(name)).filter((e) => e.action === 'version.retire');
    expect(retires.map((e) => [e.actor, e.from, e.to])).toEqual([['erin', 'registered', 'retired']]);
    expect((await f.registry.listVersions(name)).map((v) => v.state)).toEqual(['retired']);
  });

  it('refuses to retire the live version (CONFLICT), also through setVersionState', async () => {
    const name = await model();
    await f.registry.registerVersion(upload(name, 'l'));
    await f.registry.deploy(name, 1);
    const conflict = {
      code: 'SIBYL_REGISTRY_VERSION_LIVE',
      category: 'CONFLICT',
      message: `version 1 of model '${name}' is live and cannot be retired; deploy another version first`,
    };
    await expect(f.registry.retireVersion(name, 1)).rejects.toMatchObject(conflict);
    await expect(f.registry.setVersionState(name, 1, 'retired')).rejects.toMatchObject(conflict);
    expect((await f.registry.getVersion(name, 1)).state).toBe('registered');
  });

  it('keeps version rows immutable in the database: only the state may change', async () => {
    const name = await model();
    await f.registry.registerVersion(upload(name, 'i'));
    for (const set of ["artifact_sha256 = repeat('0', 64)", 'artifact_size = 12345', "filename = 'x'", "signature = '{}'::jsonb", "created_by = 'mallory'"]) {
      await expect(f.h.db.query(`UPDATE model_versions SET ${set} WHERE model = $1`, [name])).rejects.toMatchObject({
        message: `model version ${name}/1 is immutable: only its state may change`,
      });
    }
    await f.h.db.query("UPDATE model_versions SET state = 'ready' WHERE model = $1", [name]);
    expect((await f.registry.getVersion(name, 1)).state).toBe('ready');
  });
});
