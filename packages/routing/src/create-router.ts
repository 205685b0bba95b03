/**
 * The in-process router: routes computed from the registry (models, versions, routing rules, pools)
 * and coordination (live instances), with the registry's answers cached until a change says they may
 * be stale.
 *
 * Cache contract:
 * - Rules and pools are cached whole; models per model, with the versions asked for. Instances are
 *   never cached here: coordination keeps the live set in memory, so every resolution places on the
 *   newest set and the newest loads.
 * - `registry.subscribe` invalidates: pool and rule changes and resyncs everything, any other change
 *   the model it names. `coordination.watchInstances` invalidates (for watchers) the models whose
 *   routes used a pool whose instances changed. Entries also expire after `cacheTtlMs`, a backstop
 *   for a notification lost in a way the registry cannot tell.
 * - An answer fetched while an invalidation arrived is used for that call and kept as stale: fetched
 *   again by the next call, served only when the registry cannot be read.
 *
 * Degraded modes: when the registry cannot be read and an earlier answer for the same thing is
 * cached (even an invalidated or expired one), that answer is served and a warning is logged once
 * until the registry answers again. Coordination keeps its last known instances by itself.
 */
import type { Coordination, InstanceInfo } from '@sibyl/coordination';
import type { Logger, SibylMetrics } from '@sibyl/observability';
import { isSibylError, type ModelIndexEntry } from '@sibyl/protocol';
import {
  matchRule,
  modelNotFound,
  versionFacts,
  type Model,
  type ModelVersion,
  type Pool,
  type Registry,
  type RegistryChange,
  type RegistryResync,
  type RoutingRule,
} from '@sibyl/registry';
import { registryUnreachable, routeNoMatch, routePoolMissing, routeVersionRetired } from './errors.js';
import { createInvalidationHub } from './invalidation-hub.js';
import { changedPools, placementReplicas, placementSignatures, placeVersion, type InstanceTransport } from './placement.js';
import { indexEntries } from './repository-index.js';
import type { ModelRoute, VersionRoute } from './route.js';
import type { Router } from './router.js';
import { createRouterMetrics, type ResolutionKind, type ResolutionOutcome } from './router-metrics.js';

/** What the router reads from the registry. */
export type RouterRegistry = Pick<
  Registry,
  'getModel' | 'listModels' | 'listVersions' | 'getVersion' | 'listRules' | 'listPools' | 'subscribe'
>;

export interface CreateRouterOptions {
  registry: RouterRegistry;
  coordination: Coordination;
  logger: Logger;
  /** When given, resolutions are counted and timed on its registry (`sibyl_route_*`). Default: none. */
  metrics?: SibylMetrics;
  /**
   * Pools served in this process (the all-in-one): pool name → the one target's id and address, e.g.
   * `{ onnx: 'in-process' }`. Such a pool's routes name that target whatever coordination holds.
   * Default: none.
   */
  inProcess?: { pools: Record<string, string> };
  /** Which listener of a discovered instance the gateway connects to. Default 'http'. */
  transport?: InstanceTransport;
  /** Longest a cached registry answer is used without a change notification, milliseconds. Default 60000. */
  cacheTtlMs?: number;
  /** How long invalidations are gathered before watchers hear of them, milliseconds. Default 10. */
  coalesceMs?: number;
}

interface Cached {
  fetchedAt: number;
  /** An invalidation arrived after it was fetched: refetch, but serve it if the registry is down. */
  stale: boolean;
}

interface ModelEntry extends Cached {
  model: Model;
  /** Versions fetched so far (the live, canary and shadow ones first). */
  versions: Map<number, ModelVersion>;
}

interface ConfigEntry extends Cached {
  rules: RoutingRule[];
  pools: Map<string, Pool>;
}

/** Outcome of reading through the cache: the value and whether it is a stale stand-in. */
interface Read<T> {
  value: T;
  stale: boolean;
}

/** Errors that are the registry's answer, not its absence: never papered over with a cached value. */
function isAnswer(err: unknown): boolean {
  return isSibylError(err) && (err.category === 'NOT_FOUND' || err.category === 'INVALID_ARGUMENT');
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function createRouter(options: CreateRouterOptions): Router {
  const { registry, coordination, logger } = options;
  const transport = options.transport ?? 'http';
  if (transport !== 'http' && transport !== 'grpc') throw new RangeError(`transport must be 'http' or 'grpc', got ${String(transport)}`);
  const cacheTtlMs = options.cacheTtlMs ?? 60_000;
  if (!(cacheTtlMs >= 0)) throw new RangeError(`cacheTtlMs must be a non-negative number of milliseconds, got ${cacheTtlMs}`);
  const inProcessPools = new Map(Object.entries(options.inProcess?.pools ?? {}));
  const metrics = options.metrics === undefined ? undefined : createRouterMetrics(options.metrics);
  const hub = createInvalidationHub({ logger, ...(options.coalesceMs === undefined ? {} : { coalesceMs: options.coalesceMs }) });

  let config: ConfigEntry | undefined;
  const models = new Map<string, ModelEntry>();
  /** Bumped by every invalidation of everything, and per model: a fetch that saw a bump is kept only as stale. */
  let epochAll = 0;
  const epochs = new Map<string, number>();
  const epochOf = (model: string) => `${epochAll}/${epochs.get(model) ?? 0}`;
  /** Which models' routes used which pool, for placement invalidations. */
  const poolUsers = new Map<string, Set<string>>();
  let placementSignature = new Map<string, string>();
  let lastIndex: ModelIndexEntry[] | undefined;
  let degraded = false;
  const warnedReplicas = new Set<string>();
  let generation = 0;
  let closed = false;

  // ---- invalidation ----------------------------------------------------------------------------

  const invalidateAll = (notify = true) => {
    epochAll += 1;
    if (config !== undefined) config.stale = true;
    for (const entry of models.values()) entry.stale = true;
    if (notify) hub.emit({});
  };

  const invalidateModel = (model: string) => {
    epochs.set(model, (epochs.get(model) ?? 0) + 1);
    const entry = models.get(model);
    if (entry !== undefined) entry.stale = true;
    hub.emit({ model });
  };

  const onRegistryChange = (change: RegistryChange | RegistryResync) => {
    if (change.kind === 'resync' || change.kind.startsWith('pool.') || change.kind.startsWith('route.')) invalidateAll();
    else invalidateModel(change.model);
  };

  const onInstances = (instances: InstanceInfo[]) => {
    const next = placementSignatures(instances);
    const changed = changedPools(placementSignature, next);
    placementSignature = next;
    for (const pool of changed) {
      // Nothing in the router's cache depends on instances; watchers' cached routes do.
      for (const model of poolUsers.get(pool) ?? []) hub.emit({ model });
    }
  };

  // Subscriptions start with the first call and are retried by the next call if they fail: without
  // them the cache could not be trusted.
  let stops: Array<() => Promise<void> | void> = [];
  let starting: Promise<void> | undefined;
  const start = (): Promise<void> => {
    if (closed) return Promise.reject(new Error('the router is closed'));
    starting ??= (async () => {
      const unsubscribe = await registry.subscribe(onRegistryChange);
      stops.push(unsubscribe);
      try {
        placementSignature = placementSignatures(coordination.instances());
        stops.push(await coordination.watchInstances(onInstances));
      } catch (err) {
        await Promise.resolve(unsubscribe()).catch(() => {});
        stops = [];
        throw err;
      }
      // Anything cached before now was cached without notifications. No watcher can exist yet.
      invalidateAll(false);
    })().catch((err: unknown) => {
      starting = undefined;
      throw err;
    });
    return starting;
  };

  // ---- reading through the cache ---------------------------------------------------------------

  const registryRecovered = () => {
    if (!degraded) return;
    degraded = false;
    logger.info('router: the registry answers again; serving fresh routes');
  };

  /** Serves `current` when fetching fails for want of the registry; otherwise rethrows. */
  const fallBack = <T>(err: unknown, current: T | undefined, what: string): Read<T> => {
    if (isAnswer(err)) throw err;
    if (current === undefined) throw isSibylError(err) ? err : registryUnreachable(messageOf(err));
    if (!degraded) {
      degraded = true;
      logger.warn({ err, what }, 'router: the registry cannot be read; serving cached routes until it answers');
    }
    return { value: current, stale: true };
  };

  const fresh = (entry: Cached | undefined) =>
    entry !== undefined && !entry.stale && Date.now() - entry.fetchedAt < cacheTtlMs;

  let configLoad: { epoch: number; promise: Promise<ConfigEntry> } | undefined;
  const readConfig = async (): Promise<Read<ConfigEntry>> => {
    if (fresh(config)) return { value: config!, stale: false };
    const epoch = epochAll;
    if (configLoad === undefined || configLoad.epoch !== epoch) {
      const promise = (async () => {
        const [rules, pools] = await Promise.all([registry.listRules(), registry.listPools()]);
        return { rules, pools: new Map(pools.map((p) => [p.name, p] as const)), fetchedAt: Date.now(), stale: false };
      })().finally(() => {
        if (configLoad?.promise === promise) configLoad = undefined;
      });
      configLoad = { epoch, promise };
    }
    try {
      const loaded = await configLoad.promise;
      registryRecovered();
      // Kept even when an invalidation arrived meanwhile: then only as a stand-in for a lost registry.
      config = epoch === epochAll ? loaded : { ...loaded, stale: true };
      return { value: loaded, stale: false };
    } catch (err) {
      return fallBack(err, config, 'routing rules and pools');
    }
  };

  const modelLoads = new Map<string, { epoch: string; promise: Promise<ModelEntry> }>();
  const readModel = async (name: string): Promise<Read<ModelEntry>> => {
    const current = models.get(name);
    if (fresh(current)) return { value: current!, stale: false };
    const epoch = epochOf(name);
    let load = modelLoads.get(name);
    if (load === undefined || load.epoch !== epoch) {
      const promise = (async () => {
        const model = await registry.getModel(name);
        const wanted = [model.liveVersion, model.canaryVersion, model.shadowVersion].filter((v): v is number => v !== null);
        const versions = await Promise.all(wanted.map((v) => registry.getVersion(name, v)));
        return { model, versions: new Map(versions.map((v) => [v.version, v] as const)), fetchedAt: Date.now(), stale: false };
      })().finally(() => {
        if (modelLoads.get(name)?.promise === promise) modelLoads.delete(name);
      });
      load = { epoch, promise };
      modelLoads.set(name, load);
    }
    try {
      const loaded = await load.promise;
      registryRecovered();
      models.set(name, epochOf(name) === epoch ? loaded : { ...loaded, stale: true });
      return { value: loaded, stale: false };
    } catch (err) {
      if (isSibylError(err) && err.code === modelNotFound.code) forget(name);
      return fallBack(err, current, `model '${name}'`);
    }
  };

  const readVersion = async (entry: ModelEntry, version: number): Promise<ModelVersion> => {
    const known = entry.versions.get(version);
    if (known !== undefined) return known;
    const epoch = epochOf(entry.model.name);
    const loaded = await registry.getVersion(entry.model.name, version).catch((err: unknown) => {
      if (isSibylError(err)) throw err;
      throw registryUnreachable(messageOf(err));
    });
    if (epochOf(entry.model.name) === epoch) entry.versions.set(version, loaded);
    return loaded;
  };

  const forget = (model: string) => {
    models.delete(model);
    epochs.delete(model);
    for (const users of poolUsers.values()) users.delete(model);
  };

  // ---- routes ----------------------------------------------------------------------------------

  const nextGeneration = () => {
    // Microseconds of the wall clock, or one more than the last: monotonic within the process, and a
    // restarted router does not answer with generations older than those a gateway already holds.
    generation = Math.max(generation + 1, Date.now() * 1000);
    return generation;
  };

  const versionRoute = (entry: ModelEntry, version: ModelVersion, cfg: ConfigEntry): VersionRoute => {
    const model = entry.model;
    const facts = versionFacts(model, version);
    const rule = matchRule(cfg.rules, facts);
    if (rule === undefined) throw routeNoMatch(facts, cfg.rules.length);
    const pool = cfg.pools.get(rule.pool);
    if (pool === undefined) throw routePoolMissing(model.name, version.version, rule.id, rule.pool);
    const key = `${model.name}/${version.version}`;
    let replicas = placementReplicas(version.config);
    if (replicas === undefined) {
      if (!warnedReplicas.has(key)) {
        warnedReplicas.add(key);
        logger.warn({ model: model.name, version: version.version }, "router: the version's placement_replicas is not a positive integer; using 1");
      }
      replicas = 1;
    }
    const placement = placeVersion({
      key,
      pool,
      replicas,
      instances: pool.discovery ? coordination.instances(pool.name) : [],
      transport,
      inProcessTarget: inProcessPools.get(pool.name),
    });
    let users = poolUsers.get(pool.name);
    if (users === undefined) poolUsers.set(pool.name, (users = new Set()));
    users.add(model.name);
    return {
      model: model.name,
      version: version.version,
      pool: pool.name,
      kind: pool.kind,
      ruleId: rule.id,
      replicas: placement.replicas,
      targets: placement.targets,
    };
  };

  /** A canary or shadow that cannot be routed must not take the live version down with it. */
  const sideRoute = (entry: ModelEntry, version: number | null, cfg: ConfigEntry, role: string): VersionRoute | null => {
    if (version === null) return null;
    const v = entry.versions.get(version);
    try {
      if (v === undefined) throw new Error(`version ${version} was not read`);
      return versionRoute(entry, v, cfg);
    } catch (err) {
      logger.warn({ err, model: entry.model.name, version, role }, `router: the ${role} version cannot be routed; routing without it`);
      return null;
    }
  };

  const timed = async <T>(kind: ResolutionKind, run: () => Promise<{ value: T; stale: boolean }>): Promise<T> => {
    const started = performance.now();
    let outcome: ResolutionOutcome = 'error';
    try {
      const { value, stale } = await run();
      outcome = stale ? 'stale' : 'ok';
      return value;
    } finally {
      const seconds = (performance.now() - started) / 1000;
      if (metrics !== undefined) metrics.resolved(kind, outcome, seconds);
      else logger.debug({ kind, outcome, ms: seconds * 1000 }, 'router: resolved a route');
    }
  };

  return {
    resolveModel(name) {
      return timed('model', async () => {
        await start();
        const [entry, cfg] = await Promise.all([readModel(name), readConfig()]);
        const model = entry.value.model;
        const live = model.liveVersion === null ? null : versionRoute(entry.value, entry.value.versions.get(model.liveVersion)!, cfg.value);
        const canaryRoute = sideRoute(entry.value, model.canaryVersion, cfg.value, 'canary');
        const route: ModelRoute = {
          model: model.name,
          live,
          canary: canaryRoute === null || model.canaryWeight <= 0 ? null : { route: canaryRoute, weight: model.canaryWeight },
          shadow: sideRoute(entry.value, model.shadowVersion, cfg.value, 'shadow'),
          generation: nextGeneration(),
        };
        return { value: route, stale: entry.stale || cfg.stale };
      });
    },

    resolveVersion(name, version) {
      return timed('version', async () => {
        await start();
        const [entry, cfg] = await Promise.all([readModel(name), readConfig()]);
        const v = await readVersion(entry.value, version);
        if (v.state === 'retired') throw routeVersionRetired(name, version);
        return { value: versionRoute(entry.value, v, cfg.value), stale: entry.stale || cfg.stale };
      });
    },

    async index() {
      try {
        const all = await registry.listModels();
        const lists = await Promise.all(all.map((m) => registry.listVersions(m.name).then((versions) => indexEntries(m, versions))));
        registryRecovered();
        lastIndex = lists.flat();
        return lastIndex;
      } catch (err) {
        return fallBack(err, lastIndex, 'the repository index').value;
      }
    },

    async watch(handler) {
      await start();
      return hub.watch(handler);
    },

    async close() {
      if (closed) return;
      closed = true;
      hub.close();
      await starting?.catch(() => {});
      const pending = stops;
      stops = [];
      await Promise.allSettled(pending.map(async (stop) => stop()));
    },
  };
}
