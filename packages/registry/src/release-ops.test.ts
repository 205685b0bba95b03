import { expect, it } from 'vitest';
import { createRegistry } from './registry.js';
import { describeEachBackend } from './test-support/backends.js';
import { upload } from './test-support/fixtures.js';
import { useRegistry } from './test-support/registry-harness.js';

describeEachBackend('releases', (backend) => {
  const f = useRegistry(backend);

  /** A model with `versions` registered versions. */
  async function model(versions: number): Promise<string> {
    const name = f.name();
    await f.registry.createModel({ name });
    for (let i = 1; i <= versions; i++) await f.registry.registerVersion(upload(name, `${name}-${i}`));
    return name;
  }

  async function pointers(name: string): Promise<[number | null, number | null]> {
    const m = await f.registry.getModel(name);
    return [m.liveVersion, m.previousVersion];
  }

  it('deploys a version; the old live one becomes previous; each deploy is audited from -> to', async () => {
    const name = await model(3);
    const first = await f.registry.deploy(name, 1, 'ops-1');
    expect(first).toMatchObject({ liveVersion: 1, previousVersion: null });
    expect(await f.registry.deploy(name, 2, 'ops-2')).toMatchObject({ liveVersion: 2, previousVersion: 1 });
    expect(await f.registry.deploy(name, 3)).toMatchObject({ liveVersion: 3, previousVersion: 2 });
    expect(await pointers(name)).toEqual([3, 2]);
    const deploys = (await f.registry.events(name)).filter((e) => e.action === 'deploy');
    expect(deploys.map((e) => [e.actor, e.from, e.to, e.detail.previousVersion])).toEqual([
      ['tester', '2', '3', 2],
      ['ops-2', '1', '2', 1],
      ['ops-1', null, '1', null],
    ]);
  });

  it('treats deploying the live version as a no-op: pointers kept, no event', async () => {
    const name = await model(2);
    await f.registry.deploy(name, 1);
    await f.registry.deploy(name, 2);
    const count = (await f.registry.events(name)).length;
    expect(await f.registry.deploy(name, 2)).toMatchObject({ liveVersion: 2, previousVersion: 1 });
    expect(await f.registry.events(name)).toHaveLength(count);
  });

  it('refuses to deploy an unknown, retired or failed version, naming it and its state', async () => {
    const name = await model(3);
    await expect(f.registry.deploy(name, 9)).rejects.toMatchObject({
      code: 'SIBYL_REGISTRY_VERSION_NOT_FOUND',
      message: `model '${name}' has no version 9`,
    });
    await f.registry.retireVersion(name, 2);
    await expect(f.registry.deploy(name, 2)).rejects.toMatchObject({
      code: 'SIBYL_REGISTRY_VERSION_NOT_DEPLOYABLE',
      category: 'CONFLICT',
      message: `version 2 of model '${name}' is retired and cannot be made live`,
    });
    await f.registry.setVersionState(name, 3, 'failed', 'Load model from model.onnx failed: protobuf parsing failed');
    await expect(f.registry.deploy(name, 3)).rejects.toMatchObject({
      code: 'SIBYL_REGISTRY_VERSION_NOT_DEPLOYABLE',
      message: `version 3 of model '${name}' is failed (Load model from model.onnx failed: protobuf parsing failed) and cannot be made live`,
    });
    await expect(f.registry.deploy('ghost', 1)).rejects.toMatchObject({ code: 'SIBYL_REGISTRY_MODEL_NOT_FOUND' });
    expect(await pointers(name)).toEqual([null, null]);
  });

  it('deploys versions in any state but retired and failed (registered, loading, ready)', async () => {
    const name = await model(3);
    await f.registry.setVersionState(name, 2, 'loading');
    await f.registry.setVersionState(name, 3, 'ready');
    for (const v of [1, 2, 3]) expect((await f.registry.deploy(name, v)).liveVersion).toBe(v);
  });

  it('rolls back by swapping live and previous, so a second rollback undoes the first (kubectl rollout undo)', async () => {
    const name = await model(3);
    await f.registry.deploy(name, 1);
    await f.registry.deploy(name, 2);
    await f.registry.deploy(name, 3);
    expect(await f.registry.rollback(name, 'oncall')).toMatchObject({ liveVersion: 2, previousVersion: 3 });
    expect(await f.registry.rollback(name)).toMatchObject({ liveVersion: 3, previousVersion: 2 });
    const rollbacks = (await f.registry.events(name)).filter((e) => e.action === 'rollback');
    expect(rollbacks.map((e) => [e.actor, e.from, e.to])).toEqual([
      ['tester', '2', '3'],
      ['oncall', '3', '2'],
    ]);
  });

  it('refuses rollback when there is no previous version (CONFLICT), with or without a live one', async () => {
    const name = await model(1);
    await expect(f.registry.rollback(name)).rejects.toMatchObject({
      code: 'SIBYL_REGISTRY_NO_PREVIOUS_VERSION',
      category: 'CONFLICT',
      message: `model '${name}' has no live version and nothing to roll back to`,
    });
    await f.registry.deploy(name, 1);
    await expect(f.registry.rollback(name)).rejects.toMatchObject({
      code: 'SIBYL_REGISTRY_NO_PREVIOUS_VERSION',
      message: `model '${name}' has no previous version to roll back to (version 1 is live)`,
    });
    await expect(f.registry.rollback('ghost')).rejects.toMatchObject({ code: 'SIBYL_REGISTRY_MODEL_NOT_FOUND' });
  });

  it('clears the previous version when it is retired, so rollback never lands on a retired version', async () => {
    const name = await model(2);
    await f.registry.deploy(name, 1);
    await f.registry.deploy(name, 2);
    const retired = await f.registry.retireVersion(name, 1);
    expect(retired.state).toBe('retired');
    expect(await pointers(name)).toEqual([2, null]);
    expect((await f.registry.events(name, { limit: 1 }))[0]).toMatchObject({
      action: 'version.retire',
      detail: { version: 1, clearedPreviousVersion: true },
    });
    await expect(f.registry.rollback(name)).rejects.toMatchObject({ code: 'SIBYL_REGISTRY_NO_PREVIOUS_VERSION' });
  });

  it('refuses rollback to a previous version that has failed since', async () => {
    const name = await model(2);
    await f.registry.deploy(name, 1);
    await f.registry.deploy(name, 2);
    await f.registry.setVersionState(name, 1, 'failed', 'file missing');
    await expect(f.registry.rollback(name)).rejects.toMatchObject({
      code: 'SIBYL_REGISTRY_VERSION_NOT_DEPLOYABLE',
      message: `version 1 of model '${name}' is failed (file missing) and cannot be made live`,
    });
    expect(await pointers(name)).toEqual([2, 1]);
  });

  it('undeploys: nothing live, the old live becomes previous, rollback re-deploys it; undeploy again is a no-op', async () => {
    const name = await model(2);
    await f.registry.deploy(name, 1);
    await f.registry.deploy(name, 2);
    expect(await f.registry.undeploy(name, 'ops')).toMatchObject({ liveVersion: null, previousVersion: 2 });
    const count = (await f.registry.events(name)).length;
    expect(await f.registry.undeploy(name)).toMatchObject({ liveVersion: null, previousVersion: 2 });
    expect(await f.registry.events(name)).toHaveLength(count);
    expect((await f.registry.events(name, { limit: 1 }))[0]).toMatchObject({ action: 'undeploy', actor: 'ops', from: '2', to: null });
    expect(await f.registry.rollback(name)).toMatchObject({ liveVersion: 2, previousVersion: null });
  });

  it('after an undeploy, a deploy keeps the last live version as previous (or none when it is the one deployed)', async () => {
    const name = await model(3);
    await f.registry.deploy(name, 1);
    await f.registry.undeploy(name);
    expect(await f.registry.deploy(name, 3)).toMatchObject({ liveVersion: 3, previousVersion: 1 });
    await f.registry.undeploy(name);
    expect(await f.registry.deploy(name, 3)).toMatchObject({ liveVersion: 3, previousVersion: null });
  });

  it('serializes concurrent deploys of one model: every deploy is audited and the chain of from -> to is unbroken', async () => {
    const versions = 8;
    const name = await model(versions);
    const dbs = backend.shared ? [f.h.db, await f.h.openAnother()] : [f.h.db];
    const registries = dbs.map((db) => createRegistry(db));
    await Promise.all(
      Array.from({ length: versions }, (_, i) => registries[i % registries.length]!.deploy(name, i + 1, `deployer-${i + 1}`)),
    );
    const deploys = (await f.registry.events(name)).filter((e) => e.action === 'deploy').reverse();
    expect(deploys).toHaveLength(versions);
    expect(deploys.map((e) => e.actor).sort()).toEqual(Array.from({ length: versions }, (_, i) => `deployer-${i + 1}`).sort());
    // Serialized: each deploy saw the state the previous one left, so from (and previous) chain up.
    expect(deploys[0]!.from).toBeNull();
    for (let i = 1; i < deploys.length; i++) {
      expect(deploys[i]!.from).toBe(deploys[i - 1]!.to);
      expect(deploys[i]!.detail.previousVersion).toBe(Number(deploys[i - 1]!.to));
    }
    const last = deploys.at(-1)!;
    expect(await pointers(name)).toEqual([Number(last.to), Number(last.from)]);
  });

  it('serializes concurrent rollbacks and deploys of one model', async () => {
    const name = await model(3);
    await f.registry.deploy(name, 1);
    await f.registry.deploy(name, 2);
    const results = await Promise.allSettled([
      f.registry.rollback(name, 'r1'),
      f.registry.deploy(name, 3, 'd3'),
      f.registry.rollback(name, 'r2'),
    ]);
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    const changes = (await f.registry.events(name)).filter((e) => e.action === 'deploy' || e.action === 'rollback').reverse();
    for (let i = 1; i < changes.length; i++) expect(changes[i]!.from).toBe(changes[i - 1]!.to);
    const [live, previous] = await pointers(name);
    expect(String(live)).toBe(changes.at(-1)!.to);
    expect(previous).not.toBe(live);
  });
});
