/**
 * Keeps the ServedModels table in step with a ModelSource: applies what the source says about a
 * model (versions to add, versions to drop, where requests without a version go), loads new
 * versions with bounded concurrency, and drains dropped versions before releasing them.
 *
 * Contracts:
 * - Reads and applies run one at a time, in order, so an older read never overwrites a newer one.
 *   Loads run outside that order: a slow load never delays a deploy of another version or model.
 * - The live pointer moves to a version only once it is READY; until then the version live before
 *   keeps serving, and stays loaded even when the source no longer wants it. If the new live version
 *   fails to load, the old one keeps serving and the failure is logged (and reported to the source).
 * - A dropped version leaves the table at once (new requests cannot reach it); its instances are
 *   released once the requests already running on it have finished.
 * - A version that failed to load is not retried while the source keeps offering the same version;
 *   a new load (restart, explicit load after unload) tries again.
 */
import type { Logger, SibylMetrics } from '@sibyl/observability';
import { isSibylError } from '@sibyl/protocol';
import { reasonOf } from './directory-source.js';
import { loadModelVersion } from './model-loader.js';
import type { ModelEngine } from './model-engine.js';
import type { ModelSource, SourceModel, SourceVersion } from './model-source.js';
import type { SkippedEntry } from './repository-scan.js';
import { newVersionEntry, type ModelEntry, type ServedModels, type VersionEntry } from './served-models.js';

export interface ModelSyncOptions {
  source: ModelSource;
  table: ServedModels;
  logger: Logger;
  metrics: SibylMetrics;
  /** Versions loading at the same time, at most. */
  concurrency: number;
  threadThresholdUs: number;
  engines: readonly ModelEngine[];
  /** Whether a model is to be served (explicit model control selects models one by one). */
  isSelected(name: string): boolean;
  /** True once the service closed: nothing loads any more, and a load that finishes is released. */
  isClosed(): boolean;
}

export interface ModelSync {
  /** Applies the source's whole listing; resolves once every load it started has finished. */
  syncAll(): Promise<SkippedEntry[]>;
  /** Applies one model; resolves once its loads finished, to its entry (undefined when the source lacks it). */
  syncModel(name: string): Promise<ModelEntry | undefined>;
  /** Refreshes from a change notification: coalesced, in order, retried after a pause on error. Never throws. */
  requestRefresh(model: string | undefined): void;
  /** Resolves once the refreshes requested so far have been applied (loads they started may still run). */
  settled(): Promise<void>;
  /** Resolves once every dropped version has drained and been released. */
  released(): Promise<void>;
  /**
   * Once the service is closed: waits for the refresh being applied (no read of the source after
   * this resolves), then releases the dropped versions still draining.
   */
  close(): Promise<void>;
}

/** What the source last said about a model, beyond what the table holds. */
interface Wanted {
  /** Version → identity of the version wanted (location or failure). */
  versions: Map<number, string>;
  live: number | null | undefined;
}

const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30_000;

function identity(v: SourceVersion): string {
  if (v.failure !== undefined) return `failure:${v.failure}`;
  return 'file' in v.location ? `file:${v.location.file}` : `dir:${v.location.dir}`;
}

export function createModelSync(options: ModelSyncOptions): ModelSync {
  const { source, table, logger, metrics } = options;
  const wanted = new Map<string, Wanted>();
  const identities = new WeakMap<VersionEntry, string>();
  /** Versions dropped from the table: a load that finishes for one of these is released at once. */
  const dropped = new WeakSet<VersionEntry>();
  /** Dropped versions whose instances wait for in-flight requests before they are released. */
  const draining = new Set<VersionEntry>();
  const releases = new Set<Promise<void>>();
  /** Loads in progress, whoever started them. */
  const loading = new Map<VersionEntry, Promise<void>>();

  // ---- one read-and-apply at a time ---------------------------------------------------------------
  let tail: Promise<unknown> = Promise.resolve();
  function exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = tail.then(task, task);
    tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  // ---- bounded load concurrency -------------------------------------------------------------------
  let running = 0;
  const waiting: Array<() => void> = [];
  const acquire = (): Promise<void> => {
    if (running < options.concurrency) {
      running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => waiting.push(resolve));
  };
  const releaseSlot = () => {
    const next = waiting.shift();
    if (next === undefined) running--;
    else next();
  };

  // ---- releasing a version ------------------------------------------------------------------------
  function release(v: VersionEntry): void {
    const loaded = v.loaded;
    if (loaded === undefined) return; // still loading: its load sees `dropped` and releases it
    draining.add(v);
    const idle = v.inflight === 0 ? Promise.resolve() : new Promise<void>((resolve) => (v.onIdle = resolve));
    const done = idle
      .then(() => loaded.pool.close())
      .finally(() => {
        draining.delete(v);
        releases.delete(done);
      });
    releases.add(done);
  }

  function drop(entry: ModelEntry, v: VersionEntry, why: string): void {
    const at = entry.versions.indexOf(v);
    if (at >= 0) entry.versions.splice(at, 1);
    if (entry.live === v) entry.live = undefined;
    dropped.add(v);
    if (v.state === 'READY') metrics.setModelReady(entry.name, String(v.version), false);
    const wasLoaded = v.loaded !== undefined;
    v.state = 'UNAVAILABLE';
    v.reason = `unloaded: ${why}`;
    release(v);
    if (wasLoaded) logger.info({ model: entry.name, version: String(v.version), inflight: v.inflight }, `unloaded model '${entry.name}' version ${v.version} (${why})`);
  }

  /** Points `live` where the source wants it (once that version is READY) and drops versions nobody wants. */
  function settle(entry: ModelEntry): void {
    const want = wanted.get(entry.name) ?? { versions: new Map(), live: undefined };
    const before = entry.live;
    if (entry.unloaded || want.live === undefined) {
      entry.live = undefined;
    } else if (want.live === null) {
      entry.live = null;
    } else {
      const target = entry.versions.find((v) => v.version === want.live);
      const current = before ?? undefined;
      const keepCurrent =
        target?.state !== 'READY' && current !== undefined && current !== target && current.state === 'READY' && entry.versions.includes(current);
      if (!keepCurrent) entry.live = target ?? null;
      else if (target?.state === 'UNAVAILABLE') {
        logger.warn(
          { model: entry.name, version: String(target.version), serving: String(current.version) },
          `model '${entry.name}': live version ${target.version} is not serving (${target.reason}); requests without a version stay on version ${current.version}`,
        );
      }
    }
    const after = entry.live;
    if (after !== before && after !== undefined && after !== null && after.state === 'READY') {
      logger.info(
        { model: entry.name, version: String(after.version), event: 'live' },
        `model '${entry.name}': requests without a version now reach version ${after.version}`,
      );
    }
    for (const v of [...entry.versions]) {
      if (v === entry.live) continue;
      if (want.versions.get(v.version) !== identities.get(v)) drop(entry, v, entry.unloaded ? 'the model was unloaded' : 'no longer served');
    }
  }

  // ---- loading a version --------------------------------------------------------------------------
  async function load(entry: ModelEntry, v: VersionEntry, from: SourceVersion): Promise<void> {
    const model = entry.name;
    const version = String(v.version);
    const fields = { model, version };
    await acquire();
    try {
      if (options.isClosed() || dropped.has(v)) return;
      source.report?.(model, v.version, 'loading', '');
      const loaded = await loadModelVersion({
        model,
        version: v.version,
        location: from.location,
        config: from.config,
        engines: options.engines,
        threadThresholdUs: options.threadThresholdUs,
        logger,
        metrics,
        onInstanceFailure(reason, remaining) {
          if (remaining > 0) {
            logger.error({ ...fields, reason, remaining }, `model '${model}' version ${version}: an execution instance stopped (${reason}); ${remaining} still serving`);
            return;
          }
          v.state = 'UNAVAILABLE';
          v.reason = `every execution instance stopped; last: ${reason}`;
          metrics.setModelReady(model, version, false);
          logger.error({ ...fields, reason }, `model '${model}' version ${version} is no longer serving: ${v.reason}`);
          source.report?.(model, v.version, 'failed', v.reason);
        },
      });
      if (options.isClosed()) {
        await loaded.pool.close();
        v.state = 'UNAVAILABLE';
        v.reason = 'unloaded: the service closed while it loaded';
        return;
      }
      if (dropped.has(v)) {
        await loaded.pool.close();
        return;
      }
      const { signature, executionKind, loadMs, platform } = loaded;
      v.loaded = loaded;
      v.metadata = { name: model, versions: [], platform, inputs: signature.inputs, outputs: signature.outputs };
      v.state = 'READY';
      v.reason = '';
      metrics.setModelReady(model, version, true);
      const instances = loaded.pool.size;
      const how = executionKind === 'thread' ? `thread x${instances}` : 'inline';
      logger.info(
        { ...fields, platform, engine: loaded.engine.description, executionMode: executionKind, instances, maxBatchSize: signature.maxBatchSize, warmupUs: loaded.warmupUs, loadMs },
        `loaded model '${model}' version ${version} (${platform} on ${loaded.engine.description}, ${how}) in ${loadMs} ms`,
      );
      source.report?.(model, v.version, 'ready', '');
    } catch (err) {
      if (dropped.has(v) || options.isClosed()) return;
      v.state = 'UNAVAILABLE';
      v.reason = reasonOf(err);
      v.error = isSibylError(err) ? err : undefined;
      metrics.setModelReady(model, version, false);
      logger.error({ ...fields, reason: v.reason }, `model '${model}' version ${version} failed to load: ${v.reason}`);
      source.report?.(model, v.version, 'failed', v.reason);
    } finally {
      releaseSlot();
      if (table.get(model) === entry && !options.isClosed()) settle(entry);
    }
  }

  // ---- applying what the source says --------------------------------------------------------------
  /** Applies one model's description (undefined: the source no longer has it); returns the loads it started. */
  function apply(name: string, described: SourceModel | undefined): Array<Promise<void>> {
    if (described === undefined) {
      const gone = table.get(name);
      if (gone === undefined) return [];
      table.delete(name);
      wanted.delete(name);
      for (const v of [...gone.versions]) drop(gone, v, 'the model was removed');
      logger.info({ model: name }, `model '${name}' is no longer served: the source does not have it any more`);
      return [];
    }
    let entry = table.get(name);
    if (entry === undefined) {
      entry = { name, failure: undefined, unloaded: false, versions: [], live: undefined, notServed: new Map(), unknownVersion: '' };
      table.add(entry);
    }
    const selected = options.isSelected(name);
    if (described.failure !== undefined && described.failure !== entry.failure && selected) {
      logger.error({ model: name, reason: described.failure }, `model '${name}' failed to load: ${described.failure}`);
    }
    entry.failure = described.failure;
    entry.notServed = described.notServed;
    entry.unknownVersion = described.unknownVersion;
    entry.unloaded = !selected;
    const serving = selected && described.failure === undefined;
    const versions = serving ? described.versions : [];
    wanted.set(name, { versions: new Map(versions.map((v) => [v.version, identity(v)])), live: serving ? described.live : undefined });

    const loads: Array<Promise<void>> = [];
    for (const from of versions) {
      const have = entry.versions.find((v) => v.version === from.version);
      if (have !== undefined && identities.get(have) === identity(from)) continue;
      if (have !== undefined) drop(entry, have, 'replaced');
      const v = newVersionEntry(from.version);
      identities.set(v, identity(from));
      const at = entry.versions.findIndex((o) => o.version > v.version);
      entry.versions.splice(at < 0 ? entry.versions.length : at, 0, v);
      if (from.failure !== undefined) {
        v.state = 'UNAVAILABLE';
        v.reason = from.failure;
        v.error = from.failureError;
        logger.error({ model: name, version: String(v.version), reason: v.reason }, v.reason);
      } else {
        const started = load(entry, v, from).finally(() => loading.delete(v));
        loading.set(v, started);
        loads.push(started);
      }
    }
    settle(entry);
    return loads;
  }

  async function applyAll(): Promise<{ loads: Array<Promise<void>>; skipped: SkippedEntry[] }> {
    const listing = await source.list();
    if (options.isClosed()) return { loads: [], skipped: listing.skipped };
    const names = new Set(listing.models.map((m) => m.name));
    const loads: Array<Promise<void>> = [];
    for (const described of listing.models) loads.push(...apply(described.name, described));
    for (const entry of table.all()) if (!names.has(entry.name)) apply(entry.name, undefined);
    return { loads, skipped: listing.skipped };
  }

  async function applyModel(name: string): Promise<Array<Promise<void>>> {
    const described = await source.get(name);
    if (options.isClosed()) return [];
    return apply(name, described);
  }

  // ---- refreshes from notifications ---------------------------------------------------------------
  const pending = new Set<string>();
  let pendingAll = false;
  let refreshing: Promise<void> | undefined;
  let retryMs = 0;
  /** Ends the pause before a retry (on close). */
  let wake: (() => void) | undefined;

  async function drainRefreshes(): Promise<void> {
    while (!options.isClosed() && (pendingAll || pending.size > 0)) {
      try {
        if (pendingAll) {
          pendingAll = false;
          pending.clear();
          await exclusive(applyAll);
        } else {
          const name = pending.values().next().value!;
          pending.delete(name);
          await exclusive(() => applyModel(name));
        }
        retryMs = 0;
      } catch (err) {
        if (options.isClosed()) return; // the source may already be closed under us
        retryMs = retryMs === 0 ? RETRY_FIRST_MS : Math.min(retryMs * 2, RETRY_MAX_MS);
        logger.error(
          { err: reasonOf(err), retryMs },
          `refreshing the served models failed: ${reasonOf(err)}; serving what is loaded, retrying in ${retryMs / 1000} s`,
        );
        pendingAll = true;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, retryMs);
          timer.unref();
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
    }
  }

  return {
    async syncAll() {
      const { loads, skipped } = await exclusive(applyAll);
      await Promise.all(loads);
      return skipped;
    },
    async syncModel(name) {
      const loads = await exclusive(() => applyModel(name));
      await Promise.all(loads);
      // A refresh from a notification may have started this model's loads before this call did.
      for (;;) {
        const entry = table.get(name);
        const pending = entry?.versions.map((v) => loading.get(v)).filter((p) => p !== undefined) ?? [];
        if (pending.length === 0) return entry;
        await Promise.all(pending);
      }
    },
    requestRefresh(model) {
      if (options.isClosed()) return;
      if (model === undefined) pendingAll = true;
      else pending.add(model);
      refreshing ??= drainRefreshes().finally(() => {
        refreshing = undefined;
      });
    },
    async settled() {
      while (refreshing !== undefined) await refreshing;
      await exclusive(async () => undefined);
    },
    async released() {
      while (releases.size > 0) await Promise.allSettled([...releases]);
    },
    async close() {
      // Called once isClosed() is true: no new refresh starts, a pending retry ends now.
      wake?.();
      await refreshing?.catch(() => undefined);
      await exclusive(async () => undefined);
      await Promise.allSettled([...draining].map((v) => v.loaded?.pool.close()));
      await Promise.allSettled([...releases]);
    },
  };
}
