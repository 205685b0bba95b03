/**
 * Models served on demand: the first request for a model that is not loaded yet loads it (once,
 * however many requests arrive meanwhile), waits for it within the request's deadline, then serves.
 * Requests for a loaded model go straight to the data plane: a Set lookup, no extra await.
 *
 * A request for a version of a loaded model that is still loading (the gateway names the version the
 * router chose, which may be one just deployed) waits for it the same way.
 *
 * Answers: a model the source does not have is the data plane's NOT_FOUND; a model that failed to
 * load answers its load error (and the next request tries again); a request whose deadline passes
 * while the model loads answers DEADLINE_EXCEEDED saying so (the load goes on for the next one); a
 * load past the load timeout answers SIBYL_MODEL_LOAD_TIMEOUT (UNAVAILABLE).
 *
 * Loads go through a memory-bounded model cache (@sibyl/runtime's model-cache.ts): it charges each
 * load, evicts idle models (least recently used first) when a load needs room, and counts every
 * inference request in flight from its arrival to its answer, so a model is never evicted under one.
 */
import type { InferContext, InferRequest, InferResponse, InferenceService, ModelMetadata } from '@sibyl/protocol';
import { isSibylError } from '@sibyl/protocol';
import { createModelCache, runtimeErrors, type LocalInferenceService, type LoadSummary, type ModelCache, type ModelCacheOptions } from '@sibyl/runtime';

export interface OnDemandServiceOptions {
  /** The data plane, under explicit model control: it serves a model only after `load(name)`. */
  local: LocalInferenceService;
  /** Called before each load, so the model source describes the model (demand-source.ts). */
  want(name: string): void;
  /** Called after each load that left the model serving (to report warm models). */
  onLoaded?(name: string): void;
  /** Called once the cache evicted a model (to report warm models). */
  onEvicted?(name: string): void;
  /** The model cache's budget, timeout, load concurrency, pinned models and load hook. */
  cache: Omit<ModelCacheOptions, 'host' | 'onEvicted'>;
  /** Told how long a request for a model that was not loaded waited for it, seconds (whether the load served or failed). */
  onMissWait?(seconds: number): void;
}

export interface OnDemandService extends InferenceService {
  /** Forgets that `name` was loaded (the source no longer has it): its next request loads it again. */
  forget(name: string): void;
  /** The model cache the loads go through (its accounting, for metrics and tests). */
  readonly cache: ModelCache;
}

/** What a load that left the model serving without a summary (a failed version beside a served one) reports. */
const NO_SUMMARY: LoadSummary = { loaded: 0, failed: 0, results: [], skipped: [] };

/** How a request without a version is named in messages. */
const versionLabel = (version: string | undefined) => (version === undefined || version === '' ? '(live)' : version);

export function createOnDemandService(options: OnDemandServiceOptions): OnDemandService {
  const { local, want } = options;
  /** Models loaded through here and still known to the source: requests for these go straight through. */
  const loaded = new Set<string>();
  /** Loads in progress, one per model (single flight). */
  const loading = new Map<string, Promise<void>>();
  const cache = createModelCache({
    ...options.cache,
    host: {
      load(name) {
        want(name);
        return local.load(name).catch(async (err: unknown) => {
          // Some version failed but what a request without a version reaches serves: serve that,
          // and let a request for the failed version get the data plane's NOT_READY with the reason.
          if (isSibylError(err) && err.category !== 'NOT_FOUND' && (await local.modelReady(name).catch(() => false))) return NO_SUMMARY;
          throw err;
        });
      },
      unload: (name) => local.unload(name),
    },
    onEvicted(name) {
      loaded.delete(name);
      options.onEvicted?.(name);
    },
  });

  function ensureLoaded(name: string): Promise<void> {
    let pending = loading.get(name);
    if (pending === undefined) {
      pending = cache
        .load(name)
        .then(() => {
          loaded.add(name);
          options.onLoaded?.(name);
        })
        .finally(() => loading.delete(name));
      loading.set(name, pending);
    }
    return pending;
  }

  /** Waits for the load within the request's deadline and while its client is there. */
  function waitLoaded(name: string, version: string | undefined, context: InferContext | undefined): Promise<void> {
    const load = ensureLoaded(name);
    const deadline = context?.deadlineMs;
    const signal = context?.signal;
    if (deadline === undefined && signal === undefined) return load;
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = () => {
        done();
        reject(runtimeErrors.requestCancelled(name, versionLabel(version)));
      };
      if (deadline !== undefined) {
        timer = setTimeout(() => {
          done();
          reject(runtimeErrors.deadlineExceeded(name, versionLabel(version), 'while the model was loading on this worker', Math.max(0, Date.now() - deadline)));
        }, Math.max(0, deadline - Date.now()));
      }
      if (signal?.aborted === true) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      load.then(
        () => {
          done();
          resolve();
        },
        (err: unknown) => {
          done();
          reject(err);
        },
      );
    });
  }

  async function inferCold(request: InferRequest, context: InferContext | undefined): Promise<InferResponse> {
    const started = performance.now();
    try {
      await waitLoaded(request.modelName, request.modelVersion, context);
    } finally {
      options.onMissWait?.((performance.now() - started) / 1000);
    }
    return local.infer(request, context);
  }

  return {
    serverLive: () => local.serverLive(),
    serverReady: () => local.serverReady(),
    serverMetadata: () => local.serverMetadata(),
    repositoryIndex: () => local.repositoryIndex(),
    // The runtime's own: a model this worker has not loaded yet is not served, so it is not counted.
    modelStatistics: (name, version) => local.modelStatistics(name, version),

    infer(request, context) {
      const exit = cache.enter(request.modelName);
      const answer = !loaded.has(request.modelName)
        ? inferCold(request, context)
        : local.infer(request, context).catch((err: unknown) => {
            // A version the model gained since it loaded (a deploy, a canary) may still be loading here:
            // wait for the model's loads within the deadline, as for a cold model, then try once more.
            if (!isSibylError(err) || err.code !== runtimeErrors.modelNotReady.code) throw err;
            return inferCold(request, context);
          });
      answer.then(exit, exit);
      return answer;
    },

    async modelMetadata(name, version): Promise<ModelMetadata> {
      if (!loaded.has(name)) await ensureLoaded(name);
      return local.modelMetadata(name, version);
    },

    async modelConfig(name, version) {
      if (!loaded.has(name)) await ensureLoaded(name);
      return local.modelConfig(name, version);
    },

    async modelReady(name, version) {
      if (!loaded.has(name)) {
        try {
          await ensureLoaded(name);
        } catch (err) {
          // Known but failed to load: not ready. Unknown: NOT_FOUND, as the protocol says.
          if (isSibylError(err) && err.category === 'NOT_FOUND') throw err;
          return false;
        }
      }
      return local.modelReady(name, version);
    },

    forget(name) {
      loaded.delete(name);
      cache.forget(name);
    },
    cache,
  };
}
