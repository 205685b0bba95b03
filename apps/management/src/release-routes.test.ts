import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachBackend, onnxModel, startManagement, uploadPath, type Harness } from './management.fixture.js';

const OCTETS = { 'content-type': 'application/octet-stream' };

describeEachBackend('releases API', (backend) => {
  let h: Harness;

  async function modelWithVersions(name: string, count: number): Promise<void> {
    expect((await h.call('POST', '/v1/models', { json: { name } })).status).toBe(201);
    for (let i = 1; i <= count; i++) {
      const res = await h.call('POST', uploadPath(name, 'model.onnx'), { body: onnxModel(`${name}-${i}`), headers: OCTETS });
      expect(res.body.version).toBe(i);
    }
  }

  beforeAll(async () => {
    h = await startManagement({ backend });
    await modelWithVersions('iris', 3);
  });
  afterAll(async () => {
    await h?.close();
  });

  describe('deploy, rollback, undeploy', () => {
    it('deploys version 1, then 2, each answering the release and recording the actor', async () => {
      const first = await h.call('POST', '/v1/models/iris/deploy', { json: { version: 1 }, headers: { 'x-sibyl-actor': 'ana' } });
      expect(first.status).toBe(200);
      expect(first.body).toEqual({ model: 'iris', live_version: 1, previous_version: null });
      const second = await h.call('POST', '/v1/models/iris/deploy', { json: { version: 2 }, headers: { 'x-sibyl-actor': 'bob' } });
      expect(second.body).toEqual({ model: 'iris', live_version: 2, previous_version: 1 });
      expect((await h.call('GET', '/v1/models/iris')).body).toMatchObject({ live_version: 2, previous_version: 1 });
      const events = (await h.call('GET', '/v1/models/iris/events?limit=2')).body.events;
      expect(events).toMatchObject([
        { action: 'deploy', actor: 'bob', from: '1', to: '2' },
        { action: 'deploy', actor: 'ana', from: null, to: '1' },
      ]);
    });

    it('changes nothing when the live version is deployed again', async () => {
      const before = (await h.call('GET', '/v1/models/iris/events?limit=1')).body.events[0].id;
      const res = await h.call('POST', '/v1/models/iris/deploy', { json: { version: 2 } });
      expect(res.body).toEqual({ model: 'iris', live_version: 2, previous_version: 1 });
      expect((await h.call('GET', '/v1/models/iris/events?limit=1')).body.events[0].id).toBe(before);
    });

    it('rolls back to the previous version, and a second rollback undoes the first', async () => {
      const back = await h.call('POST', '/v1/models/iris/rollback', { headers: { 'x-sibyl-actor': 'carol' } });
      expect(back.status).toBe(200);
      expect(back.body).toEqual({ model: 'iris', live_version: 1, previous_version: 2 });
      const forth = await h.call('POST', '/v1/models/iris/rollback', { json: {} });
      expect(forth.body).toEqual({ model: 'iris', live_version: 2, previous_version: 1 });
      const events = (await h.call('GET', '/v1/models/iris/events?limit=2')).body.events;
      expect(events).toMatchObject([
        { action: 'rollback', actor: 'anonymous', from: '1', to: '2' },
        { action: 'rollback', actor: 'carol', from: '2', to: '1' },
      ]);
    });

    it('undeploys (the old live version becomes the previous one), and a rollback serves it again', async () => {
      expect((await h.call('POST', '/v1/models/iris/undeploy')).body).toEqual({ model: 'iris', live_version: null, previous_version: 2 });
      expect((await h.call('POST', '/v1/models/iris/rollback')).body).toEqual({ model: 'iris', live_version: 2, previous_version: null });
    });

    it('answers 409 for a rollback with nothing to roll back to', async () => {
      const res = await h.call('POST', '/v1/models/iris/rollback');
      expect(res.status).toBe(409);
      expect(res.body).toEqual({
        error: "model 'iris' has no previous version to roll back to (version 2 is live)",
        code: 'SIBYL_REGISTRY_NO_PREVIOUS_VERSION',
      });
      await modelWithVersions('fresh', 0);
      expect((await h.call('POST', '/v1/models/fresh/rollback')).status).toBe(409);
    });

    it('answers 409 for deploying a retired or failed version', async () => {
      await h.call('DELETE', '/v1/models/iris/versions/3');
      const retired = await h.call('POST', '/v1/models/iris/deploy', { json: { version: 3 } });
      expect(retired.status).toBe(409);
      expect(retired.body.code).toBe('SIBYL_REGISTRY_VERSION_NOT_DEPLOYABLE');
      await h.registry.setVersionState('iris', 1, 'failed', 'out of memory');
      const failed = await h.call('POST', '/v1/models/iris/deploy', { json: { version: 1 } });
      expect(failed.status).toBe(409);
      expect(failed.body.error).toBe("version 1 of model 'iris' is failed (out of memory) and cannot be made live");
    });

    it('answers 404 for an unknown model or version', async () => {
      expect((await h.call('POST', '/v1/models/nope/deploy', { json: { version: 1 } })).body.code).toBe('SIBYL_REGISTRY_MODEL_NOT_FOUND');
      expect((await h.call('POST', '/v1/models/iris/deploy', { json: { version: 7 } })).body.code).toBe('SIBYL_REGISTRY_VERSION_NOT_FOUND');
      expect((await h.call('POST', '/v1/models/nope/rollback')).status).toBe(404);
      expect((await h.call('POST', '/v1/models/nope/undeploy')).status).toBe(404);
    });

    it.each([
      [undefined, 'body must be a JSON object, got null'],
      [{}, "body is missing the required field 'version'"],
      [{ version: 0 }, "body field 'version' must be >= 1, got 0"],
      [{ version: 1.5 }, "body field 'version' must be an integer, got 1.5"],
      [{ version: 1, force: true }, "body: unknown field 'force'; known fields: version"],
    ])('refuses the deploy body %j with 400', async (json, error) => {
      const res = await h.call('POST', '/v1/models/iris/deploy', json === undefined ? {} : { json });
      expect(res.status).toBe(400);
      expect(res.body.error).toBe(error);
    });

    it('refuses a rollback body with fields', async () => {
      const res = await h.call('POST', '/v1/models/iris/rollback', { json: { version: 1 } });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: "body: unknown field 'version'; it takes no fields", code: 'SIBYL_MANAGEMENT_FIELD_UNKNOWN' });
    });
  });

  describe('concurrent deploys', () => {
    it('are serialized: each is audited, and the log chains from one live version to the next', async () => {
      const versions = 6;
      await modelWithVersions('busy', versions);
      const replies = await Promise.all(
        Array.from({ length: versions }, (_, i) =>
          h.call('POST', '/v1/models/busy/deploy', { json: { version: i + 1 }, headers: { 'x-sibyl-actor': `user${i + 1}` } }),
        ),
      );
      expect(replies.map((r) => r.status)).toEqual(Array(versions).fill(200));
      const deploys = ((await h.call('GET', '/v1/models/busy/events')).body.events as Array<{ action: string; actor: string; from: string | null; to: string }>)
        .filter((e) => e.action === 'deploy')
        .reverse();
      expect(deploys).toHaveLength(versions);
      expect(new Set(deploys.map((e) => e.actor)).size).toBe(versions);
      expect(deploys[0]!.from).toBeNull();
      for (let i = 1; i < deploys.length; i++) expect(deploys[i]!.from).toBe(deploys[i - 1]!.to);
      for (const e of deploys) expect(e.actor).toBe(`user${e.to}`);
      const model = (await h.call('GET', '/v1/models/busy')).body;
      expect(model.live_version).toBe(Number(deploys.at(-1)!.to));
      expect(model.previous_version).toBe(Number(deploys.at(-2)!.to));
    });
  });

  describe('GET /v1/models/{name}/events', () => {
    it('pages newest first with limit and before', async () => {
      const all = (await h.call('GET', '/v1/models/iris/events')).body.events as Array<{ id: number }>;
      expect(all.length).toBeGreaterThan(4);
      expect(all.map((e) => e.id)).toEqual([...all.map((e) => e.id)].sort((a, b) => b - a));
      const page1 = (await h.call('GET', '/v1/models/iris/events?limit=2')).body.events as Array<{ id: number }>;
      const page2 = (await h.call('GET', `/v1/models/iris/events?limit=2&before=${page1[1]!.id}`)).body.events as Array<{ id: number }>;
      expect([...page1, ...page2]).toEqual(all.slice(0, 4));
      expect(Object.keys(all[0]!).sort()).toEqual(['action', 'actor', 'at', 'detail', 'from', 'id', 'model', 'to']);
    });

    it('answers 404 for a model that never existed, and 400 for a bad limit', async () => {
      expect((await h.call('GET', '/v1/models/never/events')).status).toBe(404);
      expect((await h.call('GET', '/v1/models/iris/events?limit=0')).body.code).toBe('SIBYL_REGISTRY_FIELD_INVALID');
      expect((await h.call('GET', '/v1/models/iris/events?limit=lots')).status).toBe(400);
    });
  });
});
