/**
 * The gateway's route cache: the router's answers kept in memory, so a warm request costs one Map
 * lookup and no await (`peekModel`, `peekVersion`).
 *
 * Freshness: the cache subscribes to `router.watch()` before its first lookup; an invalidation drops
 * that model's entries (`{}`: every model's). A route older than `staleAfterMs` is still served, and
 * re-resolved in the background on its next use, in case an invalidation was lost.
 *
 * Degraded mode: a dropped route is kept as a stale fallback. When the router then cannot answer
 * (an UNAVAILABLE error: router down or unreachable, or it cannot read the registry), the fallback is served and a warning logged
 * once per model until the router answers again: gateways keep serving while the router is away.
 *
 * Errors: a miss that fails with anything but "router down" (NOT_FOUND above all) is cached for
 * `errorTtlMs`, so a storm of requests for an unknown model costs the router one call a second;
 * an invalidation drops it as well. Misses are single-flight: concurrent callers share one call.
 */
import type { Logger } from '@sibyl/observability';
import { toSibylError, type SibylError } from '@sibyl/protocol';
import { modelNotLive, routeNoMatch, routePoolMissing } from './errors.js';
import type { ModelRoute, RouteInvalidation, VersionRoute } from './route.js';
import type { Router } from './router.js';

export interface RouteCacheOptions {
  router: Router;
  logger: Logger;
  /** Age after which a cached route is re-resolved in the background on its next use, milliseconds; default 30000. */
  staleAfterMs?: number;
  /** How long a failed lookup (other than UNAVAILABLE) is remembered, milliseconds; default 1000. */
  errorTtlMs?: number;
  /**
   * Whether a router failure means "the router is not there" (serve the stale fallback, cache
   * nothing) rather than an answer about the model. Default: category UNAVAILABLE, except the
   * router's own answers about the model (no rule matches, the rule's pool is missing).
   */
  isRouterDown?: (err: SibylError) => boolean;
  /** Clock, milliseconds; default Date.now. */
  now?: () => number;
}

/** Plain counters, read at scrape time by the app's metrics. */
export interface RouteCacheStats {
  /** Lookups answered from the cache (a cached error counts too). */
  hits: number;
  /** Lookups that had to ask the router (callers joining one in-flight call count once each). */
  misses: number;
  /** Lookups answered with a stale fallback because the router was down. */
  staleServes: number;
  /** Background re-resolutions started (stale age, or `refresh`). */
  refreshes: number;
  /** Invalidations received from the router's watch. */
  invalidations: number;
}

export interface RouteCache {
  /** The router the cache asks. */
  readonly router: Router;
  /** The model's route (live, canary, shadow). Rejects with the router's error. */
  model(name: string): Promise<ModelRoute>;
  /** One explicit version's route. Rejects with the router's error. */
  version(name: string, version: number): Promise<VersionRoute>;
  /** The cached model route, if there is a usable one now: the hot path's await-free lookup. */
  peekModel(name: string): ModelRoute | undefined;
  /** The cached version route, if there is a usable one now. */
  peekVersion(name: string, version: number): VersionRoute | undefined;
  /** Re-resolves the model's cached routes in the background, serving the cached ones meanwhile (after a failed delivery). */
  refresh(name: string): void;
  /** Whether any route is cached (fresh or as a fallback): the gateway can serve without the router. */
  hasRoutes(): boolean;
  stats(): RouteCacheStats;
  /** Stops watching the router; the router itself is not closed. Idempotent. */
  close(): Promise<void>;
}

/** One cached lookup: its answer (value or error), or the call under way. */
interface Entry<T> {
  value?: T;
  /** `Promise.resolve(value)`, made once: a warm async lookup allocates nothing. */
  resolved?: Promise<T>;
  /** The value is a last known route served because the router is down. */
  degraded: boolean;
  error?: SibylError;
  /** Value: when it arrived (it is re-resolved `staleAfterMs` later). Error: when it expires. Clock ms. */
  at: number;
  /** The router call under way: the first lookup (miss), or a background re-resolution. */
  pending?: Promise<T>;
}

/** How to look one kind of entry up: the model route, or one version's route. */
interface Kind<T> {
  readonly name: string;
  get(entries: ModelEntries): Entry<T> | undefined;
  create(entries: ModelEntries): Entry<T>;
  ask(): Promise<T>;
  /** The route known before the last invalidation. */
  fallback(): T | undefined;
}

/** Everything cached for one model. Replaced as a whole on invalidation, so late answers can tell. */
interface ModelEntries {
  model?: Entry<ModelRoute>;
  versions: Map<number, Entry<VersionRoute>>;
}

/** Routes last known good, kept after an invalidation for when the router is down. */
interface Fallback {
  model?: ModelRoute;
  versions: Map<number, VersionRoute>;
}

/** UNAVAILABLE errors that are the router's answer about a model (errors.ts), not its absence. */
const ROUTER_ANSWERS: ReadonlySet<string> = new Set([routeNoMatch.code, routePoolMissing.code, modelNotLive.code]);

function routerIsDown(err: SibylError): boolean {
  return err.category === 'UNAVAILABLE' && !ROUTER_ANSWERS.has(err.code);
}

/** New model entries between two sweeps of expired errors (names that were never found). */
const SWEEP_EVERY = 1024;

export function createRouteCache(options: RouteCacheOptions): RouteCache {
  const { router, logger } = options;
  const staleAfterMs = options.staleAfterMs ?? 30_000;
  const errorTtlMs = options.errorTtlMs ?? 1_000;
  if (!(staleAfterMs > 0)) throw new RangeError(`option staleAfterMs must be > 0, got ${String(staleAfterMs)}`);
  if (!(errorTtlMs >= 0)) throw new RangeError(`option errorTtlMs must be >= 0, got ${String(errorTtlMs)}`);
  const now = options.now ?? Date.now;
  const isRouterDown = options.isRouterDown ?? routerIsDown;

  const models = new Map<string, ModelEntries>();
  const fallbacks = new Map<string, Fallback>();
  /** Models served from a last known route: warned once until the router answers again. */
  const degraded = new Set<string>();
  const counters: RouteCacheStats = { hits: 0, misses: 0, staleServes: 0, refreshes: 0, invalidations: 0 };
  let created = 0;
  let closed = false;

  // Watch before the first lookup, so no invalidation between a lookup and the watch is missed. A
  // failed watch is retried by the next router call; until then, re-resolution after staleAfterMs
  // bounds how stale a route can get.
  let watching: Promise<void> | undefined;
  let stopWatch: (() => void) | undefined;
  let watchFailing = false;
  const watch = (): Promise<void> => {
    watching ??= router.watch(invalidate).then(
      (stop) => {
        watchFailing = false;
        if (closed) stop();
        else stopWatch = stop;
      },
      (err: unknown) => {
        watching = undefined;
        if (watchFailing) return;
        watchFailing = true;
        logger.warn({ err: toSibylError(err).message }, 'route cache: cannot watch the router for route changes; retrying on the next router call');
      },
    );
    return watching;
  };
  void watch();

  function invalidate(invalidation: RouteInvalidation): void {
    counters.invalidations++;
    const names = invalidation.model === undefined ? [...models.keys()] : [invalidation.model];
    for (const name of names) {
      const entries = models.get(name);
      if (entries === undefined) continue;
      models.delete(name);
      const fallback = fallbacks.get(name) ?? { versions: new Map<number, VersionRoute>() };
      if (entries.model?.value !== undefined) fallback.model = entries.model.value;
      for (const [v, entry] of entries.versions) if (entry.value !== undefined) fallback.versions.set(v, entry.value);
      if (fallback.model !== undefined || fallback.versions.size > 0) fallbacks.set(name, fallback);
    }
  }

  function entriesOf(name: string): ModelEntries {
    let entries = models.get(name);
    if (entries === undefined) {
      if (++created % SWEEP_EVERY === 0) sweep();
      entries = { versions: new Map() };
      models.set(name, entries);
    }
    return entries;
  }

  /** Drops models that hold nothing but expired errors (a client asking for many unknown names). */
  function sweep(): void {
    const t = now();
    const dead = (e: Entry<unknown> | undefined) => e === undefined || (e.value === undefined && e.pending === undefined && e.at <= t);
    for (const [name, entries] of models) {
      if (dead(entries.model) && [...entries.versions.values()].every(dead)) models.delete(name);
    }
  }

  /**
   * Asks the router for one entry and stores the answer, unless the model was invalidated meanwhile
   * (its ModelEntries replaced): then the answer goes to the callers that asked before, not to the cache.
   */
  function resolve<T>(entries: ModelEntries, entry: Entry<T>, kind: Kind<T>): Promise<T> {
    const name = kind.name;
    const current = () => models.get(name) === entries;
    // Assigned before the call's first await, so every comparison below sees it.
    let pending: Promise<T> | undefined;
    pending = (async () => {
      await (watching ?? watch());
      try {
        const value = await kind.ask();
        if (entry.pending === pending && current()) {
          store(entry, value, false, now());
          fallbacks.delete(name);
          if (degraded.delete(name)) logger.info({ model: name }, 'route cache: the router answers again');
        }
        return value;
      } catch (thrown) {
        const err = toSibylError(thrown);
        if (isRouterDown(err)) {
          // A cached route is kept; a miss after an invalidation gets the route known before it. The
          // router is asked again on a use errorTtlMs later, not on every request meanwhile.
          const stale = entry.value ?? kind.fallback();
          if (stale === undefined) throw err;
          // A caller waited for this answer (a refresh of a cached route has none; later uses count as hits).
          if (entry.value === undefined) counters.staleServes++;
          if (!degraded.has(name)) {
            degraded.add(name);
            logger.warn({ model: name, err: err.message }, 'route cache: the router is unavailable; serving the last known route');
          }
          if (entry.pending === pending && current()) store(entry, stale, true, now() - staleAfterMs + errorTtlMs);
          return stale;
        }
        if (entry.pending === pending && current()) {
          entry.value = undefined;
          entry.resolved = undefined;
          entry.degraded = false;
          entry.error = err;
          entry.at = now() + errorTtlMs;
        }
        throw err;
      } finally {
        if (entry.pending === pending) entry.pending = undefined;
      }
    })();
    entry.pending = pending;
    return pending;
  }

  function store<T>(entry: Entry<T>, value: T, isDegraded: boolean, at: number): void {
    entry.value = value;
    entry.resolved = Promise.resolve(value);
    entry.degraded = isDegraded;
    entry.error = undefined;
    entry.at = at;
  }

  /** Counts a hit on a cached value and starts its re-resolution when it is due. */
  function hit<T>(entries: ModelEntries, entry: Entry<T>, kind: Kind<T>): void {
    counters.hits++;
    if (entry.degraded) counters.staleServes++;
    if (entry.pending === undefined && now() - entry.at >= staleAfterMs) {
      counters.refreshes++;
      resolve(entries, entry, kind).catch(() => undefined);
    }
  }

  /** A value from the router, not due for re-resolution: counted as a hit, nothing else to do. */
  function fresh(entry: Entry<unknown>): boolean {
    if (entry.value === undefined || entry.degraded || now() - entry.at >= staleAfterMs) return false;
    counters.hits++;
    return true;
  }

  function lookup<T>(kind: Kind<T>): Promise<T> {
    const entries = entriesOf(kind.name);
    let entry = kind.get(entries);
    if (entry?.value !== undefined) {
      hit(entries, entry, kind);
      return entry.resolved!;
    }
    if (entry?.error !== undefined && now() < entry.at) {
      counters.hits++;
      return Promise.reject(entry.error);
    }
    counters.misses++;
    entry ??= kind.create(entries);
    return entry.pending ?? resolve(entries, entry, kind);
  }

  function peek<T>(kind: Kind<T>): T | undefined {
    const entries = models.get(kind.name);
    if (entries === undefined) return undefined;
    const entry = kind.get(entries);
    if (entry?.value === undefined) return undefined;
    hit(entries, entry, kind);
    return entry.value;
  }

  const modelKind = (name: string): Kind<ModelRoute> => ({
    name,
    get: (e) => e.model,
    create: (e) => (e.model = { at: 0, degraded: false }),
    ask: () => router.resolveModel(name),
    fallback: () => fallbacks.get(name)?.model,
  });
  const versionKind = (name: string, version: number): Kind<VersionRoute> => ({
    name,
    get: (e) => e.versions.get(version),
    create: (e) => {
      const entry: Entry<VersionRoute> = { at: 0, degraded: false };
      e.versions.set(version, entry);
      return entry;
    },
    ask: () => router.resolveVersion(name, version),
    fallback: () => fallbacks.get(name)?.versions.get(version),
  });

  return {
    router,
    // Each lookup takes the fast path when the entry is fresh: a Map lookup, a clock read, no allocation.
    model(name) {
      const entry = models.get(name)?.model;
      if (entry !== undefined && fresh(entry)) return entry.resolved!;
      return lookup(modelKind(name));
    },
    version(name, version) {
      const entry = models.get(name)?.versions.get(version);
      if (entry !== undefined && fresh(entry)) return entry.resolved!;
      return lookup(versionKind(name, version));
    },
    peekModel(name) {
      const entry = models.get(name)?.model;
      if (entry !== undefined && fresh(entry)) return entry.value;
      return peek(modelKind(name));
    },
    peekVersion(name, version) {
      const entry = models.get(name)?.versions.get(version);
      if (entry !== undefined && fresh(entry)) return entry.value;
      return peek(versionKind(name, version));
    },
    refresh(name) {
      const entries = models.get(name);
      if (entries === undefined) return;
      const start = <T>(entry: Entry<T> | undefined, kind: Kind<T>) => {
        if (entry?.value === undefined || entry.pending !== undefined) return;
        counters.refreshes++;
        resolve(entries, entry, kind).catch(() => undefined);
      };
      start(entries.model, modelKind(name));
      for (const [v, entry] of entries.versions) start(entry, versionKind(name, v));
    },
    hasRoutes() {
      if (fallbacks.size > 0) return true;
      for (const entries of models.values()) {
        if (entries.model?.value !== undefined) return true;
        for (const entry of entries.versions.values()) if (entry.value !== undefined) return true;
      }
      return false;
    },
    stats() {
      return { ...counters };
    },
    async close() {
      if (closed) return;
      closed = true;
      await watching;
      stopWatch?.();
      stopWatch = undefined;
    },
  };
}
