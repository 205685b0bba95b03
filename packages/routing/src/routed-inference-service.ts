/**
 * The gateway's routed data plane: the InferenceService the REST and gRPC servers adapt, in split
 * mode and in the all-in-one. For each call it asks the route cache where the model goes, picks an
 * instance, and forwards the call to that instance's Backend.
 *
 * - A request naming a version goes to that version; one without a version takes the traffic split
 *   (live or canary, sticky per routing key: the context's `routingKey`, else the request id, else
 *   random), and a copy goes to the shadow version if there is one (shadow-traffic.ts).
 * - The request forwarded names the version chosen, so the backend serves exactly it. The caller's
 *   request object is not changed (a shallow copy is forwarded).
 * - REST pass-through (forwardRestInfer): to a Sibyl worker over REST, the REST edge's body goes on
 *   undecoded and the answer comes back undecoded, which saves the hop a decode and an encode each way.
 * - Instance: the least loaded home instance (instance-choice.ts). A failure the backend reports as
 *   not delivered (`notDelivered`: the model cannot have run) is retried once, on the next instance in
 *   the route's order; the failed instance is avoided for a while and the model's routes are
 *   re-resolved in the background. Any other failure is passed on unchanged: the model may have run.
 *
 * Metrics: the workers count `nv_inference_*` (counting them here too would count each request
 * twice in the all-in-one); the gateway's own counters are plain numbers in `stats()`, which the app
 * exposes as `sibyl_*` metrics at scrape time.
 */
import { notDelivered, type Backend } from '@sibyl/backends';
import type { Logger } from '@sibyl/observability';
import {
  toSibylError,
  withModelVersion,
  type InferContext,
  type InferRequest,
  type InferResponse,
  type InferenceService,
  type ModelConfiguration,
  type ModelIndexEntry,
  type ModelMetadata,
  type RestInferAnswer,
  type RestInferBody,
  type ServerMetadata,
} from '@sibyl/protocol';
import { poolKindUnsupported, V2_POOL_KINDS, versionNotInteger } from './data-plane-errors.js';
import { modelNotLive } from './errors.js';
import { createInstanceChoice, type BackendLookup } from './instance-choice.js';
import { createRouteCache, type RouteCache, type RouteCacheStats } from './route-cache.js';
import type { RouteTarget, VersionRoute } from './route.js';
import type { Router } from './router.js';
import { createShadowTraffic, type ShadowOptions, type ShadowStats } from './shadow-traffic.js';
import { chooseVersion } from './traffic-split.js';

export interface RoutedInferenceServiceOptions {
  /** Where routes come from; a route cache over it is created (and closed by `close()`). Give this or `cache`. */
  router?: Router;
  /** A route cache to use instead (shared, so not closed by `close()`); its router answers `repositoryIndex`. */
  cache?: RouteCache;
  /** The app's backend pool: one Backend per target address. */
  backends: BackendLookup;
  logger: Logger;
  /** Reported by serverMetadata(). */
  serverVersion: string;
  /** Protocol extensions reported by serverMetadata(): the list the transports implement. */
  extensions: readonly string[];
  /** Shadow traffic settings and the hook that receives each shadow call's outcome. */
  shadow?: ShadowOptions;
  /** How long an instance that failed to take a request is avoided, milliseconds; default 2000. */
  suspectMs?: number;
  /**
   * serverReady(). Default: ready when a route is cached (the gateway can serve without the router)
   * or the router answers `index()`.
   */
  ready?: () => Promise<boolean>;
  /** Clock for suspect marking, milliseconds; default Date.now. */
  now?: () => number;
}

/** Plain counters, read at scrape time by the app's metrics. */
export interface RoutedServiceStats {
  /** Calls sent to a backend (infer, model metadata and readiness), retries included. */
  forwarded: number;
  /** Calls retried on another instance after a failure that was not delivered. */
  retried: number;
  /** REST inference requests sent on undecoded (forwardRestInfer), each once; their calls are counted in `forwarded` too. */
  passedThrough: number;
  /** Calls refused because the route had no instance (SIBYL_POOL_NO_INSTANCE). */
  noInstance: number;
  shadow: ShadowStats;
  cache: RouteCacheStats;
}

export interface RoutedInferenceService extends InferenceService {
  readonly cache: RouteCache;
  /** Asked of the backend the version is routed to (the version live when none is named). */
  modelConfig(name: string, version?: string): Promise<ModelConfiguration>;
  stats(): RoutedServiceStats;
  /**
   * Stops watching the router (when the cache is this service's own) and waits for the shadow calls
   * in flight; serverLive() and serverReady() then answer false. Backends belong to the caller.
   * Idempotent.
   */
  close(): Promise<void>;
}

/** Pools whose instances decode a REST body exactly as the gateway would: Sibyl workers. */
const PASS_THROUGH_KINDS: ReadonlySet<string> = new Set(['sibyl-onnx', 'sibyl-tf']);

/** A version as the runtime accepts one: a positive integer without leading zeros. */
const VERSION = /^[1-9][0-9]{0,15}$/;

export function createRoutedInferenceService(options: RoutedInferenceServiceOptions): RoutedInferenceService {
  const { backends, logger } = options;
  if (options.router === undefined && options.cache === undefined) throw new TypeError('option router or cache is required');
  const ownCache = options.cache === undefined;
  const cache = options.cache ?? createRouteCache({ router: options.router!, logger });
  const router = options.router ?? cache.router;
  const choiceOptions: Parameters<typeof createInstanceChoice>[0] = { backends };
  if (options.suspectMs !== undefined) choiceOptions.suspectMs = options.suspectMs;
  if (options.now !== undefined) choiceOptions.now = options.now;
  const choice = createInstanceChoice(choiceOptions);
  const shadows = createShadowTraffic({ ...options.shadow, backends, choice, logger });
  const serverMetadata: ServerMetadata = Object.freeze({ name: 'sibyl', version: options.serverVersion, extensions: [...options.extensions] });
  const counters = { forwarded: 0, retried: 0, passedThrough: 0, noInstance: 0 };
  let closing: Promise<void> | undefined;

  const ready =
    options.ready ??
    (async () =>
      cache.hasRoutes() ||
      router.index().then(
        () => true,
        () => false,
      ));

  function versionNumber(model: string, version: string): number {
    if (!VERSION.test(version)) throw versionNotInteger(model, version);
    const n = Number(version);
    if (!Number.isSafeInteger(n)) throw versionNotInteger(model, version);
    return n;
  }

  /** The route of a call that is not an inference: the version named, else the live one. */
  async function routeOf(model: string, version: string | undefined): Promise<VersionRoute> {
    if (version !== undefined && version !== '') {
      const n = versionNumber(model, version);
      return cache.peekVersion(model, n) ?? (await cache.version(model, n));
    }
    const route = cache.peekModel(model) ?? (await cache.model(model));
    if (route.live === null) throw modelNotLive(model);
    return route.live;
  }

  /** The instance chosen for `route`, counting a route without one. */
  function pick(route: VersionRoute): RouteTarget {
    if (!V2_POOL_KINDS.has(route.kind)) throw poolKindUnsupported(route.pool, route.kind, route.model, route.version);
    if (route.targets.length === 0) counters.noInstance++;
    return choice.pick(route);
  }

  /**
   * After the instance at `failed` did not take the call (`err`): avoid it, re-resolve the model's
   * routes in the background, and make the call once more on the next instance; without another,
   * `err` stands.
   */
  async function retry<T>(route: VersionRoute, failed: string, err: unknown, call: (backend: Backend) => Promise<T>): Promise<T> {
    choice.markSuspect(failed);
    cache.refresh(route.model);
    const next = choice.failover(route, failed);
    if (next === undefined) throw err;
    counters.retried++;
    counters.forwarded++;
    logger.debug(
      { model: route.model, version: route.version, failed, next: next.address, err: toSibylError(err).message },
      'request not delivered; retrying on another instance',
    );
    try {
      return await call(backends.get(next.address));
    } catch (again) {
      if (notDelivered(again)) choice.markSuspect(next.address);
      throw again;
    }
  }

  /** Forwards a call that is not an inference, with the same one retry. */
  async function forward<T>(route: VersionRoute, call: (backend: Backend) => Promise<T>): Promise<T> {
    const target = pick(route);
    counters.forwarded++;
    try {
      return await call(backends.get(target.address));
    } catch (err) {
      if (!notDelivered(err)) throw err;
      return retry(route, target.address, err, call);
    }
  }

  async function infer(request: InferRequest, context: InferContext = {}): Promise<InferResponse> {
    const model = request.modelName;
    const named = request.modelVersion;
    let route: VersionRoute;
    let shadow: VersionRoute | null = null;
    if (named !== undefined && named !== '') {
      const n = versionNumber(model, named);
      route = cache.peekVersion(model, n) ?? (await cache.version(model, n));
    } else {
      const modelRoute = cache.peekModel(model) ?? (await cache.model(model));
      route = chooseVersion(modelRoute, context.routingKey ?? request.id);
      shadow = modelRoute.shadow;
    }
    const forwarded = withModelVersion(request, String(route.version));
    const target = pick(route);
    const backend = backends.get(target.address);
    // Prepared (inputs copied if need be) before the primary is dispatched, sent after it.
    const prepared = shadow === null ? undefined : shadows.prepare(request, shadow, backend, route.version, context);
    counters.forwarded++;
    const primary = backend.infer(forwarded, context);
    prepared?.send();
    try {
      return await primary;
    } catch (err) {
      if (!notDelivered(err)) throw err;
      return retry(route, target.address, err, (next) => next.infer(forwarded, context));
    }
  }

  /**
   * The REST pass-through: the client's body goes as it came to a Sibyl worker (which decodes it as
   * this process would, so errors and answers are the same), and its answer comes back undecoded.
   * Undefined (decode and infer() instead) when the choice needs the decoded request (a traffic split
   * without a routing key keys on the body's `id`; a shadow needs a copy of the inputs), when the pool
   * is not a Sibyl worker pool (Triton's errors are its own), or when the instance reached does not
   * speak REST. Retries a request not delivered on the next instance, as infer() does.
   */
  async function forwardRestInfer(request: RestInferBody, context: InferContext = {}): Promise<RestInferAnswer | undefined> {
    const model = request.modelName;
    const named = request.modelVersion;
    let route: VersionRoute;
    if (named !== undefined && named !== '') {
      const n = versionNumber(model, named);
      route = cache.peekVersion(model, n) ?? (await cache.version(model, n));
    } else {
      const modelRoute = cache.peekModel(model) ?? (await cache.model(model));
      if (modelRoute.shadow !== null) return undefined;
      if (modelRoute.canary !== null && modelRoute.canary.weight > 0 && context.routingKey === undefined) return undefined;
      route = chooseVersion(modelRoute, context.routingKey);
    }
    if (!PASS_THROUGH_KINDS.has(route.kind)) return undefined;
    const target = pick(route);
    const backend = backends.get(target.address);
    if (backend.forwardRestInfer === undefined) return undefined;
    // Every field set, in one order (as withModelVersion does for decoded requests): no spread on the hot path.
    const forwarded: RestInferBody = {
      modelName: request.modelName,
      modelVersion: String(route.version),
      body: request.body,
      contentType: request.contentType,
      headerLength: request.headerLength,
    };
    counters.forwarded++;
    counters.passedThrough++;
    try {
      return await backend.forwardRestInfer(forwarded, context);
    } catch (err) {
      if (!notDelivered(err)) throw err;
      // The next instance of the same pool speaks REST too; if it somehow does not, infer() retries
      // there after the caller decodes (the failed instance is now avoided by pick()).
      return retry(route, target.address, err, (next) => (next.forwardRestInfer === undefined ? Promise.resolve(undefined) : next.forwardRestInfer(forwarded, context)));
    }
  }

  return {
    cache,
    async serverLive() {
      return closing === undefined;
    },
    async serverReady() {
      return closing === undefined && (await ready());
    },
    async serverMetadata() {
      return { ...serverMetadata, extensions: [...serverMetadata.extensions] };
    },
    async modelMetadata(name, version): Promise<ModelMetadata> {
      const route = await routeOf(name, version);
      const v = String(route.version);
      return forward(route, (backend) => backend.modelMetadata(name, v));
    },
    async modelConfig(name, version): Promise<ModelConfiguration> {
      const route = await routeOf(name, version);
      const v = String(route.version);
      return forward(route, (backend) => backend.modelConfig(name, v));
    },
    async modelReady(name, version) {
      // Unknown models and versions still reject (NOT_FOUND); anything that keeps a known one from
      // serving now (nothing live, no instance, router or backend unavailable) is "not ready".
      try {
        const route = await routeOf(name, version);
        if (route.targets.length === 0) return false;
        const v = String(route.version);
        return await forward(route, (backend) => backend.modelReady(name, v));
      } catch (err) {
        if (toSibylError(err).category === 'UNAVAILABLE') return false;
        throw err;
      }
    },
    infer,
    forwardRestInfer,
    async repositoryIndex(): Promise<ModelIndexEntry[]> {
      return router.index();
    },
    stats() {
      return { ...counters, shadow: shadows.stats(), cache: cache.stats() };
    },
    close() {
      closing ??= (async () => {
        if (ownCache) await cache.close();
        await shadows.drain();
      })();
      return closing;
    },
  };
}
