/**
 * The model cache as the worker uses it: the on-demand service over the real data plane
 * (onnxruntime-node), the registry on PGlite, real model files of about 1 MiB each.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createArtifactStore, type ArtifactStore } from '@sibyl/artifacts';
import { createLogger, createMetrics } from '@sibyl/observability';
import { isSibylError, type InferRequest, type InferResponse } from '@sibyl/protocol';
import { openRegistry, type OpenedRegistry } from '@sibyl/registry';
import { createLocalInferenceService, createRegistrySource, type LocalInferenceService, type ModelCacheOptions, type RegistrySource } from '@sibyl/runtime';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDemandSource } from './demand-source.js';
import { createOnDemandService, type OnDemandService } from './on-demand-service.js';
import { publish, sizedAddK } from './test-models.fixture.js';

const quiet = createLogger({ destination: new Writable({ write: (_c, _e, cb) => cb() }) });
/** Weights per model: a model file of about 1 MiB. */
const FLOATS = 256 * 1024;
const MODELS = Array.from({ length: 10 }, (_, i) => ({ name: `m${i}`, k: 100 * (i + 1) }));

function request(model: string, x: number): InferRequest {
  return { modelName: model, inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: new Float32Array([x]) }] };
}

const y = (r: InferResponse) => (r.outputs[0]!.data as Float32Array)[0];

/** A seeded PRNG (mulberry32): the same access pattern every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('model cache (worker on-demand service)', () => {
  let dir: string;
  let registry: OpenedRegistry;
  let store: ArtifactStore;
  /** What a model is charged, at most, over two loads with no budget to speak of: the unit budgets are counted in. */
  let unit: number;

  interface Harness {
    local: LocalInferenceService;
    service: OnDemandService;
    /** Loads that reached the data plane, by model. */
    loads: string[];
    /** Requests to these models wait for the gate before they run. */
    gates: Map<string, Promise<void>>;
    /** Added before each load reaches the data plane, milliseconds. */
    loadDelayMs: number;
    /** What each request for a model that was not loaded waited, seconds. */
    missWaits: number[];
    /** The largest charge of a load so far, bytes. */
    largestCharge: number;
    close(): Promise<void>;
  }
  const open: Harness[] = [];

  async function harness(cache: Omit<ModelCacheOptions, 'host' | 'onEvicted' | 'logger'>): Promise<Harness> {
    const registrySource: RegistrySource = createRegistrySource({ registry, artifacts: store, logger: quiet });
    const source = createDemandSource(registrySource, (name) => h.service.forget(name));
    const local = createLocalInferenceService({ source, explicitModelControl: true, strictReadiness: false, logger: quiet, metrics: createMetrics({ processMetrics: false }), serverVersion: 'test', extensions: [] });
    await local.load();
    const h: Harness = {
      local,
      service: undefined as unknown as OnDemandService,
      loads: [],
      gates: new Map(),
      loadDelayMs: 0,
      missWaits: [],
      largestCharge: 0,
      async close() {
        await local.close();
        await registrySource.close();
      },
    };
    const wrapped: LocalInferenceService = {
      ...local,
      async load(name) {
        if (name !== undefined) h.loads.push(name);
        if (h.loadDelayMs > 0) await new Promise((r) => setTimeout(r, h.loadDelayMs));
        return local.load(name);
      },
      async infer(req, context) {
        await h.gates.get(req.modelName);
        return local.infer(req, context);
      },
    };
    h.service = createOnDemandService({ local: wrapped, want: (name) => source.want(name), cache: { ...cache, logger: quiet, onLoaded: (_n, _s, bytes) => (h.largestCharge = Math.max(h.largestCharge, bytes)) }, onMissWait: (s) => h.missWaits.push(s) });
    open.push(h);
    return h;
  }

  /** The cache's accounting agrees with itself and keeps within the budget. */
  /**
   * The charges add up, and the cache is within its budget. Charges are measured, so a load can come
   * out larger than the room made for it while every other model is busy; the cache then evicts the
   * next model to go idle (the request that just ended may be the one that frees it), and the unload
   * takes a moment: the budget holds again once that eviction is done.
   */
  async function checkAccounting(h: Harness): Promise<void> {
    const stats = h.service.cache.stats();
    const entries = h.service.cache.entries();
    expect(entries.reduce((n, e) => n + e.bytes, 0)).toBe(stats.usedBytes);
    await expect.poll(() => h.service.cache.stats().usedBytes, { timeout: 5000 }).toBeLessThanOrEqual(stats.budgetBytes);
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sibyl-worker-model-cache-'));
    registry = await openRegistry({ actor: 'tester' }); // PGlite in memory
    store = await createArtifactStore({ dir: join(dir, 'artifacts') });
    for (const m of MODELS) await publish(registry, store, m.name, sizedAddK(m.name, m.k, FLOATS));
    await publish(registry, store, 'pinned', sizedAddK('pinned', 7, FLOATS));
    // Two loads of each of two models with room for all: what a model really costs here.
    const probe = await harness({ budgetBytes: 2 ** 40 });
    for (const name of ['m0', 'm1']) {
      await probe.service.infer(request(name, 0));
      await probe.local.unload(name);
      probe.service.forget(name);
      await probe.service.infer(request(name, 0));
    }
    const charged = probe.service.cache.entries().map((e) => e.bytes);
    unit = Math.max(...charged);
    expect(Math.min(...charged)).toBeGreaterThanOrEqual(FLOATS * 4); // never below the model file
    await probe.close();
  }, 120_000);

  afterEach(async () => {
    for (const h of open.splice(0)) await h.close();
  });

  afterAll(async () => {
    await registry?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('with a budget for 3 models and 10 registered, a seeded random access pattern keeps within the budget, evicting idle models, every answer right', async () => {
    const budget = Math.floor(3.5 * unit);
    const h = await harness({ budgetBytes: budget });
    const next = random(20261125);
    for (let i = 0; i < 60; i++) {
      const m = MODELS[Math.floor(next() * MODELS.length)]!;
      const r = await h.service.infer(request(m.name, i));
      expect(y(r)).toBe(i + m.k);
      await checkAccounting(h);
      expect(h.service.cache.stats().models).toBeLessThanOrEqual(MODELS.length);
    }
    const stats = h.service.cache.stats();
    expect(stats.evictions).toBeGreaterThan(0);
    expect(stats.hits + stats.misses).toBe(60);
    // Never past the budget by more than the model being loaded.
    expect(stats.peakBytes).toBeGreaterThan(0);
    expect(stats.peakBytes).toBeLessThanOrEqual(budget + h.largestCharge);
    expect(stats.peakLoadBytes).toBeGreaterThan(0);
    expect(stats.peakBytes).toBeLessThanOrEqual(budget + stats.peakLoadBytes);
    expect(stats.misses).toBe(h.loads.length);
    // The data plane serves exactly what the cache holds: evicted models were unloaded through it.
    const resident = h.service.cache.entries().filter((e) => e.state === 'resident').map((e) => e.name).sort();
    const ready = (await h.service.repositoryIndex()).filter((e) => e.state === 'READY').map((e) => e.name).sort();
    expect(ready).toEqual(resident);
  }, 120_000);

  it('never evicts a model with a request in flight', async () => {
    const h = await harness({ budgetBytes: Math.floor(2.5 * unit) });
    await h.service.infer(request('m0', 0)); // loaded, idle, least recently used from here on
    let open!: () => void;
    h.gates.set('m0', new Promise<void>((resolve) => (open = resolve)));
    const held = h.service.infer(request('m0', 1));
    const next = random(7);
    for (let i = 0; i < 20; i++) {
      const m = MODELS[1 + Math.floor(next() * (MODELS.length - 1))]!;
      expect(y(await h.service.infer(request(m.name, i)))).toBe(i + m.k);
      await checkAccounting(h);
      expect(h.service.cache.entries().find((e) => e.name === 'm0')).toMatchObject({ state: 'resident', inflight: 1 });
    }
    expect(h.service.cache.stats().evictions).toBeGreaterThan(0);
    open();
    expect(y(await held)).toBe(1 + 100);
    expect(h.loads.filter((n) => n === 'm0')).toEqual(['m0']);
    // Once idle it is evictable again, in its turn: its release made it the most recently used, so
    // every model still resident when it goes was used after it. (Charges are measured, so how many
    // models fit varies from run to run; the order does not.)
    h.gates.clear();
    const usedAfter = new Set<string>();
    const m0Resident = () => h.service.cache.entries().find((e) => e.name === 'm0')?.state === 'resident';
    for (const m of [...MODELS.slice(1), ...MODELS.slice(1)]) {
      if (!m0Resident()) break;
      await h.service.infer(request(m.name, 0));
      usedAfter.add(m.name);
      await checkAccounting(h);
    }
    expect(m0Resident()).toBe(false);
    const resident = h.service.cache.entries().filter((e) => e.state === 'resident').map((e) => e.name);
    for (const name of resident) expect(usedAfter.has(name), `${name} outlived m0 without being used after it`).toBe(true);
  }, 120_000);

  it('50 concurrent requests for a cold model cause one load', async () => {
    const h = await harness({ budgetBytes: Math.floor(3.5 * unit) });
    h.loadDelayMs = 100;
    const responses = await Promise.all(Array.from({ length: 50 }, (_, i) => h.service.infer(request('m3', i))));
    responses.forEach((r, i) => expect(y(r)).toBe(i + 400));
    expect(h.loads).toEqual(['m3']);
    expect(h.service.cache.stats()).toMatchObject({ loads: 1, misses: 50, hits: 0, models: 1 });
    // Each of the 50 waited for the one load (100 ms of it added here).
    expect(h.missWaits).toHaveLength(50);
    for (const s of h.missWaits) expect(s).toBeGreaterThanOrEqual(0.09);
    await h.service.infer(request('m3', 0));
    expect(h.service.cache.stats().hits).toBe(1);
  }, 60_000);

  it('never evicts a pinned model', async () => {
    const h = await harness({ budgetBytes: Math.floor(2.5 * unit), pinned: ['pinned'] });
    expect(y(await h.service.infer(request('pinned', 1)))).toBe(8);
    for (let round = 0; round < 2; round++) {
      for (const m of MODELS) {
        expect(y(await h.service.infer(request(m.name, round)))).toBe(round + m.k);
        await checkAccounting(h);
        expect(h.service.cache.entries().find((e) => e.name === 'pinned')).toMatchObject({ state: 'resident', pinned: true });
      }
    }
    expect(h.service.cache.stats().evictions).toBeGreaterThan(0);
    expect(h.loads.filter((n) => n === 'pinned')).toEqual(['pinned']);
    expect(y(await h.service.infer(request('pinned', 2)))).toBe(9);
  }, 120_000);

  it('a load past the load timeout answers UNAVAILABLE naming the model, to every request waiting and arriving; the load still ends', async () => {
    const h = await harness({ budgetBytes: Math.floor(3.5 * unit), loadTimeoutMs: 200 });
    h.loadDelayMs = 700;
    const failure = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (err) {
        if (isSibylError(err)) return { code: err.code, category: err.category, message: err.message };
        throw err;
      }
      throw new Error('expected a rejection');
    };
    const waiting = await Promise.all(Array.from({ length: 5 }, () => failure(h.service.infer(request('m5', 1)))));
    for (const err of waiting) {
      expect(err).toMatchObject({ code: 'SIBYL_MODEL_LOAD_TIMEOUT', category: 'UNAVAILABLE' });
      expect(err.message).toContain("model 'm5' did not load within 0.2 s");
    }
    // Arriving while the timed-out load still runs: refused at once.
    expect((await failure(h.service.infer(request('m5', 1)))).code).toBe('SIBYL_MODEL_LOAD_TIMEOUT');
    expect(h.loads).toEqual(['m5']);
    // The load was not abandoned: once it ends, the model serves.
    await expect.poll(() => h.service.cache.entries().find((e) => e.name === 'm5')?.state, { timeout: 5000 }).toBe('resident');
    expect(y(await h.service.infer(request('m5', 1)))).toBe(601);
    expect(h.loads).toEqual(['m5']);
  }, 60_000);
});
