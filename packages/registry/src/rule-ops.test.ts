import { expect, it } from 'vitest';
import { describeEachBackend } from './test-support/backends.js';
import { SIGNATURE, upload } from './test-support/fixtures.js';
import { useRegistry } from './test-support/registry-harness.js';

describeEachBackend('routing rules', (backend) => {
  const f = useRegistry(backend);

  it('ships the default rules, tried in priority order', async () => {
    const rules = await f.registry.listRules();
    expect(rules.slice(0, 2)).toMatchObject([
      { priority: 1000, match: { platform: 'onnxruntime_onnx' }, pool: 'onnx', description: expect.stringMatching(/^Default/) },
      { priority: 1010, match: { platform: 'tensorflowjs_*' }, pool: 'tf', description: expect.stringMatching(/^Default/) },
    ]);
  });

  it('creates, lists in (priority, id) order, reads, updates and deletes rules, auditing each with scope route', async () => {
    const pool = f.name('pool');
    await f.registry.createPool({ name: pool, kind: 'triton', endpoints: ['http://t:8000'] });
    const a = await f.registry.createRule({ priority: 50, pool, match: { name: 'x-*', labels: { team: 'a*' } }, description: 'team a' }, 'ops');
    const b = await f.registry.createRule({ priority: 40, pool }, 'ops');
    const c = await f.registry.createRule({ priority: 50, pool, match: { tenant: 'acme' } });
    const ids = (await f.registry.listRules()).map((r) => r.id);
    expect(ids.indexOf(b.id)).toBeLessThan(ids.indexOf(a.id));
    expect(ids.indexOf(a.id)).toBeLessThan(ids.indexOf(c.id));
    expect(ids.indexOf(c.id)).toBeLessThan(ids.indexOf((await f.registry.listRules()).find((r) => r.priority === 1000)!.id));
    expect(await f.registry.getRule(a.id)).toEqual(a);
    expect(a).toMatchObject({ priority: 50, pool, match: { name: 'x-*', labels: { team: 'a*' } }, description: 'team a' });
    const updated = await f.registry.updateRule(a.id, { priority: 30, match: { platform: 'x' } }, 'ops');
    expect(updated).toMatchObject({ id: a.id, priority: 30, match: { platform: 'x' }, pool, description: 'team a' });
    await f.registry.deleteRule(b.id);
    await f.registry.deleteRule(c.id);
    await f.registry.deleteRule(a.id);
    await expect(f.registry.getRule(a.id)).rejects.toMatchObject({ code: 'SIBYL_REGISTRY_RULE_NOT_FOUND', message: `routing rule ${a.id} does not exist` });
    const events = (await f.registry.configEvents({ scope: 'route' })).filter((e) => [a.id, b.id, c.id].map(String).includes(e.model));
    expect(events.map((e) => [e.action, e.model])).toEqual([
      ['route.delete', String(a.id)],
      ['route.delete', String(c.id)],
      ['route.delete', String(b.id)],
      ['route.update', String(a.id)],
      ['route.create', String(c.id)],
      ['route.create', String(b.id)],
      ['route.create', String(a.id)],
    ]);
    expect(events[3]!.detail).toEqual({
      priority: { from: 50, to: 30 },
      match: { from: { name: 'x-*', labels: { team: 'a*' } }, to: { platform: 'x' } },
    });
    // Both scopes together, newest first.
    const all = await f.registry.configEvents({ limit: 2 });
    expect(all.map((e) => e.scope)).toEqual(['route', 'route']);
    await f.registry.deletePool(pool);
  });

  it.each([
    [{ priority: 1, pool: 'ghost' }, 'SIBYL_REGISTRY_POOL_NOT_FOUND', "pool 'ghost' does not exist"],
    [{ priority: 1.5, pool: 'onnx' }, 'SIBYL_REGISTRY_FIELD_INVALID', "field 'priority'"],
    [{ priority: 1, pool: 'onnx', match: { framework: 'onnx' } }, 'SIBYL_REGISTRY_FIELD_UNKNOWN', "unknown field 'match.framework'; known fields: platform, algorithm, name, tenant, labels"],
    [{ priority: 1, pool: 'onnx', match: { platform: 3 } }, 'SIBYL_REGISTRY_FIELD_INVALID', "field 'match.platform'"],
    [{ priority: 1, pool: 'onnx', match: { labels: { team: 1 } } }, 'SIBYL_REGISTRY_FIELD_INVALID', "field 'match.labels.team'"],
    [{ priority: 1, pool: 'onnx', match: [] }, 'SIBYL_REGISTRY_FIELD_INVALID', "field 'match': expected an object"],
  ])('refuses %j with %s', async (input, code, message) => {
    await expect(f.registry.createRule(input as never)).rejects.toMatchObject({ code, message: expect.stringContaining(message) });
  });

  it('refuses an update or delete that leaves a live, canary or shadow version without a rule, naming it', async () => {
    const pool = f.name('pool');
    await f.registry.createPool({ name: pool, kind: 'triton', endpoints: ['http://t:8000'] });
    const only = await f.registry.createRule({ priority: 1, pool, match: { platform: 'custom_*' } });
    const name = f.name('custom');
    await f.registry.createModel({ name, labels: { team: 'x' } });
    for (const i of [1, 2, 3]) await f.registry.registerVersion(upload(name, `${name}-${i}`, { signature: { ...SIGNATURE, platform: 'custom_thing' } }));
    await f.registry.deploy(name, 1);
    await f.registry.setTraffic(name, { shadowVersion: 2 });
    const facts = `model '${name}' version 1 (platform 'custom_thing', algorithm null, tenant 'default', labels {team: "x"})`;
    await expect(f.registry.deleteRule(only.id)).rejects.toMatchObject({
      code: 'SIBYL_REGISTRY_ROUTE_IN_USE',
      category: 'CONFLICT',
      message: `deleting routing rule ${only.id} would leave ${facts}, the live version, matching no routing rule`,
    });
    await expect(f.registry.updateRule(only.id, { match: { platform: 'other' } })).rejects.toMatchObject({
      code: 'SIBYL_REGISTRY_ROUTE_IN_USE',
      message: expect.stringContaining(`updating routing rule ${only.id} would leave ${facts}`),
    });
    // Narrowing the rule to the live version still strands the shadow.
    await expect(f.registry.updateRule(only.id, { match: { platform: 'custom_*', labels: { team: 'y' } } })).rejects.toMatchObject({
      code: 'SIBYL_REGISTRY_ROUTE_IN_USE',
    });
    // A change of pool, or a match that still covers them, is fine.
    const pool2 = f.name('pool');
    await f.registry.createPool({ name: pool2, kind: 'triton', discovery: true });
    expect(await f.registry.updateRule(only.id, { pool: pool2, match: { platform: 'custom_thing' } })).toMatchObject({ pool: pool2 });
    await f.registry.undeploy(name);
    await f.registry.deleteRule(only.id);
    expect((await f.registry.getModel(name)).shadowVersion).toBeNull();
  });
});
