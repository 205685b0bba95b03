/**
 * What the worker adds around its data plane for placement: readiness (true once registered and not
 * draining; models load on demand, so none has to be loaded), and the count of requests in flight
 * (the `load` placement sees), reported on every change.
 */
import { serverDraining, type InferenceService } from '@sibyl/protocol';

export interface ServingGate {
  /** The data plane as the listeners serve it. */
  readonly service: InferenceService;
  /** Requests in flight now. */
  readonly inflight: number;
  /**
   * Once draining: resolves when no request is in flight and none was refused for `quietMs`, i.e.
   * the gateways have stopped sending (they saw the draining placement or the refusals) and the
   * listeners can close without cutting a request off a kept-alive connection. Never resolves
   * before drain(); callers bound the wait.
   */
  quiet(quietMs: number): Promise<void>;
  /** Readiness turns true (after registering). */
  open(): void;
  /**
   * Readiness turns false for good (shutdown started): requests already running finish; new ones are
   * refused with SIBYL_SERVER_DRAINING (the gateway retries them on another instance, and REST answers
   * close the connection, so the listeners can finish closing).
   */
  drain(): void;
}

export function createServingGate(inner: InferenceService, onLoad: (inflight: number) => void): ServingGate {
  let state: 'starting' | 'open' | 'draining' = 'starting';
  let inflight = 0;
  let lastRefusedAt = 0;
  const refuse = (what: string) => {
    lastRefusedAt = performance.now();
    return Promise.reject(serverDraining(what));
  };
  const finished = () => onLoad(--inflight);
  const service: InferenceService = {
    serverLive: () => inner.serverLive(),
    serverReady: async () => state === 'open' && (await inner.serverReady()),
    serverMetadata: () => inner.serverMetadata(),
    modelMetadata: (name, version) => (state === 'draining' ? refuse(`model '${name}'`) : inner.modelMetadata(name, version)),
    modelReady: (name, version) => inner.modelReady(name, version),
    repositoryIndex: () => inner.repositoryIndex(),
    // The optional extensions pass through as the data plane offers them (the edge lists what it gets).
    ...(inner.modelStatistics === undefined ? {} : { modelStatistics: (name?: string, version?: string) => inner.modelStatistics!(name, version) }),
    ...(inner.modelConfig === undefined
      ? {}
      : { modelConfig: (name: string, version?: string) => (state === 'draining' ? refuse(`model '${name}'`) : inner.modelConfig!(name, version)) }),
    infer(request, context) {
      if (state === 'draining') return refuse(`model '${request.modelName}'`);
      onLoad(++inflight);
      let running;
      try {
        running = inner.infer(request, context);
      } catch (err) {
        finished();
        throw err;
      }
      running.then(finished, finished);
      return running;
    },
  };
  return {
    service,
    get inflight() {
      return inflight;
    },
    async quiet(quietMs) {
      for (;;) {
        const idleFor = performance.now() - lastRefusedAt;
        if (state === 'draining' && inflight === 0 && idleFor >= quietMs) return;
        await new Promise((resolve) => setTimeout(resolve, inflight > 0 ? 20 : Math.max(20, quietMs - idleFor)));
      }
    },
    open() {
      if (state === 'starting') state = 'open';
    },
    drain() {
      // The quiet period counts from here: gateways need a moment to see the draining placement.
      if (state !== 'draining') lastRefusedAt = performance.now();
      state = 'draining';
    },
  };
}
