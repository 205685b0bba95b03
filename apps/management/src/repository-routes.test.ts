import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Registry } from '@sibyl/registry';
import { onnxModel, startManagement, uploadPath, type Harness } from './management.fixture.js';
import type { ManagementServing, RepositoryIndexEntry, ServingLoadRequest, ServingUnloadRequest } from './server-options.js';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

type Call = { method: 'load'; name: string; request: ServingLoadRequest } | { method: 'unload'; name: string; request: ServingUnloadRequest };

/**
 * The serving side as the contract in server-options.ts describes it, over the real registry: the
 * live version of each model serves; a load deploys the version it is given; an unload undeploys.
 * (The real one, which also loads the model in the runtime, is the all-in-one app's.)
 */
function registryServing(registry: Registry, calls: Call[]): ManagementServing {
  return {
    async repositoryIndex() {
      const entries: RepositoryIndexEntry[] = [];
      for (const model of await registry.listModels()) {
        if (model.liveVersion === null) {
          entries.push({ name: model.name, state: 'UNAVAILABLE', reason: 'unloaded' });
          continue;
        }
        const version = await registry.getVersion(model.name, model.liveVersion);
        const ready = version.state === 'ready';
        entries.push({ name: model.name, version: String(version.version), state: ready ? 'READY' : 'LOADING', reason: ready ? '' : version.state });
      }
      return entries;
    },
    async load(name, request) {
      calls.push({ method: 'load', name, request });
      if (name === 'explode') throw new Error('the serving side broke');
      const model = await registry.getModel(name);
      const version = request.version ?? model.liveVersion;
      if (version === null) return;
      if (request.version !== undefined) await registry.deploy(name, version, request.actor);
      await registry.setVersionState(name, version, 'ready', '', request.actor);
    },
    async unload(name, request) {
      calls.push({ method: 'unload', name, request });
      await registry.undeploy(name, request.actor);
    },
  };
}

describe('model repository extension without a serving side', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startManagement();
  });
  afterAll(async () => {
    await h?.close();
  });

  it.each([
    ['/v2/repository/index', 'POST /v2/repository/index'],
    ['/v2/repository/models/iris/load', 'POST /v2/repository/models/{name}/load'],
    ['/v2/repository/models/iris/unload', 'POST /v2/repository/models/{name}/unload'],
  ])('answers POST %s with 503 naming why', async (path, route) => {
    const res = await h.call('POST', path);
    expect(res.status).toBe(503);
    expect(res.body).toEqual({
      error: `${route} is not available: this management server runs without a serving data plane, so it cannot list, load or unload models`,
      code: 'SIBYL_MANAGEMENT_REPOSITORY_UNAVAILABLE',
    });
  });

  it('stores nothing for a load with files', async () => {
    const res = await h.call('POST', '/v2/repository/models/iris/load', {
      json: { parameters: { config: '{}', 'file:1/model.onnx': base64(onnxModel('unserved')) } },
    });
    expect(res.status).toBe(503);
    expect((await h.call('GET', '/v1/models/iris')).status).toBe(404);
    expect(await h.store.has(sha256(onnxModel('unserved')))).toBe(false);
  });
});

describe('model repository extension', () => {
  let h: Harness;
  const calls: Call[] = [];
  const model = onnxModel('repo');

  beforeAll(async () => {
    let registry: Registry | undefined;
    const serving: ManagementServing = {
      repositoryIndex: () => registryServing(registry!, calls).repositoryIndex(),
      load: (name, request) => registryServing(registry!, calls).load(name, request),
      unload: (name, request) => registryServing(registry!, calls).unload(name, request),
      ready: async () => false,
    };
    h = await startManagement({ serving, maxUploadBytes: 64 * 1024 });
    registry = h.registry;
    await h.call('POST', '/v1/models', { json: { name: 'iris' } });
    await h.call('POST', uploadPath('iris', 'model.onnx'), { body: onnxModel('iris'), headers: { 'content-type': 'application/octet-stream' } });
    await h.call('POST', '/v1/models', { json: { name: 'empty' } });
  });
  afterAll(async () => {
    await h?.close();
  });

  describe('POST /v2/repository/models/{name}/load', () => {
    it('loads a model: 200 with an empty body, passing the actor', async () => {
      calls.length = 0;
      const res = await h.call('POST', '/v2/repository/models/iris/load', { headers: { 'x-sibyl-actor': 'ops' } });
      expect(res.status).toBe(200);
      expect(res.text).toBe('');
      expect(calls).toEqual([{ method: 'load', name: 'iris', request: { actor: 'ops' } }]);
    });

    it('passes a config parameter, parsed', async () => {
      calls.length = 0;
      const config = { max_batch_size: 0, parameters: { note: { string_value: 'x' } } };
      const res = await h.call('POST', '/v2/repository/models/iris/load', { json: { parameters: { config: JSON.stringify(config) } } });
      expect(res.status).toBe(200);
      expect(calls).toEqual([{ method: 'load', name: 'iris', request: { config, actor: 'anonymous' } }]);
    });

    it('stores file: parameters as a new version of a new model, with its config, then has it loaded', async () => {
      calls.length = 0;
      const config = { name: 'fromfile', platform: 'onnxruntime_onnx' };
      const res = await h.call('POST', '/v2/repository/models/fromfile/load', {
        json: { parameters: { config: JSON.stringify(config), 'file:1/model.onnx': base64(model) } },
        headers: { 'x-sibyl-actor': 'triton-client' },
      });
      expect(res.status).toBe(200);
      expect(calls).toEqual([{ method: 'load', name: 'fromfile', request: { version: 1, config, actor: 'triton-client' } }]);
      const version = (await h.call('GET', '/v1/models/fromfile/versions/1')).body;
      expect(version).toMatchObject({ version: 1, sha256: sha256(model), filename: 'model.onnx', format: 'onnx-file', config, created_by: 'triton-client', state: 'ready' });
      expect((await h.call('GET', '/v1/models/fromfile')).body).toMatchObject({ live_version: 1 });
    });

    it('loads the same files again without a new version', async () => {
      calls.length = 0;
      const config = { name: 'fromfile', platform: 'onnxruntime_onnx' };
      const res = await h.call('POST', '/v2/repository/models/fromfile/load', {
        json: { parameters: { config: JSON.stringify(config), 'file:1/model.onnx': base64(model) } },
      });
      expect(res.status).toBe(200);
      expect(calls[0]).toMatchObject({ request: { version: 1 } });
      expect((await h.call('GET', '/v1/models/fromfile/versions')).body.versions).toHaveLength(1);
    });

    it('stores several files as a directory version (.tar.gz)', async () => {
      calls.length = 0;
      const res = await h.call('POST', '/v2/repository/models/fromfile/load', {
        json: {
          parameters: {
            config: '{}',
            'file:2/model.onnx': base64(onnxModel('two-files')),
            'file:2/labels/classes.txt': base64(Buffer.from('a\nb\n')),
          },
        },
      });
      expect(res.status).toBe(200);
      expect(calls[0]).toMatchObject({ request: { version: 2, config: {} } });
      const version = (await h.call('GET', '/v1/models/fromfile/versions/2')).body;
      expect(version).toMatchObject({ format: 'tar.gz', filename: 'fromfile.tar.gz', config: {} });
      const info = await h.store.stat(version.sha256);
      expect(info.format === 'tar.gz' && info.files).toEqual(['labels/classes.txt', 'model.onnx']);
    });

    it('refuses files that are not a model with 400, creating no model and storing nothing', async () => {
      const garbage = Buffer.from('definitely not onnx');
      const res = await h.call('POST', '/v2/repository/models/broken/load', {
        json: { parameters: { config: '{}', 'file:1/model.onnx': base64(garbage) } },
      });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('SIBYL_MANAGEMENT_MODEL_REJECTED');
      expect((await h.call('GET', '/v1/models/broken')).status).toBe(404);
      expect(await h.store.has(sha256(garbage))).toBe(false);
    });

    it("refuses a config that does not fit the file with the runtime's reason, keeping bytes another version uses", async () => {
      const config = { input: [{ name: 'nope', data_type: 'TYPE_FP32', dims: [4] }] };
      const res = await h.call('POST', '/v2/repository/models/mismatch/load', {
        json: { parameters: { config: JSON.stringify(config), 'file:1/model.onnx': base64(model) } },
      });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('SIBYL_MANAGEMENT_MODEL_REJECTED');
      expect(res.body.error).toContain("model 'mismatch'");
      expect(res.body.error).toContain("'nope'");
      expect((await h.call('GET', '/v1/models/mismatch')).status).toBe(404);
      // The same bytes are version 1 of 'fromfile': they stay.
      expect(await h.store.has(sha256(model))).toBe(true);
    });

    it.each([
      [{ 'file:1/model.onnx': 'AAAA' }, 'config', 'is required when file: parameters are given'],
      [{ config: '{}', 'file:1/model.onnx': 'not base64!' }, 'file:1/model.onnx', 'is not valid base64'],
      [{ config: '{}', 'file:1/../model.onnx': 'AAAA' }, 'file:1/../model.onnx', 'is not a plain relative path'],
      [{ config: '{}', 'file:x/model.onnx': 'AAAA' }, 'file:x/model.onnx', 'version directory made of digits'],
      [{ config: '{}', 'file:1/a.onnx': 'AAAA', 'file:2/b.onnx': 'AAAA' }, 'file:2/b.onnx', 'one load stores one version'],
      [{ config: '{not json' }, 'config', 'is not valid JSON'],
      [{ config: '[1]' }, 'config', 'must hold a JSON object'],
      [{ config: 1 }, 'config', 'must be a string (got number)'],
      [{ unexpected: 'x' }, 'unexpected', "is not a load parameter: expected 'config' or 'file:<version>/<path>'"],
    ])('refuses the parameters %j with 400', async (parameters, name, problem) => {
      calls.length = 0;
      const res = await h.call('POST', '/v2/repository/models/iris/load', { json: { parameters } });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('SIBYL_MANAGEMENT_LOAD_PARAMETER_INVALID');
      expect(res.body.error.startsWith(`load parameter '${name}' `), res.body.error).toBe(true);
      expect(res.body.error).toContain(problem);
      expect(calls).toEqual([]);
    });

    it('refuses an unknown top-level field, and a body over the load limit', async () => {
      const unknown = await h.call('POST', '/v2/repository/models/iris/load', { json: { parameter: {} } });
      expect(unknown.status).toBe(400);
      expect(unknown.body.error).toBe("body: unknown field 'parameter'; known fields: parameters");
      const big = await h.call('POST', '/v2/repository/models/iris/load', {
        json: { parameters: { config: '{}', 'file:1/model.onnx': 'A'.repeat(2 * 1024 * 1024) } },
      });
      expect(big.status).toBe(413);
      expect(big.body.code).toBe('SIBYL_MANAGEMENT_BODY_TOO_LARGE');
    });

    it("passes the serving side's refusal through (an unknown model: 404)", async () => {
      const res = await h.call('POST', '/v2/repository/models/nope/load');
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('SIBYL_REGISTRY_MODEL_NOT_FOUND');
    });

    it('answers an uncoded failure of the serving side as 500 SIBYL_INTERNAL, and logs it', async () => {
      const res = await h.call('POST', '/v2/repository/models/explode/load');
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ error: 'internal error: the serving side broke', code: 'SIBYL_INTERNAL' });
      expect(h.logs.find((line) => line['msg'] === 'management request failed')).toMatchObject({
        level: 'error',
        url: '/v2/repository/models/explode/load',
        err: { message: 'the serving side broke' },
      });
    });

    it('refuses a model name that breaks the rule', async () => {
      const res = await h.call('POST', '/v2/repository/models/%2e%2e/load');
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('SIBYL_MANAGEMENT_MODEL_NAME_INVALID');
    });
  });

  describe('POST /v2/repository/index', () => {
    it('lists what serving knows, with or without a body', async () => {
      for (const options of [{}, { json: {} }, { json: { ready: false } }]) {
        const res = await h.call('POST', '/v2/repository/index', options);
        expect(res.status).toBe(200);
        expect(res.body).toEqual([
          { name: 'empty', state: 'UNAVAILABLE', reason: 'unloaded' },
          { name: 'fromfile', version: '2', state: 'READY', reason: '' },
          { name: 'iris', state: 'UNAVAILABLE', reason: 'unloaded' },
        ]);
      }
    });

    it('keeps the READY rows for {"ready": true}', async () => {
      const res = await h.call('POST', '/v2/repository/index', { json: { ready: true } });
      expect(res.body).toEqual([{ name: 'fromfile', version: '2', state: 'READY', reason: '' }]);
    });

    it('refuses a ready that is not a boolean, and unknown fields', async () => {
      const notBool = await h.call('POST', '/v2/repository/index', { json: { ready: 'yes' } });
      expect(notBool.status).toBe(400);
      expect(notBool.body.error).toBe('body field \'ready\' must be a boolean, got "yes"');
      expect((await h.call('POST', '/v2/repository/index', { json: { all: true } })).status).toBe(400);
    });
  });

  describe('POST /v2/repository/models/{name}/unload', () => {
    it('unloads, with or without unload_dependents', async () => {
      calls.length = 0;
      expect((await h.call('POST', '/v2/repository/models/fromfile/unload', { headers: { 'x-sibyl-actor': 'ops' } })).status).toBe(200);
      expect((await h.call('POST', '/v2/repository/models/fromfile/unload', { json: { parameters: { unload_dependents: true } } })).status).toBe(200);
      expect(calls).toEqual([
        { method: 'unload', name: 'fromfile', request: { unloadDependents: false, actor: 'ops' } },
        { method: 'unload', name: 'fromfile', request: { unloadDependents: true, actor: 'anonymous' } },
      ]);
      expect((await h.call('GET', '/v1/models/fromfile')).body.live_version).toBeNull();
    });

    it('refuses unknown parameters', async () => {
      const res = await h.call('POST', '/v2/repository/models/fromfile/unload', { json: { parameters: { force: true } } });
      expect(res.status).toBe(400);
      expect(res.body.error).toBe("body: unknown field 'parameters.force'; known fields: unload_dependents");
    });
  });

  it("reports the serving side's readiness in /v1/status", async () => {
    expect((await h.call('GET', '/v1/status')).body).toMatchObject({ ready: false });
  });
});
