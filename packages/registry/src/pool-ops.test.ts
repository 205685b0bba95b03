import { expect, it } from 'vitest';
import { describeEachBackend } from './test-support/backends.js';
import { useRegistry } from './test-support/registry-harness.js';

describeEachBackend('pools', (backend) => {
  const f = useRegistry(backend);

  it('ships the default pools: onnx and tf, both discovered', async () => {
    const pools = await f.registry.listPools();
    expect(pools.filter((p) => p.name === 'onnx' || p.name === 'tf')).toMatchObject([
      { name: 'onnx', kind: 'sibyl-onnx', discovery: true, endpoints: [], description: 'ONNX workers (onnxruntime-node)' },
      { name: 'tf', kind: 'sibyl-tf', discovery: true, endpoints: [] },
    ]);
  });

  it('creates, reads, updates and deletes a pool, auditing each change with scope pool', async () => {
    const name = f.name('triton');
    const created = await f.registry.createPool(
      { name, kind: 'triton', endpoints: ['http://triton-a:8000', 'grpc://10.0.0.7:8001'], description: 'GPU box' },
      'ops',
    );
    expect(created).toMatchObject({ name, kind: 'triton', endpoints: ['http://triton-a:8000', 'grpc://10.0.0.7:8001'], discovery: false });
    expect(await f.registry.getPool(name)).toEqual(created);
    const updated = await f.registry.updatePool(name, { discovery: true }, 'ops');
    expect(updated).toMatchObject({ endpoints: [], discovery: true, description: 'GPU box' });
    const back = await f.registry.updatePool(name, { endpoints: ['grpc://[::1]:8001'] });
    expect(back).toMatchObject({ endpoints: ['grpc://[::1]:8001'], discovery: false });
    // The same values again: nothing changes, no event.
    const count = (await f.registry.configEvents({ scope: 'pool' })).length;
    expect(await f.registry.updatePool(name, { description: 'GPU box' })).toEqual(back);
    expect(await f.registry.configEvents({ scope: 'pool' })).toHaveLength(count);
    await f.registry.deletePool(name, 'ops');
    await expect(f.registry.getPool(name)).rejects.toMatchObject({ code: 'SIBYL_REGISTRY_POOL_NOT_FOUND', message: `pool '${name}' does not exist` });
    const events = (await f.registry.configEvents({ scope: 'pool' })).filter((e) => e.model === name);
    expect(events.map((e) => [e.action, e.actor, e.scope])).toEqual([
      ['pool.delete', 'ops', 'pool'],
      ['pool.update', 'tester', 'pool'],
      ['pool.update', 'ops', 'pool'],
      ['pool.create', 'ops', 'pool'],
    ]);
    expect(events[2]!.detail).toEqual({
      endpoints: { from: ['http://triton-a:8000', 'grpc://10.0.0.7:8001'], to: [] },
      discovery: { from: false, to: true },
    });
    // Pool events are not a model's: a model of the same name has none of them.
    await expect(f.registry.events(name)).rejects.toMatchObject({ code: 'SIBYL_REGISTRY_MODEL_NOT_FOUND' });
  });

  it.each([
    [{ name: '../etc', kind: 'triton', discovery: true }, 'SIBYL_REGISTRY_POOL_NAME_INVALID', 'invalid pool name "../etc"'],
    [{ name: 'p', kind: 'gpu', discovery: true }, 'SIBYL_REGISTRY_FIELD_INVALID', "field 'kind': expected one of sibyl-onnx, sibyl-tf, triton, torchserve, pipeline"],
    [{ name: 'p', kind: 'triton', endpoints: ['https://a:1'] }, 'SIBYL_REGISTRY_FIELD_INVALID', "field 'endpoints[0]': expected an http://host:port or grpc://host:port URL"],
    [{ name: 'p', kind: 'triton', endpoints: ['http://a:1/v2'] }, 'SIBYL_REGISTRY_FIELD_INVALID', "field 'endpoints[0]'"],
    [{ name: 'p', kind: 'triton', endpoints: ['http://a'] }, 'SIBYL_REGISTRY_FIELD_INVALID', "field 'endpoints[0]'"],
    [{ name: 'p', kind: 'triton', endpoints: ['http://a:1', 'http://b:70000'] }, 'SIBYL_REGISTRY_FIELD_INVALID', "field 'endpoints[1]'"],
    [{ name: 'p', kind: 'triton', endpoints: ['http://a:1', 'http://a:1'] }, 'SIBYL_REGISTRY_FIELD_INVALID', "field 'endpoints[1]': expected each endpoint once"],
    [{ name: 'p', kind: 'triton' }, 'SIBYL_REGISTRY_POOL_SOURCE_INVALID', "pool 'p' has no endpoints and discovery off"],
    [{ name: 'p', kind: 'triton', endpoints: ['http://a:1'], discovery: true }, 'SIBYL_REGISTRY_POOL_SOURCE_INVALID', "pool 'p' has discovery on and 1 fixed endpoint(s)"],
    [{ name: 'p', kind: 'triton', discovery: true, size: 3 }, 'SIBYL_REGISTRY_FIELD_UNKNOWN', "unknown field 'size'"],
  ])('refuses %j with %s', async (input, code, message) => {
    await expect(f.registry.createPool(input as never)).rejects.toMatchObject({ code, message: expect.stringContaining(message) });
  });

  it('refuses a taken name, and deleting a pool a rule names (naming the rule)', async () => {
    await expect(f.registry.createPool({ name: 'onnx', kind: 'sibyl-onnx', discovery: true })).rejects.toMatchObject({
      code: 'SIBYL_REGISTRY_POOL_EXISTS',
      category: 'CONFLICT',
    });
    const defaults = (await f.registry.listRules()).filter((r) => r.pool === 'onnx').map((r) => r.id);
    await expect(f.registry.deletePool('onnx')).rejects.toMatchObject({
      code: 'SIBYL_REGISTRY_POOL_IN_USE',
      message: `pool 'onnx' is named by routing rule ${defaults.join(', ')}; change or delete it first`,
    });
    // The foreign key holds even for SQL that skips the registry.
    await expect(f.h.db.query("DELETE FROM pools WHERE name = 'onnx'")).rejects.toThrow(/foreign key/);
    await expect(f.registry.updatePool('ghost', { description: 'x' })).rejects.toMatchObject({ code: 'SIBYL_REGISTRY_POOL_NOT_FOUND' });
    await expect(f.registry.updatePool('onnx', { discovery: false })).rejects.toMatchObject({ code: 'SIBYL_REGISTRY_POOL_SOURCE_INVALID' });
  });

  it('announces pool changes with the pool name, which parseChange reads', async () => {
    const seen: Array<{ kind: string; model?: string }> = [];
    const stop = await f.registry.subscribe((c) => seen.push(c as never));
    const name = f.name('announced');
    const created = await f.registry.createPool({ name, kind: 'torchserve', endpoints: ['http://ts:8080'] });
    expect(created.name).toBe(name);
    const deadline = Date.now() + 5000;
    while (!seen.some((c) => c.kind === 'pool.create' && c.model === name) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await stop();
    expect(seen).toContainEqual({ kind: 'pool.create', model: name, eventId: expect.any(Number) });
  });
});
