import { MODEL_NAME_RULE } from '@sibyl/protocol';
import { describe, expect, it } from 'vitest';
import { describeEachBackend } from './test-support/backends.js';
import { upload } from './test-support/fixtures.js';
import { useRegistry } from './test-support/registry-harness.js';

describeEachBackend('models', (backend) => {
  const f = useRegistry(backend);

  it('creates a model with defaults and reads it back', async () => {
    const name = f.name();
    const created = await f.registry.createModel({ name });
    expect(created).toMatchObject({
      name,
      tenant: 'default',
      platform: null,
      algorithm: null,
      description: '',
      labels: {},
      liveVersion: null,
      previousVersion: null,
    });
    expect(created.createdAt).toBeInstanceOf(Date);
    expect(created.updatedAt).toBeInstanceOf(Date);
    expect(await f.registry.getModel(name)).toEqual(created);
  });

  it('creates a model with every field and audits who did it', async () => {
    const name = f.name();
    const input = {
      name,
      tenant: 'team-a',
      platform: 'onnxruntime_onnx',
      algorithm: 'gbdt',
      description: 'fraud score',
      labels: { team: 'risk', 'app.kubernetes.io/part-of': 'payments' },
    };
    expect(await f.registry.createModel(input, 'bob')).toMatchObject({ ...input, liveVersion: null });
    const [event] = await f.registry.events(name);
    expect(event).toMatchObject({
      actor: 'bob',
      model: name,
      action: 'model.create',
      from: null,
      to: null,
      detail: { tenant: 'team-a', platform: 'onnxruntime_onnx', algorithm: 'gbdt', description: 'fraud score' },
    });
  });

  it('refuses a second model with the same name (CONFLICT), also when both are created at once', async () => {
    const name = f.name();
    await f.registry.createModel({ name });
    await expect(f.registry.createModel({ name })).rejects.toMatchObject({
      code: 'SIBYL_REGISTRY_MODEL_EXISTS',
      category: 'CONFLICT',
      message: `model '${name}' already exists`,
    });
    const racing = f.name();
    const results = await Promise.allSettled([1, 2, 3].map(() => f.registry.createModel({ name: racing })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results.filter((r) => r.status === 'rejected')) {
      expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'SIBYL_REGISTRY_MODEL_EXISTS' });
    }
    expect((await f.registry.events(racing)).filter((e) => e.action === 'model.create')).toHaveLength(1);
  });

  it.each(['../x', 'a/b', '', 'x'.repeat(129), '%2e%2e', '.hidden', 'a b'])('refuses the model name %j and names the rule', async (bad) => {
    await expect(f.registry.createModel({ name: bad })).rejects.toMatchObject({
      code: 'SIBYL_REGISTRY_MODEL_NAME_INVALID',
      category: 'INVALID_ARGUMENT',
      message: expect.stringContaining(MODEL_NAME_RULE),
    });
    await expect(f.registry.getModel(bad)).rejects.toMatchObject({ code: 'SIBYL_REGISTRY_MODEL_NAME_INVALID' });
  });

  it('accepts a 128-character name', async () => {
    const name = `a${'b'.repeat(127)}`;
    expect((await f.registry.createModel({ name })).name).toBe(name);
  });

  it('refuses unknown and ill-typed fields, naming them', async () => {
    const name = f.name();
    await expect(f.registry.createModel({ name, colour: 'red' } as never)).rejects.toMatchObject({
      code: 'SIBYL_REGISTRY_FIELD_UNKNOWN',
      message: expect.stringContaining("unknown field 'colour'"),
    });
    await expect(f.registry.createModel({ name, labels: { team: 7 } } as never)).rejects.toMatchObject({
      code: 'SIBYL_REGISTRY_FIELD_INVALID',
      message: "field 'labels.team': expected a string of at most 256 characters, got 7",
    });
    await expect(f.registry.createModel({ name, labels: ['x'] } as never)).rejects.toMatchObject({
      code: 'SIBYL_REGISTRY_FIELD_INVALID',
      message: expect.stringContaining("field 'labels'"),
    });
    await expect(f.registry.createModel({ name, tenant: '../t' })).rejects.toMatchObject({
      code: 'SIBYL_REGISTRY_FIELD_INVALID',
      message: expect.stringContaining("field 'tenant'"),
    });
    await expect(f.registry.createModel({ name, description: 5 } as never)).rejects.toMatchObject({
      code: 'SIBYL_REGISTRY_FIELD_INVALID',
      message: expect.stringContaining("field 'description'"),
    });
    await expect(f.registry.createModel({ name }, '')).rejects.toMatchObject({
      code: 'SIBYL_REGISTRY_FIELD_INVALID',
      message: expect.stringContaining("field 'actor'"),
    });
    await expect(f.registry.getModel(name)).rejects.toMatchObject({ code: 'SIBYL_REGISTRY_MODEL_NOT_FOUND' });
  });

  it('lists models by name, optionally for one tenant', async () => {
    const a = f.name('list-b');
    const b = f.name('list-a');
    await f.registry.createModel({ name: a, tenant: 'list-tenant' });
    await f.registry.createModel({ name: b, tenant: 'list-tenant' });
    const all = await f.registry.listModels();
    const names = all.map((m) => m.name);
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(expect.arrayContaining([a, b]));
    expect((await f.registry.listModels({ tenant: 'list-tenant' })).map((m) => m.name)).toEqual([b, a]);
    expect(await f.registry.listModels({ tenant: 'nobody' })).toEqual([]);
  });

  it('says NOT_FOUND for an unknown model, naming it', async () => {
    await expect(f.registry.getModel('nope')).rejects.toMatchObject({
      code: 'SIBYL_REGISTRY_MODEL_NOT_FOUND',
      category: 'NOT_FOUND',
      message: "model 'nope' is not registered",
    });
    await expect(f.registry.updateModel('nope', { description: 'x' })).rejects.toMatchObject({
      code: 'SIBYL_REGISTRY_MODEL_NOT_FOUND',
    });
    await expect(f.registry.deleteModel('nope')).rejects.toMatchObject({ code: 'SIBYL_REGISTRY_MODEL_NOT_FOUND' });
    await expect(f.registry.events('nope')).rejects.toMatchObject({ code: 'SIBYL_REGISTRY_MODEL_NOT_FOUND' });
  });

  it('updates description and labels (labels replaced whole), audits from and to, and skips no-op updates', async () => {
    const name = f.name();
    const created = await f.registry.createModel({ name, description: 'old', labels: { a: '1', b: '2' } });
    const updated = await f.registry.updateModel(name, { description: 'new', labels: { c: '3' } }, 'carol');
    expect(updated).toMatchObject({ description: 'new', labels: { c: '3' } });
    expect(updated.updatedAt.getTime()).toBeGreaterThanOrEqual(created.updatedAt.getTime());
    expect(await f.registry.getModel(name)).toEqual(updated);

    const onlyLabels = await f.registry.updateModel(name, { labels: {} });
    expect(onlyLabels).toMatchObject({ description: 'new', labels: {} });

    const [latest, first] = await f.registry.events(name, { limit: 2 });
    expect(first).toMatchObject({
      action: 'model.update',
      actor: 'carol',
      detail: { description: { from: 'old', to: 'new' }, labels: { from: { a: '1', b: '2' }, to: { c: '3' } } },
    });
    expect(latest).toMatchObject({ action: 'model.update', actor: 'tester', detail: { labels: { from: { c: '3' }, to: {} } } });

    const count = (await f.registry.events(name)).length;
    await f.registry.updateModel(name, { description: 'new', labels: {} });
    expect(await f.registry.events(name)).toHaveLength(count);
  });

  it('refuses updates of fields that cannot change', async () => {
    const name = f.name();
    await f.registry.createModel({ name });
    await expect(f.registry.updateModel(name, { tenant: 'other' } as never)).rejects.toMatchObject({
      code: 'SIBYL_REGISTRY_FIELD_UNKNOWN',
      message: "unknown field 'tenant'; known fields: description, labels",
    });
  });

  it('deletes a model with its versions and keeps its audit history', async () => {
    const name = f.name();
    await f.registry.createModel({ name });
    await f.registry.registerVersion(upload(name, 'v1'));
    await f.registry.registerVersion(upload(name, 'v2'));
    await f.registry.deleteModel(name, 'dave');
    await expect(f.registry.getModel(name)).rejects.toMatchObject({ code: 'SIBYL_REGISTRY_MODEL_NOT_FOUND' });
    await expect(f.registry.listVersions(name)).rejects.toMatchObject({ code: 'SIBYL_REGISTRY_MODEL_NOT_FOUND' });
    const { rows } = await f.h.db.query<{ n: number }>('SELECT count(*)::int AS n FROM model_versions WHERE model = $1', [name]);
    expect(rows[0]!.n).toBe(0);
    const events = await f.registry.events(name);
    expect(events.map((e) => e.action)).toEqual(['model.delete', 'version.register', 'version.register', 'model.create']);
    expect(events[0]).toMatchObject({ actor: 'dave', detail: { versions: 2, tenant: 'default' } });

    // The name is free again; the new model starts at version 1 and shares the old history's name.
    await f.registry.createModel({ name });
    expect((await f.registry.registerVersion(upload(name, 'again'))).version).toBe(1);
  });

  it('deletes a model whose previous version is set (after an undeploy)', async () => {
    const name = f.name();
    await f.registry.createModel({ name });
    await f.registry.registerVersion(upload(name, 'p1'));
    await f.registry.deploy(name, 1);
    await f.registry.undeploy(name);
    expect(await f.registry.getModel(name)).toMatchObject({ liveVersion: null, previousVersion: 1 });
    await f.registry.deleteModel(name);
    await expect(f.registry.getModel(name)).rejects.toMatchObject({ code: 'SIBYL_REGISTRY_MODEL_NOT_FOUND' });
  });

  it('refuses to delete a model while it has a live version (CONFLICT naming the version)', async () => {
    const name = f.name();
    await f.registry.createModel({ name });
    await f.registry.registerVersion(upload(name, 'live'));
    await f.registry.deploy(name, 1);
    await expect(f.registry.deleteModel(name)).rejects.toMatchObject({
      code: 'SIBYL_REGISTRY_MODEL_LIVE',
      category: 'CONFLICT',
      message: `model '${name}' cannot be deleted while version 1 is live; undeploy it first`,
    });
    expect((await f.registry.getModel(name)).liveVersion).toBe(1);
  });
});

describe('createRegistry', () => {
  it('refuses an empty default actor', async () => {
    const { createRegistry } = await import('./registry.js');
    expect(() => createRegistry({} as never, { actor: '' })).toThrow("field 'actor'");
  });
});
