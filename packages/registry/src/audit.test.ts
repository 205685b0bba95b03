import { expect, it } from 'vitest';
import { parseChange } from './audit.js';
import { createRegistry } from './registry.js';
import type { RegistryChange, RegistryResync } from './registry-types.js';
import { describeEachBackend } from './test-support/backends.js';
import { upload, waitFor } from './test-support/fixtures.js';
import { useRegistry } from './test-support/registry-harness.js';

describeEachBackend('audit log and notifications', (backend) => {
  const f = useRegistry(backend);

  async function modelWithEvents(): Promise<string> {
    const name = f.name();
    await f.registry.createModel({ name });
    await f.registry.registerVersion(upload(name, `${name}-1`));
    await f.registry.registerVersion(upload(name, `${name}-2`));
    await f.registry.deploy(name, 1);
    await f.registry.deploy(name, 2);
    await f.registry.rollback(name);
    return name;
  }

  it('refuses UPDATE, DELETE and TRUNCATE of audit events', async () => {
    const name = await modelWithEvents();
    const before = await f.registry.events(name);
    await expect(f.h.db.query("UPDATE audit_events SET actor = 'mallory' WHERE model = $1", [name])).rejects.toMatchObject({
      message: 'audit_events is append-only: UPDATE is refused',
    });
    await expect(f.h.db.query('DELETE FROM audit_events WHERE model = $1', [name])).rejects.toMatchObject({
      message: 'audit_events is append-only: DELETE is refused',
    });
    await expect(f.h.db.exec('TRUNCATE audit_events')).rejects.toMatchObject({
      message: 'audit_events is append-only: TRUNCATE is refused',
    });
    expect(await f.registry.events(name)).toEqual(before);
  });

  it('returns events newest first with increasing ids, and pages with limit and before', async () => {
    const name = await modelWithEvents();
    const all = await f.registry.events(name);
    expect(all.map((e) => e.action)).toEqual([
      'rollback',
      'deploy',
      'deploy',
      'version.register',
      'version.register',
      'model.create',
    ]);
    for (let i = 1; i < all.length; i++) expect(all[i]!.id).toBeLessThan(all[i - 1]!.id);
    for (const e of all) expect(e).toMatchObject({ model: name, actor: expect.any(String), at: expect.any(Date) });
    const page1 = await f.registry.events(name, { limit: 4 });
    const page2 = await f.registry.events(name, { limit: 4, before: page1.at(-1)!.id });
    expect([...page1, ...page2]).toEqual(all);
    expect(await f.registry.events(name, { before: all.at(-1)!.id })).toEqual([]);
  });

  it('refuses bad paging options, naming them', async () => {
    const name = await modelWithEvents();
    await expect(f.registry.events(name, { limit: 0 })).rejects.toMatchObject({
      code: 'SIBYL_REGISTRY_FIELD_INVALID',
      message: "field 'limit': expected a whole number from 1 to 1000, got 0",
    });
    await expect(f.registry.events(name, { limit: 1001 })).rejects.toMatchObject({ code: 'SIBYL_REGISTRY_FIELD_INVALID' });
    await expect(f.registry.events(name, { before: 1.5 })).rejects.toMatchObject({
      message: expect.stringContaining("field 'before'"),
    });
    await expect(f.registry.events(name, { after: 1 } as never)).rejects.toMatchObject({ code: 'SIBYL_REGISTRY_FIELD_UNKNOWN' });
  });

  it('writes no event and sends no notification when a change is refused', async () => {
    const name = await modelWithEvents();
    const got: Array<RegistryChange | RegistryResync> = [];
    const unsubscribe = await f.registry.subscribe((c) => got.push(c));
    const before = await f.registry.events(name);
    await expect(f.registry.deploy(name, 99)).rejects.toMatchObject({ code: 'SIBYL_REGISTRY_VERSION_NOT_FOUND' });
    await expect(f.registry.retireVersion(name, 1)).rejects.toMatchObject({ code: 'SIBYL_REGISTRY_VERSION_LIVE' });
    await f.registry.updateModel(name, { description: 'marker' });
    await waitFor(() => got.length > 0, 1000, 'the marker notification');
    expect(got).toEqual([{ kind: 'model.update', model: name, eventId: expect.any(Number) }]);
    expect(await f.registry.events(name)).toHaveLength(before.length + 1);
    await unsubscribe();
  });

  it('announces deploy and rollback to subscribers within 1 s, with the audit event id', async () => {
    const name = f.name();
    await f.registry.createModel({ name });
    await f.registry.registerVersion(upload(name, 'n1'));
    await f.registry.registerVersion(upload(name, 'n2'));
    const got: Array<RegistryChange | RegistryResync> = [];
    const unsubscribe = await f.registry.subscribe((c) => got.push(c));
    const ours = () => got.filter((c) => c.kind !== 'resync' && c.model === name) as RegistryChange[];

    let started = Date.now();
    await f.registry.deploy(name, 1);
    await f.registry.deploy(name, 2);
    await waitFor(() => ours().length === 2, 1000, 'two deploy notifications');
    expect(Date.now() - started).toBeLessThan(1000);

    started = Date.now();
    await f.registry.rollback(name);
    await waitFor(() => ours().length === 3, 1000, 'the rollback notification');
    expect(Date.now() - started).toBeLessThan(1000);

    const events = await f.registry.events(name, { limit: 3 });
    expect(ours()).toEqual([
      { kind: 'deploy', model: name, eventId: events[2]!.id },
      { kind: 'deploy', model: name, eventId: events[1]!.id },
      { kind: 'rollback', model: name, eventId: events[0]!.id },
    ]);
    await unsubscribe();
    await f.registry.deploy(name, 1);
    await new Promise((r) => setTimeout(r, 100));
    expect(ours()).toHaveLength(3);
  });

  it('announces every kind of change', async () => {
    const got: RegistryChange[] = [];
    const unsubscribe = await f.registry.subscribe((c) => {
      if (c.kind !== 'resync') got.push(c);
    });
    const name = f.name();
    await f.registry.createModel({ name });
    await f.registry.updateModel(name, { labels: { a: 'b' } });
    await f.registry.registerVersion(upload(name, 'k1'));
    await f.registry.registerVersion(upload(name, 'k2'));
    await f.registry.setVersionState(name, 1, 'ready');
    await f.registry.deploy(name, 1);
    await f.registry.deploy(name, 2);
    await f.registry.rollback(name);
    await f.registry.retireVersion(name, 2);
    await f.registry.undeploy(name);
    await f.registry.deleteModel(name);
    const kinds = [
      'model.create',
      'model.update',
      'version.register',
      'version.register',
      'version.state',
      'deploy',
      'deploy',
      'rollback',
      'version.retire',
      'undeploy',
      'model.delete',
    ];
    await waitFor(() => got.filter((c) => c.model === name).length === kinds.length, 1000, 'every notification');
    expect(got.filter((c) => c.model === name).map((c) => c.kind)).toEqual(kinds);
    await unsubscribe();
  });

  it.runIf(backend.shared)('announces a deploy made by another process', async () => {
    const other = createRegistry(await f.h.openAnother(), { actor: 'elsewhere' });
    const name = f.name();
    await other.createModel({ name });
    await other.registerVersion(upload(name, 'x1'));
    const got: RegistryChange[] = [];
    const unsubscribe = await f.registry.subscribe((c) => {
      if (c.kind !== 'resync' && c.model === name) got.push(c);
    });
    await other.deploy(name, 1);
    await waitFor(() => got.length === 1, 1000, 'the cross-process deploy notification');
    expect(got[0]).toMatchObject({ kind: 'deploy', model: name });
    expect((await f.registry.getModel(name)).liveVersion).toBe(1);
    await unsubscribe();
  });

  it('ignores notifications on the channel that are not registry changes', async () => {
    const got: Array<RegistryChange | RegistryResync> = [];
    const unsubscribe = await f.registry.subscribe((c) => got.push(c));
    await f.h.db.query("SELECT pg_notify('sibyl_registry', 'not json')");
    await f.h.db.query('SELECT pg_notify($1, $2)', ['sibyl_registry', JSON.stringify({ kind: 'deploy' })]);
    const name = f.name();
    await f.registry.createModel({ name });
    await waitFor(() => got.length > 0, 1000, 'the create notification');
    expect(got).toEqual([{ kind: 'model.create', model: name, eventId: expect.any(Number) }]);
    await unsubscribe();
  });
});

it('parses only well-formed change payloads', () => {
  expect(parseChange('{"kind":"deploy","model":"m","eventId":3}')).toEqual({ kind: 'deploy', model: 'm', eventId: 3 });
  expect(parseChange('null')).toBeUndefined();
  expect(parseChange('{"kind":"deploy","model":"m"}')).toBeUndefined();
  expect(parseChange('{')).toBeUndefined();
});
