import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachBackend, onnxModel, startManagement, uploadPath, type Harness } from './management.fixture.js';

const OCTETS = { 'content-type': 'application/octet-stream' };
const TIME = expect.stringMatching(/^\d{4}-\d\d-\d\dT/);

describeEachBackend('routing API', (backend) => {
  let h: Harness;

  async function modelWithVersions(name: string, count: number, extra: object = {}): Promise<void> {
    expect((await h.call('POST', '/v1/models', { json: { name, ...extra } })).status).toBe(201);
    for (let i = 1; i <= count; i++) {
      const res = await h.call('POST', uploadPath(name, 'model.onnx'), { body: onnxModel(`${name}-${i}`), headers: OCTETS });
      expect(res.body.version).toBe(i);
    }
  }

  beforeAll(async () => {
    h = await startManagement({ backend });
    await modelWithVersions('iris', 3, { labels: { team: 'vision' } });
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  });

  describe('pools', () => {
    it('lists the default pools', async () => {
      const res = await h.call('GET', '/v1/pools');
      expect(res.status).toBe(200);
      expect(res.body.pools).toEqual([
        { name: 'onnx', kind: 'sibyl-onnx', endpoints: [], discovery: true, description: 'ONNX workers (onnxruntime-node)', created_at: TIME, updated_at: TIME },
        { name: 'tf', kind: 'sibyl-tf', endpoints: [], discovery: true, description: expect.any(String), created_at: TIME, updated_at: TIME },
      ]);
    });

    it('creates, shows, updates and deletes a pool, recording the actor', async () => {
      const created = await h.call('POST', '/v1/pools', {
        json: { name: 'gpu', kind: 'triton', endpoints: ['grpc://triton:8001'], description: 'GPU boxes' },
        headers: { 'x-sibyl-actor': 'ana' },
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ name: 'gpu', kind: 'triton', endpoints: ['grpc://triton:8001'], discovery: false });
      expect((await h.call('GET', '/v1/pools/gpu')).body).toEqual(created.body);
      const patched = await h.call('PATCH', '/v1/pools/gpu', { json: { discovery: true } });
      expect(patched.body).toMatchObject({ endpoints: [], discovery: true, description: 'GPU boxes' });
      expect((await h.call('DELETE', '/v1/pools/gpu')).status).toBe(204);
      expect((await h.call('GET', '/v1/pools/gpu')).status).toBe(404);
      const events = await h.registry.configEvents({ scope: 'pool', limit: 3 });
      expect(events.map((e) => [e.action, e.model, e.actor])).toEqual([
        ['pool.delete', 'gpu', 'anonymous'],
        ['pool.update', 'gpu', 'anonymous'],
        ['pool.create', 'gpu', 'ana'],
      ]);
    });

    it.each([
      [{ name: 'p', kind: 'gpu', discovery: true }, 400, 'SIBYL_MANAGEMENT_FIELD_INVALID'],
      [{ name: 'p', kind: 'triton', endpoints: ['https://a:1'] }, 400, 'SIBYL_MANAGEMENT_FIELD_INVALID'],
      [{ name: 'p', kind: 'triton', endpoints: ['http://a:1/x'] }, 400, 'SIBYL_REGISTRY_FIELD_INVALID'],
      [{ name: 'p', kind: 'triton' }, 400, 'SIBYL_REGISTRY_POOL_SOURCE_INVALID'],
      [{ name: 'p', kind: 'triton', discovery: true, size: 1 }, 400, 'SIBYL_MANAGEMENT_FIELD_UNKNOWN'],
      [{ name: 'onnx', kind: 'sibyl-onnx', discovery: true }, 409, 'SIBYL_REGISTRY_POOL_EXISTS'],
    ])('refuses %j with %i %s', async (json, status, code) => {
      const res = await h.call('POST', '/v1/pools', { json });
      expect(res.status).toBe(status);
      expect(res.body.code).toBe(code);
      expect(typeof res.body.error).toBe('string');
    });

    it('answers 409 for deleting a pool a rule names', async () => {
      const res = await h.call('DELETE', '/v1/pools/onnx');
      expect(res.status).toBe(409);
      expect(res.body).toEqual({ error: expect.stringMatching(/^pool 'onnx' is named by routing rule \d+; change or delete it first$/), code: 'SIBYL_REGISTRY_POOL_IN_USE' });
    });
  });

  describe('routes', () => {
    it('lists the default rules in the order they are tried', async () => {
      const res = await h.call('GET', '/v1/routes');
      expect(res.status).toBe(200);
      expect(res.body.routes.map((r: { priority: number; match: object; pool: string }) => [r.priority, r.match, r.pool])).toEqual([
        [1000, { platform: 'onnxruntime_onnx' }, 'onnx'],
        [1010, { platform: 'tensorflowjs_*' }, 'tf'],
      ]);
    });

    it('adds, shows, updates and deletes a rule', async () => {
      expect((await h.call('POST', '/v1/pools', { json: { name: 'vision', kind: 'sibyl-onnx', discovery: true } })).status).toBe(201);
      const added = await h.call('POST', '/v1/routes', { json: { priority: 10, pool: 'vision', match: { labels: { team: 'vis*' } }, description: 'team vision' } });
      expect(added.status).toBe(201);
      expect(added.body).toEqual({ id: expect.any(Number), priority: 10, pool: 'vision', match: { labels: { team: 'vis*' } }, description: 'team vision', created_at: TIME, updated_at: TIME });
      const id = added.body.id as number;
      expect((await h.call('GET', `/v1/routes/${id}`)).body).toEqual(added.body);
      expect((await h.call('GET', '/v1/routes')).body.routes[0].id).toBe(id);
      const patched = await h.call('PATCH', `/v1/routes/${id}`, { json: { priority: 20 } });
      expect(patched.body).toMatchObject({ id, priority: 20, match: { labels: { team: 'vis*' } } });
      expect((await h.call('DELETE', `/v1/routes/${id}`)).status).toBe(204);
      expect((await h.call('GET', `/v1/routes/${id}`)).body).toEqual({ error: `routing rule ${id} does not exist`, code: 'SIBYL_REGISTRY_RULE_NOT_FOUND' });
    });

    it('refuses unknown match fields, a missing pool, and bad ids', async () => {
      const unknown = await h.call('POST', '/v1/routes', { json: { priority: 1, pool: 'onnx', match: { framework: 'x' } } });
      expect(unknown.status).toBe(400);
      expect(unknown.body.code).toBe('SIBYL_MANAGEMENT_FIELD_UNKNOWN');
      expect(unknown.body.error).toContain("'match.framework'");
      const ghost = await h.call('POST', '/v1/routes', { json: { priority: 1, pool: 'ghost' } });
      expect(ghost.status).toBe(404);
      expect(ghost.body.code).toBe('SIBYL_REGISTRY_POOL_NOT_FOUND');
      expect((await h.call('GET', '/v1/routes/abc')).status).toBe(400);
    });
  });

  describe('explain, traffic, and the routing checks on releases', () => {
    it('explains which rule routes the live version, or a named one, and why', async () => {
      const none = await h.call('GET', '/v1/routes/explain/iris');
      expect(none.status).toBe(409);
      expect(none.body.code).toBe('SIBYL_MANAGEMENT_NOTHING_TO_EXPLAIN');
      expect((await h.call('POST', '/v1/models/iris/deploy', { json: { version: 1 } })).status).toBe(200);
      const res = await h.call('GET', '/v1/routes/explain/iris');
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        model: 'iris',
        version: 1,
        facts: { name: 'iris', version: 1, platform: 'onnxruntime_onnx', algorithm: null, tenant: 'default', labels: { team: 'vision' } },
        route: { priority: 1000, pool: 'onnx' },
        pool: 'onnx',
        rules: [
          { matched: true, reasons: ["platform 'onnxruntime_onnx' matches 'onnxruntime_onnx'"] },
          { matched: false, reasons: ["platform 'onnxruntime_onnx' does not match 'tensorflowjs_*'"] },
        ],
      });
      expect((await h.call('GET', '/v1/routes/explain/iris?version=2')).body.version).toBe(2);
      expect((await h.call('GET', '/v1/routes/explain/iris?version=9')).body.code).toBe('SIBYL_REGISTRY_VERSION_NOT_FOUND');
    });

    it('sets, shows and clears the traffic split', async () => {
      expect((await h.call('GET', '/v1/models/iris/traffic')).body).toEqual({ model: 'iris', live_version: 1, canary_version: null, canary_weight: 0, shadow_version: null });
      const set = await h.call('PUT', '/v1/models/iris/traffic', { json: { canary_version: 2, canary_weight: 0.2, shadow_version: 3 }, headers: { 'x-sibyl-actor': 'bob' } });
      expect(set.status).toBe(200);
      expect(set.body).toEqual({ model: 'iris', live_version: 1, canary_version: 2, canary_weight: 0.2, shadow_version: 3 });
      expect((await h.call('GET', '/v1/models/iris/events?limit=1')).body.events[0]).toMatchObject({ action: 'traffic', actor: 'bob' });
      const bad = await h.call('PUT', '/v1/models/iris/traffic', { json: { canary_version: 1 } });
      expect(bad.status).toBe(409);
      expect(bad.body).toEqual({ error: "version 1 of model 'iris' cannot be the canary: it is the live version", code: 'SIBYL_REGISTRY_TRAFFIC_VERSION_INVALID' });
      expect((await h.call('PUT', '/v1/models/iris/traffic', { json: { canary_weight: 2 } })).status).toBe(400);
      // Deploying the canary promotes it.
      expect((await h.call('POST', '/v1/models/iris/deploy', { json: { version: 2 } })).status).toBe(200);
      expect((await h.call('GET', '/v1/models/iris/traffic')).body).toEqual({ model: 'iris', live_version: 2, canary_version: null, canary_weight: 0, shadow_version: 3 });
      const cleared = await h.call('PUT', '/v1/models/iris/traffic', { json: { shadow_version: null } });
      expect(cleared.body.shadow_version).toBeNull();
    });

    it('answers 409 naming the metadata when a rule change would leave the live version unrouted, and when nothing routes a deploy', async () => {
      const onnxRule = (await h.call('GET', '/v1/routes')).body.routes.find((r: { pool: string }) => r.pool === 'onnx');
      const res = await h.call('DELETE', `/v1/routes/${onnxRule.id}`);
      expect(res.status).toBe(409);
      expect(res.body).toEqual({
        error: `deleting routing rule ${onnxRule.id} would leave model 'iris' version 2 (platform 'onnxruntime_onnx', algorithm null, tenant 'default', labels {team: "vision"}), the live version, matching no routing rule`,
        code: 'SIBYL_REGISTRY_ROUTE_IN_USE',
      });
      // Narrow the default rule to iris alone: another ONNX model then has no route.
      await modelWithVersions('other', 1);
      expect((await h.call('PATCH', `/v1/routes/${onnxRule.id}`, { json: { match: { platform: 'onnxruntime_onnx', name: 'iris' } } })).status).toBe(200);
      const refused = await h.call('POST', '/v1/models/other/deploy', { json: { version: 1 } });
      expect(refused.status).toBe(409);
      expect(refused.body).toEqual({
        error: expect.stringContaining("model 'other' version 1 (platform 'onnxruntime_onnx', algorithm null, tenant 'default', labels {}) matches no routing rule"),
        code: 'SIBYL_REGISTRY_NO_ROUTE',
      });
      expect((await h.call('PATCH', `/v1/routes/${onnxRule.id}`, { json: { match: { platform: 'onnxruntime_onnx' } } })).status).toBe(200);
      expect((await h.call('POST', '/v1/models/other/deploy', { json: { version: 1 } })).status).toBe(200);
    });
  });
});
