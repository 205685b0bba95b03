import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createArtifactStore, type ArtifactStore } from '@sibyl/artifacts';
import { createLogger, createMetrics } from '@sibyl/observability';
import { isSibylError, type InferRequest } from '@sibyl/protocol';
import { openRegistry, type OpenedRegistry } from '@sibyl/registry';
import { createLocalInferenceService, createRegistrySource, type LocalInferenceService, type RegistrySource } from '@sibyl/runtime';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDemandSource } from './demand-source.js';
import { createOnDemandService, type OnDemandService } from './on-demand-service.js';
import { addK, publish } from './test-models.fixture.js';

const quiet = createLogger({ destination: new Writable({ write: (_c, _e, cb) => cb() }) });

function request(model: string, x = 1): InferRequest {
  return { modelName: model, inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: new Float32Array([x]) }] };
}

async function rejection(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    if (isSibylError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('on-demand service', () => {
  let dir: string;
  let registry: OpenedRegistry;
  let store: ArtifactStore;
  let registrySource: RegistrySource;
  let local: LocalInferenceService;
  let service: OnDemandService;
  /** Every load the wrapper asked of the data plane, by model. */
  let loads: string[];
  /** Added before each load reaches the data plane, milliseconds. */
  let loadDelayMs: number;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sibyl-worker-on-demand-'));
    registry = await openRegistry({ actor: 'tester' }); // PGlite in memory
    store = await createArtifactStore({ dir: join(dir, 'artifacts') });
    registrySource = createRegistrySource({ registry, artifacts: store, logger: quiet });
    const source = createDemandSource(registrySource, (name) => service.forget(name));
    local = createLocalInferenceService({ source, explicitModelControl: true, strictReadiness: false, logger: quiet, metrics: createMetrics({ processMetrics: false }), serverVersion: 'test', extensions: [] });
    await local.load();
    loads = [];
    loadDelayMs = 0;
    const counted: LocalInferenceService = {
      ...local,
      async load(name) {
        if (name !== undefined) loads.push(name);
        if (loadDelayMs > 0) await new Promise((r) => setTimeout(r, loadDelayMs));
        return local.load(name);
      },
    };
    service = createOnDemandService({ local: counted, want: (name) => source.want(name), cache: { budgetBytes: 2 ** 40, logger: quiet } });
  }, 60_000);

  afterEach(async () => {
    await local.close();
    await registrySource.close();
    await registry.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('50 concurrent first requests load the model exactly once, then all are served', async () => {
    await publish(registry, store, 'cold', addK('cold', 10));
    const responses = await Promise.all(Array.from({ length: 50 }, (_, i) => service.infer(request('cold', i))));
    expect(loads).toEqual(['cold']);
    responses.forEach((r, i) => expect((r.outputs[0]!.data as Float32Array)[0]).toBe(i + 10));
    await service.infer(request('cold'));
    expect(await service.modelReady('cold')).toBe(true);
    expect((await service.modelMetadata('cold')).inputs[0]!.name).toBe('x');
    expect(loads).toEqual(['cold']);
  }, 60_000);

  it('modelMetadata and modelReady of a cold model load it too', async () => {
    await publish(registry, store, 'meta', addK('meta', 1));
    await publish(registry, store, 'ready', addK('ready', 1));
    expect((await service.modelMetadata('meta')).outputs[0]!.name).toBe('y');
    expect(await service.modelReady('ready', '1')).toBe(true);
    expect(loads.sort()).toEqual(['meta', 'ready']);
  }, 60_000);

  it('a model the registry does not have answers NOT_FOUND, and stays unknown', async () => {
    expect((await rejection(service.infer(request('nobody')))).code).toBe('SIBYL_MODEL_NOT_FOUND');
    expect((await rejection(service.modelReady('nobody'))).code).toBe('SIBYL_MODEL_NOT_FOUND');
    expect((await rejection(service.modelMetadata('nobody'))).code).toBe('SIBYL_MODEL_NOT_FOUND');
    expect((await service.repositoryIndex()).map((e) => e.name)).toEqual([]);
  }, 60_000);

  it('a request whose deadline passes while the model loads answers DEADLINE_EXCEEDED; the load goes on', async () => {
    await publish(registry, store, 'slow', addK('slow', 2));
    loadDelayMs = 300;
    const err = await rejection(service.infer(request('slow'), { deadlineMs: Date.now() + 30 }));
    expect(err.code).toBe('SIBYL_DEADLINE_EXCEEDED');
    expect(err.message).toContain("model 'slow' version (live): deadline exceeded while the model was loading on this worker");
    // A request without a deadline joins the same load.
    const r = await service.infer(request('slow', 5));
    expect((r.outputs[0]!.data as Float32Array)[0]).toBe(7);
    expect(loads).toEqual(['slow']);
  }, 60_000);

  it('a request cancelled while the model loads is answered at once', async () => {
    await publish(registry, store, 'gone-client', addK('gone-client', 2));
    loadDelayMs = 300;
    const controller = new AbortController();
    const pending = rejection(service.infer(request('gone-client'), { signal: controller.signal }));
    controller.abort();
    expect((await pending).code).toBe('SIBYL_REQUEST_CANCELLED');
  }, 60_000);

  it('a load failure answers the load error; the next request tries again', async () => {
    await publish(registry, store, 'broken', addK('broken', 1), { storeFile: false });
    const first = await rejection(service.infer(request('broken')));
    expect(first.code).toBe('SIBYL_MODEL_FILE_MISSING');
    expect(await service.modelReady('broken')).toBe(false);
    expect(loads).toEqual(['broken', 'broken']);
  }, 60_000);

  it('a model deleted from the registry is forgotten: its next request answers NOT_FOUND', async () => {
    await publish(registry, store, 'deleted', addK('deleted', 1));
    await service.infer(request('deleted'));
    await registry.undeploy('deleted', 'alice');
    await registry.deleteModel('deleted', 'alice');
    await expect.poll(async () => (await rejection(service.infer(request('deleted')))).code, { timeout: 5000 }).toBe('SIBYL_MODEL_NOT_FOUND');
    expect(loads.length).toBeGreaterThanOrEqual(1);
    // Registered again under the same name: loaded again on demand.
    await publish(registry, store, 'deleted', addK('deleted', 4));
    expect(((await service.infer(request('deleted', 1))).outputs[0]!.data as Float32Array)[0]).toBe(5);
  }, 60_000);
});
