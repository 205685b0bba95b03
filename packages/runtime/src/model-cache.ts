/**
 * A memory-bounded model cache: which models a worker keeps loaded, what each costs, and which to
 * unload when a load needs room. It owns no session: models load and unload through a host (the
 * data plane, `LocalInferenceService.load(name)` / `unload(name)`).
 *
 * Contracts:
 * - Charge: a model is charged, at load, what the process grew by while it loaded: the larger of the
 *   resident set (`rss`) delta and the `external` delta (ArrayBuffers and native allocations not yet
 *   resident), floored at the size of its model files. Deltas are attributable only while loads do
 *   not overlap: `loadConcurrency` (default 1) bounds them; above 1 each overlapping load is charged
 *   the others' growth too (over-charged, never under), in exchange for loading in parallel.
 * - Budget: before a load, idle models are evicted, least recently used first, until the model's
 *   last known charge fits; the load starts only once the models charged fit the budget, so the
 *   budget is exceeded by at most the models loading (one, at the default concurrency). After the
 *   load, idle models are evicted again until the charges fit; while they cannot (the others are
 *   busy), the next model to go idle is evicted.
 * - Never evicted: a model with a request in flight (`enter` to its exit), one loading, a pinned one.
 *   Pinned models count against the budget; pinned models over it leave no room for anything else.
 * - Timeout: a load (its wait for a load slot and for room included) that has not finished within
 *   `loadTimeoutMs` fails its waiters, and every request arriving until it ends, with
 *   SIBYL_MODEL_LOAD_TIMEOUT (UNAVAILABLE). It is not abandoned: if it finishes, the model serves.
 */
import type { Logger } from '@sibyl/observability';
import { modelLoadTimeout } from './errors.js';
import type { LoadSummary } from './load-summary.js';

/** What the cache loads models through. */
export interface ModelCacheHost {
  /** Loads `name`; resolves once it serves (the summary gives the model files' sizes), rejects when it does not. */
  load(name: string): Promise<LoadSummary>;
  /** Stops serving `name` and releases it once its requests finished. */
  unload(name: string): Promise<void>;
}

export interface ModelCacheOptions {
  host: ModelCacheHost;
  /** Memory the loaded models may be charged in all, bytes. */
  budgetBytes: number;
  /** Loads running at the same time; default 1 (see the charge contract above). */
  loadConcurrency?: number;
  /** How long a load may take, milliseconds; default 60000. */
  loadTimeoutMs?: number;
  /** Models never evicted. */
  pinned?: readonly string[];
  logger: Logger;
  /** A model was chosen for eviction: from now on it is not served until loaded again. */
  onEvicted?(name: string): void;
  /** A load left `name` serving, after `seconds`, charged `bytes`. */
  onLoaded?(name: string, seconds: number, bytes: number): void;
}

export type ModelCacheState = 'cold' | 'loading' | 'resident' | 'evicting';

export interface ModelCacheEntry {
  readonly name: string;
  readonly state: ModelCacheState;
  /** Charged now, bytes (0 unless resident or evicting). */
  readonly bytes: number;
  readonly inflight: number;
  readonly pinned: boolean;
}

export interface ModelCacheStats {
  readonly budgetBytes: number;
  /** Charges of the models resident or being evicted, bytes. */
  readonly usedBytes: number;
  /** Models resident or being evicted. */
  readonly models: number;
  /** Requests that found their model resident. */
  readonly hits: number;
  /** Requests that did not (they waited for a load). */
  readonly misses: number;
  readonly evictions: number;
  /** Loads that left a model serving. */
  readonly loads: number;
  /** The most usedBytes has been since the cache was made: at most the budget plus the model loading when it was reached. */
  readonly peakBytes: number;
  /** The charge of the load that set peakBytes (0 before any load): peakBytes is at most budgetBytes plus it. */
  readonly peakLoadBytes: number;
}

export interface ModelCache {
  /**
   * A request for `name` begins: it is counted in flight, so the model is not evicted until the
   * returned function is called (once, when the request ends), and counted as a hit or a miss.
   */
  enter(name: string): () => void;
  /**
   * Resolves once `name` is resident: at once when it is, else joining the load in progress or
   * starting one (after making room). Rejects with the load error, or SIBYL_MODEL_LOAD_TIMEOUT.
   */
  load(name: string): Promise<void>;
  /** The data plane dropped `name` on its own (the source no longer has it): its charge ends. */
  forget(name: string): void;
  stats(): ModelCacheStats;
  /** Every model the cache knows, least recently used first. */
  entries(): ModelCacheEntry[];
}

interface Slot {
  readonly name: string;
  readonly pinned: boolean;
  state: ModelCacheState;
  bytes: number;
  /** The charge of its last load: what a next load is expected to need. */
  lastBytes: number;
  inflight: number;
  /** Tick of its last use (higher is more recent). */
  used: number;
  /** What callers of load() wait on while it loads: rejects at the timeout. */
  loading: Promise<void> | undefined;
  /** Resolves once its eviction finished. */
  evicting: Promise<void> | undefined;
}

const DEFAULT_LOAD_TIMEOUT_MS = 60_000;

function positive(name: string, value: number, integer: boolean): number {
  if (!(value > 0) || (integer && !Number.isSafeInteger(value))) throw new TypeError(`option ${name} must be a positive ${integer ? 'integer' : 'number'}, got ${String(value)}`);
  return value;
}

export function createModelCache(options: ModelCacheOptions): ModelCache {
  const { host, logger } = options;
  const budget = positive('budgetBytes', options.budgetBytes, false);
  const concurrency = positive('loadConcurrency', options.loadConcurrency ?? 1, true);
  const timeoutMs = positive('loadTimeoutMs', options.loadTimeoutMs ?? DEFAULT_LOAD_TIMEOUT_MS, false);
  const pinned = new Set(options.pinned ?? []);
  const slots = new Map<string, Slot>();
  let tick = 0;
  let usedBytes = 0;
  /** Charges of the models being evicted (still in usedBytes until their unload finished). */
  let freeingBytes = 0;
  let hits = 0;
  let misses = 0;
  let peakBytes = 0;
  let peakLoadBytes = 0;
  let evictions = 0;
  let loads = 0;

  /** Woken when room may have appeared (a model went idle, an eviction or a load ended). */
  let roomWaiters: Array<() => void> = [];
  const roomChanged = () => {
    const waiters = roomWaiters;
    roomWaiters = [];
    for (const wake of waiters) wake();
  };

  function slotOf(name: string): Slot {
    let slot = slots.get(name);
    if (slot === undefined) {
      slot = { name, pinned: pinned.has(name), state: 'cold', bytes: 0, lastBytes: 0, inflight: 0, used: ++tick, loading: undefined, evicting: undefined };
      slots.set(name, slot);
    }
    return slot;
  }

  /** Cold slots nobody uses are dropped, so names asked once (unknown models) do not pile up. */
  function tidy(slot: Slot): void {
    if (slot.state === 'cold' && slot.inflight === 0 && slot.loading === undefined && !slot.pinned) slots.delete(slot.name);
  }

  // ---- load slots ---------------------------------------------------------------------------------
  let running = 0;
  const queued: Array<() => void> = [];
  const acquire = (): Promise<void> => {
    if (running < concurrency) {
      running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => queued.push(resolve));
  };
  const releaseSlot = () => {
    const next = queued.shift();
    if (next === undefined) running--;
    else next();
  };

  // ---- eviction -----------------------------------------------------------------------------------
  function victim(except: Slot | undefined): Slot | undefined {
    let found: Slot | undefined;
    for (const slot of slots.values()) {
      if (slot === except || slot.state !== 'resident' || slot.inflight > 0 || slot.pinned) continue;
      if (found === undefined || slot.used < found.used) found = slot;
    }
    return found;
  }

  function evict(slot: Slot, why: string): Promise<void> {
    slot.state = 'evicting';
    freeingBytes += slot.bytes;
    evictions++;
    logger.info(
      { event: 'model-evicted', model: slot.name, bytes: slot.bytes, usedBytes, budgetBytes: budget },
      `model cache: evicting model '${slot.name}' (${slot.bytes} bytes, idle) ${why}`,
    );
    options.onEvicted?.(slot.name);
    const done = host
      .unload(slot.name)
      .catch((err: unknown) => logger.warn({ model: slot.name, err: err instanceof Error ? err.message : String(err) }, `model cache: unloading model '${slot.name}' failed`))
      .then(() => {
        usedBytes -= slot.bytes;
        freeingBytes -= slot.bytes;
        slot.bytes = 0;
        slot.evicting = undefined;
        if (slot.state === 'evicting') slot.state = 'cold';
        tidy(slot);
        roomChanged();
      });
    slot.evicting = done;
    return done;
  }

  /** Evicts idle models, least recently used first, until the charges not being freed are at most `target`; waits for those unloads. */
  async function evictDownTo(target: number, except: Slot | undefined, why: string): Promise<void> {
    const unloads: Array<Promise<void>> = [];
    while (usedBytes - freeingBytes > target) {
      const slot = victim(except);
      if (slot === undefined) break;
      unloads.push(evict(slot, why));
    }
    await Promise.all(unloads);
  }

  /** Makes room for `slot` before its load; throws SIBYL_MODEL_LOAD_TIMEOUT once `deadline` passes. */
  async function makeRoom(slot: Slot, deadline: number): Promise<void> {
    for (;;) {
      await evictDownTo(budget - slot.lastBytes, slot, `to make room for model '${slot.name}'`);
      if (usedBytes <= budget) return;
      // Every model left is busy or pinned: wait for one to go idle.
      const left = deadline - Date.now();
      if (left <= 0) throw modelLoadTimeout(slot.name, timeoutMs / 1000);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        roomWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  // ---- loading ------------------------------------------------------------------------------------
  async function loadNow(slot: Slot, deadline: number): Promise<void> {
    await slot.evicting;
    await acquire();
    try {
      if (Date.now() >= deadline) throw modelLoadTimeout(slot.name, timeoutMs / 1000);
      await makeRoom(slot, deadline);
      const before = process.memoryUsage();
      const started = performance.now();
      const summary = await host.load(slot.name);
      const after = process.memoryUsage();
      const seconds = (performance.now() - started) / 1000;
      const fileBytes = summary.results.reduce((n, r) => n + (r.fileBytes ?? 0), 0);
      const bytes = Math.max(fileBytes, after.rss - before.rss, after.external - before.external);
      slot.bytes = bytes;
      slot.lastBytes = bytes;
      slot.state = 'resident';
      usedBytes += bytes;
      if (usedBytes > peakBytes) {
        peakBytes = usedBytes;
        peakLoadBytes = bytes;
      }
      loads++;
      logger.info(
        { event: 'model-cached', model: slot.name, bytes, fileBytes, usedBytes, budgetBytes: budget, loadMs: Math.round(seconds * 1000) },
        `model cache: model '${slot.name}' loaded in ${Math.round(seconds * 1000)} ms, charged ${bytes} bytes (${usedBytes} of ${budget} in use)`,
      );
      options.onLoaded?.(slot.name, seconds, bytes);
      await evictDownTo(budget, slot, `to bring the cache back within its budget after loading '${slot.name}'`);
    } catch (err) {
      if (slot.state === 'loading') slot.state = 'cold';
      throw err;
    } finally {
      releaseSlot();
      roomChanged();
    }
  }

  function startLoad(slot: Slot): Promise<void> {
    slot.state = 'loading';
    const deadline = Date.now() + timeoutMs;
    const real = loadNow(slot, deadline);
    const waited = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(modelLoadTimeout(slot.name, timeoutMs / 1000)), timeoutMs);
      real.then(
        () => {
          clearTimeout(timer);
          resolve();
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err);
        },
      );
    });
    waited.catch(() => undefined);
    slot.loading = waited;
    real
      .catch((err: unknown) => {
        if (Date.now() >= deadline) logger.warn({ model: slot.name, err: err instanceof Error ? err.message : String(err) }, `model cache: model '${slot.name}' failed to load after its load timeout`);
      })
      .finally(() => {
        slot.loading = undefined;
        tidy(slot);
      });
    return waited;
  }

  return {
    enter(name) {
      const slot = slotOf(name);
      if (slot.state === 'resident') hits++;
      else misses++;
      slot.inflight++;
      slot.used = ++tick;
      let exited = false;
      return () => {
        if (exited) return;
        exited = true;
        slot.used = ++tick;
        if (--slot.inflight > 0) return;
        tidy(slot);
        roomChanged();
        // Over the budget because every other model was busy when a load ended: this one goes now.
        if (usedBytes - freeingBytes > budget) void evictDownTo(budget, undefined, 'to bring the cache back within its budget');
      };
    },
    load(name) {
      const slot = slotOf(name);
      if (slot.state === 'resident') return Promise.resolve();
      if (slot.loading !== undefined) return slot.loading;
      return startLoad(slot);
    },
    forget(name) {
      const slot = slots.get(name);
      if (slot === undefined || slot.state !== 'resident') return;
      usedBytes -= slot.bytes;
      slot.bytes = 0;
      slot.state = 'cold';
      tidy(slot);
      roomChanged();
    },
    stats() {
      let models = 0;
      for (const slot of slots.values()) if (slot.bytes > 0 || slot.state === 'resident' || slot.state === 'evicting') models++;
      return { budgetBytes: budget, usedBytes, models, hits, misses, evictions, loads, peakBytes, peakLoadBytes };
    },
    entries() {
      return [...slots.values()]
        .sort((a, b) => a.used - b.used)
        .map(({ name, state, bytes, inflight, pinned }) => ({ name, state, bytes, inflight, pinned }));
    },
  };
}
