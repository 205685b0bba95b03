import { expect, it } from 'vitest';
import { describeEachBackend } from './test-support/backends.js';
import { SIGNATURE, upload } from './test-support/fixtures.js';
import { useRegistry } from './test-support/registry-harness.js';

describeEachBackend('traffic, and routing checks on releases', (backend) => {
  const f = useRegistry(backend);

  async function model(versions: number, platform = SIGNATURE.platform): Promise<string> {
    const name = f.name();
    await f.registry.createModel({ name });
    for (let i = 1; i <= versions; i++) {
      await f.registry.registerVersion(upload(name, `${name}-${i}`, { signature: { ...SIGNATURE, platform } }));
    }
    return name;
  }

  it('sets a canary with its weight and a shadow, audited as traffic; null clears', async () => {
    const name = await model(4);
    await f.registry.deploy(name, 1);
    expect(await f.registry.getTraffic(name)).toEqual({ model: name, liveVersion: 1, canaryVersion: null, canaryWeight: 0, shadowVersion: null });
    const set = await f.registry.setTraffic(name, { canaryVersion: 2, canaryWeight: 0.1, shadowVersion: 3 }, 'ana');
    expect(set).toEqual({ model: name, liveVersion: 1, canaryVersion: 2, canaryWeight: 0.1, shadowVersion: 3 });
    expect(await f.registry.getModel(name)).toMatchObject({ canaryVersion: 2, canaryWeight: 0.1, shadowVersion: 3 });
    const [event] = await f.registry.events(name, { limit: 1 });
    expect(event).toMatchObject({ action: 'traffic', actor: 'ana', scope: 'model', from: 'canary none, shadow none', to: 'canary 2 (0.1), shadow 3' });
    // Only the weight: the canary stays.
    expect(await f.registry.setTraffic(name, { canaryWeight: 0.5 })).toMatchObject({ canaryVersion: 2, canaryWeight: 0.5, shadowVersion: 3 });
    // The same again: no event.
    const count = (await f.registry.events(name)).length;
    await f.registry.setTraffic(name, { canaryWeight: 0.5, shadowVersion: 3 });
    expect(await f.registry.events(name)).toHaveLength(count);
    expect(await f.registry.setTraffic(name, { canaryVersion: null, shadowVersion: null })).toMatchObject({
      canaryVersion: null,
      canaryWeight: 0,
      shadowVersion: null,
    });
  });

  it('refuses bad canaries and shadows, naming the version and why', async () => {
    const name = await model(4);
    await expect(f.registry.setTraffic(name, { canaryVersion: 2 })).rejects.toMatchObject({
      code: 'SIBYL_REGISTRY_NOTHING_LIVE',
      category: 'CONFLICT',
      message: `model '${name}' has no live version; deploy one before setting a canary`,
    });
    await f.registry.deploy(name, 1);
    await f.registry.retireVersion(name, 3);
    await f.registry.setVersionState(name, 4, 'failed', 'bad file');
    const cases: Array<[object, string, string]> = [
      [{ canaryVersion: 1 }, 'SIBYL_REGISTRY_TRAFFIC_VERSION_INVALID', `version 1 of model '${name}' cannot be the canary: it is the live version`],
      [{ shadowVersion: 3 }, 'SIBYL_REGISTRY_TRAFFIC_VERSION_INVALID', `version 3 of model '${name}' cannot be the shadow: it is retired`],
      [{ canaryVersion: 4 }, 'SIBYL_REGISTRY_TRAFFIC_VERSION_INVALID', `version 4 of model '${name}' cannot be the canary: it is failed (bad file)`],
      [{ canaryVersion: 9 }, 'SIBYL_REGISTRY_VERSION_NOT_FOUND', `model '${name}' has no version 9`],
      [{ canaryVersion: 2, canaryWeight: 1.5 }, 'SIBYL_REGISTRY_FIELD_INVALID', "field 'canaryWeight': expected a number from 0 to 1, got 1.5"],
      [{ canaryVersion: 2, canaryWeight: -0.1 }, 'SIBYL_REGISTRY_FIELD_INVALID', "field 'canaryWeight'"],
      [{ canaryWeight: 0.2 }, 'SIBYL_REGISTRY_FIELD_INVALID', "field 'canaryWeight': expected 0 while no canary version is set, got 0.2"],
      [{ canaryVersion: '2' }, 'SIBYL_REGISTRY_FIELD_INVALID', "field 'canaryVersion'"],
      [{ weight: 1 }, 'SIBYL_REGISTRY_FIELD_UNKNOWN', "unknown field 'weight'"],
    ];
    for (const [input, code, message] of cases) {
      await expect(f.registry.setTraffic(name, input as never), JSON.stringify(input)).rejects.toMatchObject({ code, message: expect.stringContaining(message) });
    }
    expect(await f.registry.getTraffic(name)).toMatchObject({ canaryVersion: null, canaryWeight: 0, shadowVersion: null });
  });

  it('deploying the canary promotes it (the canary is cleared); undeploy clears canary and shadow', async () => {
    const name = await model(4);
    await f.registry.deploy(name, 1);
    await f.registry.setTraffic(name, { canaryVersion: 2, canaryWeight: 0.25, shadowVersion: 3 });
    expect(await f.registry.deploy(name, 2)).toMatchObject({ liveVersion: 2, previousVersion: 1, canaryVersion: null, canaryWeight: 0, shadowVersion: 3 });
    const [deployed] = await f.registry.events(name, { limit: 1 });
    expect(deployed!.detail).toMatchObject({ clearedCanaryVersion: 2 });
    // A rollback to the shadow clears the shadow the same way.
    await f.registry.setTraffic(name, { shadowVersion: 1 });
    expect(await f.registry.rollback(name)).toMatchObject({ liveVersion: 1, shadowVersion: null });
    await f.registry.setTraffic(name, { canaryVersion: 4, canaryWeight: 0.5, shadowVersion: 3 });
    expect(await f.registry.undeploy(name)).toMatchObject({ liveVersion: null, canaryVersion: null, canaryWeight: 0, shadowVersion: null });
  });

  it('retiring the canary or shadow clears it', async () => {
    const name = await model(3);
    await f.registry.deploy(name, 1);
    await f.registry.setTraffic(name, { canaryVersion: 2, canaryWeight: 0.3, shadowVersion: 3 });
    await f.registry.retireVersion(name, 2);
    await f.registry.retireVersion(name, 3);
    expect(await f.registry.getTraffic(name)).toMatchObject({ canaryVersion: null, canaryWeight: 0, shadowVersion: null });
  });

  it('refuses to deploy, roll back to, or canary a version no routing rule matches, naming its metadata', async () => {
    const name = await model(2, 'foo');
    const message = `model '${name}' version 1 (platform 'foo', algorithm null, tenant 'default', labels {}) matches no routing rule`;
    await expect(f.registry.deploy(name, 1)).rejects.toMatchObject({
      code: 'SIBYL_REGISTRY_NO_ROUTE',
      category: 'CONFLICT',
      message: expect.stringContaining(message),
    });
    expect((await f.registry.getModel(name)).liveVersion).toBeNull();
    // With a rule for it, it deploys; a canary of the same platform too.
    const rule = await f.registry.createRule({ priority: 5, pool: 'onnx', match: { platform: 'foo' } });
    await f.registry.deploy(name, 1);
    await f.registry.deploy(name, 2);
    await f.registry.undeploy(name);
    await f.registry.deleteRule(rule.id);
    await expect(f.registry.rollback(name)).rejects.toMatchObject({ code: 'SIBYL_REGISTRY_NO_ROUTE', message: expect.stringContaining('version 2 (platform') });

    const mixed = f.name();
    await f.registry.createModel({ name: mixed, algorithm: 'mlp' });
    await f.registry.registerVersion(upload(mixed, `${mixed}-1`));
    await f.registry.registerVersion(upload(mixed, `${mixed}-2`, { signature: { ...SIGNATURE, platform: 'foo' } }));
    await f.registry.deploy(mixed, 1);
    await expect(f.registry.setTraffic(mixed, { canaryVersion: 2, canaryWeight: 0.1 })).rejects.toMatchObject({
      code: 'SIBYL_REGISTRY_NO_ROUTE',
      message: expect.stringContaining(`model '${mixed}' version 2 (platform 'foo', algorithm 'mlp', tenant 'default', labels {})`),
    });
  });

  it('holds the database to it too: weight in 0..1, no weight without a canary, canary never live', async () => {
    const name = await model(2);
    await f.registry.deploy(name, 1);
    await expect(f.h.db.query('UPDATE models SET canary_version = 2, canary_weight = 2 WHERE name = $1', [name])).rejects.toThrow(/models_canary_weight_range/);
    await expect(f.h.db.query('UPDATE models SET canary_weight = 0.5 WHERE name = $1', [name])).rejects.toThrow(/models_canary_weight_needs_canary/);
    await expect(f.h.db.query('UPDATE models SET canary_version = 1 WHERE name = $1', [name])).rejects.toThrow(/models_canary_not_live/);
    await expect(f.h.db.query('UPDATE models SET shadow_version = 7 WHERE name = $1', [name])).rejects.toThrow(/models_shadow_version_fk/);
  });
});
