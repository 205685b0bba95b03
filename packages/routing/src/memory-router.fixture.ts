/**
 * Test fixtures for the route cache and the routed data plane: a Router whose routes the test sets
 * (the real router is tested beside its own code), route builders, and a logger that keeps its lines.
 */
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '@sibyl/observability';
import type { ModelIndexEntry, SibylError } from '@sibyl/protocol';
import { modelNotFound, versionNotFound } from '@sibyl/registry';
import type { ModelRoute, RouteInvalidation, RouteTarget, VersionRoute } from './route.js';
import type { Router } from './router.js';

export interface MemoryRouter extends Router {
  /** Sets (replaces) a model's route and every version route given; no invalidation is sent. */
  set(model: ModelRoute, versions?: readonly VersionRoute[]): void;
  /** Sends an invalidation to every watcher, as the real router does on a registry or placement change. */
  invalidate(invalidation: RouteInvalidation): void;
  /** Every call fails with `err` from now on (undefined: answers again), as a router that is down. */
  failWith(err: SibylError | undefined): void;
  /** Answers wait until the returned function is called (calls are counted when they arrive). */
  hold(): () => void;
  /** Calls received, by method. */
  readonly calls: { resolveModel: number; resolveVersion: number; index: number; watch: number };
  readonly watchers: number;
}

export function createMemoryRouter(): MemoryRouter {
  const models = new Map<string, ModelRoute>();
  const versions = new Map<string, VersionRoute>();
  const handlers = new Set<(invalidation: RouteInvalidation) => void>();
  const calls = { resolveModel: 0, resolveVersion: 0, index: 0, watch: 0 };
  let failure: SibylError | undefined;
  let gate: Promise<void> | undefined;

  async function answer<T>(produce: () => T): Promise<T> {
    if (gate !== undefined) await gate;
    if (failure !== undefined) throw failure;
    return produce();
  }

  return {
    calls,
    get watchers() {
      return handlers.size;
    },
    set(model, routes = []) {
      models.set(model.model, model);
      for (const v of routes) versions.set(`${v.model}/${v.version}`, v);
    },
    invalidate(invalidation) {
      for (const handler of handlers) handler(invalidation);
    },
    failWith(err) {
      failure = err;
    },
    hold() {
      let release!: () => void;
      gate = new Promise((resolve) => (release = resolve));
      return () => {
        gate = undefined;
        release();
      };
    },
    resolveModel(model) {
      calls.resolveModel++;
      return answer(() => {
        const route = models.get(model);
        if (route === undefined) throw modelNotFound(model);
        return route;
      });
    },
    resolveVersion(model, version) {
      calls.resolveVersion++;
      return answer(() => {
        if (!models.has(model)) throw modelNotFound(model);
        const route = versions.get(`${model}/${version}`);
        if (route === undefined) throw versionNotFound(model, version);
        return route;
      });
    },
    index() {
      calls.index++;
      return answer((): ModelIndexEntry[] =>
        [...versions.values()].map((v) => ({ name: v.model, version: String(v.version), state: 'READY', reason: '' })),
      );
    },
    async watch(handler) {
      calls.watch++;
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    async close() {
      handlers.clear();
    },
  };
}

/** A version route over `addresses`, the first `replicas` of them its home instances. */
export function versionRoute(model: string, version: number, addresses: readonly string[], replicas = addresses.length): VersionRoute {
  const targets: RouteTarget[] = addresses.map((address) => ({ id: address, address, load: 0 }));
  return { model, version, pool: 'default', kind: 'sibyl-onnx', ruleId: 1, replicas, targets };
}

let generation = 0;

/** A model route: live, and optionally a canary (with its weight) and a shadow. */
export function modelRoute(
  live: VersionRoute | null,
  extra: { canary?: { route: VersionRoute; weight: number }; shadow?: VersionRoute; model?: string } = {},
): ModelRoute {
  const model = extra.model ?? live?.model ?? extra.canary?.route.model ?? extra.shadow?.model;
  if (model === undefined) throw new Error('modelRoute needs a model name');
  return { model, live, canary: extra.canary ?? null, shadow: extra.shadow ?? null, generation: ++generation };
}

/** A JSON-lines logger whose lines the test reads. */
export function captureLogger(): { logger: Logger; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString('utf8'));
      callback();
    },
  });
  const logger = createLogger({ destination, format: 'json', verbose: 1 });
  const lines = () =>
    chunks
      .join('')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { logger, lines };
}

/** A controllable clock, milliseconds. */
export function manualClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}
