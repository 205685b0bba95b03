import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL_NAME_RULE } from '@sibyl/protocol';
import { describeEachBackend, onnxModel, startManagement, uploadPath, type Harness } from './management.fixture.js';

const OCTETS = { 'content-type': 'application/octet-stream' };

describeEachBackend('models API', (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startManagement({ backend });
  });
  afterAll(async () => {
    await h?.close();
  });

  describe('POST /v1/models', () => {
    it('creates a model with every field and answers 201 with it', async () => {
      const res = await h.call('POST', '/v1/models', {
        json: { name: 'iris', description: 'Iris classifier', labels: { team: 'vision' }, platform: 'onnxruntime_onnx', algorithm: 'mlp', tenant: 'acme' },
        headers: { 'x-sibyl-actor': 'ana' },
      });
      expect(res.status).toBe(201);
      expect(res.headers['content-type']).toContain('application/json');
      expect(res.body).toEqual({
        name: 'iris',
        tenant: 'acme',
        platform: 'onnxruntime_onnx',
        algorithm: 'mlp',
        description: 'Iris classifier',
        labels: { team: 'vision' },
        live_version: null,
        previous_version: null,
        created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        updated_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      });
      const events = await h.call('GET', '/v1/models/iris/events');
      expect(events.body.events[0]).toMatchObject({ action: 'model.create', actor: 'ana', model: 'iris' });
    });

    it('fills the defaults for a model given only a name', async () => {
      const res = await h.call('POST', '/v1/models', { json: { name: 'plain' } });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ name: 'plain', tenant: 'default', platform: null, algorithm: null, description: '', labels: {} });
    });

    it('answers 409 for a name that is taken', async () => {
      const res = await h.call('POST', '/v1/models', { json: { name: 'iris' } });
      expect(res.status).toBe(409);
      expect(res.body).toEqual({ error: "model 'iris' already exists", code: 'SIBYL_REGISTRY_MODEL_EXISTS' });
    });

    it('answers 400 naming an unknown field, and creates nothing', async () => {
      const res = await h.call('POST', '/v1/models', { json: { name: 'extra', colour: 'red' } });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('SIBYL_MANAGEMENT_FIELD_UNKNOWN');
      expect(res.body.error).toContain("unknown field 'colour'");
      expect((await h.call('GET', '/v1/models/extra')).status).toBe(404);
    });

    it('names a missing or mistyped field', async () => {
      const missing = await h.call('POST', '/v1/models', { json: { description: 'no name' } });
      expect(missing.status).toBe(400);
      expect(missing.body).toEqual({ error: "body is missing the required field 'name'", code: 'SIBYL_MANAGEMENT_FIELD_INVALID' });
      const mistyped = await h.call('POST', '/v1/models', { json: { name: 'x', labels: { team: 7 } } });
      expect(mistyped.status).toBe(400);
      expect(mistyped.body.error).toBe("body field 'labels.team' must be a string, got 7");
      const notObject = await h.call('POST', '/v1/models', { json: ['iris'] });
      expect(notObject.status).toBe(400);
      expect(notObject.body.error).toBe('body must be a JSON object, got an array');
    });

    it('passes the registry refusal of a bad label key through, naming the field', async () => {
      const res = await h.call('POST', '/v1/models', { json: { name: 'labelled', labels: { '../x': 'y' } } });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('SIBYL_REGISTRY_FIELD_INVALID');
      expect(res.body.error).toContain("field 'labels'");
    });

    it.each([
      ['../x', '"../x"'],
      ['a/b', '"a/b"'],
      ['', '""'],
      ['a'.repeat(129), `"${'a'.repeat(57)}..."`],
      ['.hidden', '".hidden"'],
    ])('refuses the name %j with 400 naming the rule', async (name, shown) => {
      const res = await h.call('POST', '/v1/models', { json: { name } });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        error: `invalid model name ${shown}: a model name must match ${MODEL_NAME_RULE}`,
        code: 'SIBYL_MANAGEMENT_MODEL_NAME_INVALID',
      });
    });

    it('accepts a name of 128 characters', async () => {
      const name = `m${'x'.repeat(127)}`;
      const res = await h.call('POST', '/v1/models', { json: { name } });
      expect(res.status).toBe(201);
      expect((await h.call('GET', `/v1/models/${name}`)).body.name).toBe(name);
    });

    it('refuses a body that is not JSON, and one sent as a form', async () => {
      const malformed = await h.call('POST', '/v1/models', { body: '{"name": ', headers: { 'content-type': 'application/json' } });
      expect(malformed.status).toBe(400);
      expect(malformed.body.code).toBe('SIBYL_MANAGEMENT_JSON_MALFORMED');
      const form = await h.call('POST', '/v1/models', { body: '{"name":"formed"}', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(form.status).toBe(400);
      expect(form.body).toEqual({
        error: "Content-Type 'application/x-www-form-urlencoded' is not accepted here: send the body as application/json",
        code: 'SIBYL_MANAGEMENT_CONTENT_TYPE',
      });
      const empty = await h.call('POST', '/v1/models', { headers: { 'content-type': 'application/json' }, body: '' });
      expect(empty.status).toBe(400);
      expect(empty.body.error).toBe('body must be a JSON object, got null');
    });

    it('refuses a prototype-polluting body', async () => {
      const res = await h.call('POST', '/v1/models', { body: '{"name":"p","__proto__":{"x":1}}', headers: { 'content-type': 'application/json' } });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('SIBYL_MANAGEMENT_JSON_MALFORMED');
    });

    it('refuses a JSON body over the limit with 413', async () => {
      const res = await h.call('POST', '/v1/models', { json: { name: 'big', description: 'x'.repeat(1024 * 1024) } });
      expect(res.status).toBe(413);
      expect(res.body).toEqual({ error: 'request body is larger than the limit of 1048576 bytes', code: 'SIBYL_MANAGEMENT_BODY_TOO_LARGE' });
    });
  });

  describe('GET /v1/models and /v1/models/{name}', () => {
    it('lists every model by name', async () => {
      const res = await h.call('GET', '/v1/models');
      expect(res.status).toBe(200);
      const names = (res.body.models as Array<{ name: string }>).map((m) => m.name);
      expect(names).toEqual([...names].sort());
      expect(names).toEqual(expect.arrayContaining(['iris', 'plain']));
      expect(res.body.models.find((m: { name: string }) => m.name === 'iris').labels).toEqual({ team: 'vision' });
    });

    it('shows one model, and answers 404 for an unknown one', async () => {
      expect((await h.call('GET', '/v1/models/iris')).body).toMatchObject({ name: 'iris', description: 'Iris classifier' });
      const missing = await h.call('GET', '/v1/models/nope');
      expect(missing.status).toBe(404);
      expect(missing.body).toEqual({ error: "model 'nope' is not registered", code: 'SIBYL_REGISTRY_MODEL_NOT_FOUND' });
    });

    it.each([
      ['%2e%2e', '".."'],
      ['..%2Fx', '"../x"'],
      ['a%2Fb', '"a/b"'],
      ['%2E%2E%2F%2E%2E%2Fetc', '"../../etc"'],
      ['a'.repeat(129), `"${'a'.repeat(57)}..."`],
    ])('refuses the path name %s with 400 naming the rule', async (segment, shown) => {
      for (const path of [`/v1/models/${segment}`, `/v1/models/${segment}/versions`, `/v1/models/${segment}/events`]) {
        const res = await h.call('GET', path);
        expect(res.status, path).toBe(400);
        expect(res.body, path).toEqual({
          error: `invalid model name ${shown}: a model name must match ${MODEL_NAME_RULE}`,
          code: 'SIBYL_MANAGEMENT_MODEL_NAME_INVALID',
        });
      }
    });

    it('answers an empty name in a path with 400 too', async () => {
      const res = await h.call('GET', '/v1/models//versions');
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('SIBYL_MANAGEMENT_MODEL_NAME_INVALID');
    });

    it('answers 404 with a code for a path no endpoint has', async () => {
      const res = await h.call('GET', '/v1/nothing');
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ error: 'no management endpoint GET /v1/nothing; the API is described at /docs', code: 'SIBYL_MANAGEMENT_ROUTE_NOT_FOUND' });
    });

    it('refuses an unknown query field', async () => {
      const res = await h.call('GET', '/v1/models/iris/events?limit=5&colour=red');
      expect(res.status).toBe(400);
      expect(res.body.error).toBe("query string: unknown field 'colour'; known fields: limit, before");
    });
  });

  describe('PATCH /v1/models/{name}', () => {
    it('updates the description and replaces the labels, recording the actor', async () => {
      const res = await h.call('PATCH', '/v1/models/iris', {
        json: { description: 'Iris, retrained', labels: { tier: 'gold' } },
        headers: { 'x-sibyl-actor': 'bob' },
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ name: 'iris', description: 'Iris, retrained', labels: { tier: 'gold' } });
      const events = await h.call('GET', '/v1/models/iris/events');
      expect(events.body.events[0]).toMatchObject({ action: 'model.update', actor: 'bob' });
    });

    it('refuses fields that cannot change', async () => {
      const res = await h.call('PATCH', '/v1/models/iris', { json: { name: 'renamed' } });
      expect(res.status).toBe(400);
      expect(res.body.error).toBe("body: unknown field 'name'; known fields: description, labels");
    });

    it('answers 404 for an unknown model', async () => {
      expect((await h.call('PATCH', '/v1/models/nope', { json: { description: 'x' } })).status).toBe(404);
    });
  });

  describe('DELETE /v1/models/{name}', () => {
    it('deletes a model with its versions and answers 204; its history stays', async () => {
      await h.call('POST', '/v1/models', { json: { name: 'doomed' } });
      const upload = await h.call('POST', uploadPath('doomed', 'model.onnx'), { body: onnxModel('doomed'), headers: OCTETS });
      expect(upload.status).toBe(201);
      const res = await h.call('DELETE', '/v1/models/doomed', { headers: { 'x-sibyl-actor': 'carol' } });
      expect(res.status).toBe(204);
      expect(res.text).toBe('');
      expect((await h.call('GET', '/v1/models/doomed')).status).toBe(404);
      const events = await h.call('GET', '/v1/models/doomed/events');
      expect(events.body.events[0]).toMatchObject({ action: 'model.delete', actor: 'carol' });
    });

    it('answers 409 while a version is live, and deletes after an undeploy', async () => {
      await h.call('POST', '/v1/models', { json: { name: 'live' } });
      await h.call('POST', uploadPath('live', 'model.onnx'), { body: onnxModel('live'), headers: OCTETS });
      await h.call('POST', '/v1/models/live/deploy', { json: { version: 1 } });
      const refused = await h.call('DELETE', '/v1/models/live');
      expect(refused.status).toBe(409);
      expect(refused.body.code).toBe('SIBYL_REGISTRY_MODEL_LIVE');
      expect((await h.call('POST', '/v1/models/live/undeploy')).body).toEqual({ model: 'live', live_version: null, previous_version: 1 });
      expect((await h.call('DELETE', '/v1/models/live')).status).toBe(204);
    });

    it('answers 404 for an unknown model', async () => {
      expect((await h.call('DELETE', '/v1/models/nope')).status).toBe(404);
    });
  });

  describe('the actor', () => {
    it('is "anonymous" without the header', async () => {
      await h.call('POST', '/v1/models', { json: { name: 'nobody' } });
      const events = await h.call('GET', '/v1/models/nobody/events');
      expect(events.body.events[0].actor).toBe('anonymous');
    });

    it('refuses an actor header longer than 256 characters', async () => {
      const res = await h.call('POST', '/v1/models', { json: { name: 'who' }, headers: { 'x-sibyl-actor': 'a'.repeat(257) } });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('SIBYL_MANAGEMENT_ACTOR_INVALID');
      expect((await h.call('GET', '/v1/models/who')).status).toBe(404);
    });
  });

  describe('GET /v1/status', () => {
    it('counts models and ready versions', async () => {
      const models = (await h.call('GET', '/v1/models')).body.models.length;
      const res = await h.call('GET', '/v1/status');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ name: 'sibyl', version: '0.1.0', ready: true, models, versions_ready: 0 });
      await h.call('POST', '/v1/models', { json: { name: 'counted' } });
      await h.call('POST', uploadPath('counted', 'model.onnx'), { body: onnxModel('counted'), headers: OCTETS });
      await h.registry.setVersionState('counted', 1, 'ready');
      expect((await h.call('GET', '/v1/status')).body).toMatchObject({ models: models + 1, versions_ready: 1 });
    });
  });
});
