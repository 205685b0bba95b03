/**
 * Shadow traffic: a copy of a request sent to the model's shadow version, whose answer is recorded
 * (success or failure, latency) and discarded. A shadow never delays or fails the primary call, and
 * at most `maxConcurrent` shadow calls are in flight: a copy over the bound is dropped and counted.
 *
 * Input ownership: an in-process backend on worker threads may transfer (detach) a request's input
 * buffers (packages/runtime/src/local-inference-service.ts). So when either call goes to an
 * in-process backend, the shadow gets its own copy of the inputs, made before the primary is
 * dispatched; between two remote backends, which only read the inputs, both share them.
 */
import type { Backend } from '@sibyl/backends';
import type { Logger } from '@sibyl/observability';
import { copyTensor, toSibylError, withModelVersion, type InferContext, type InferRequest, type SibylError } from '@sibyl/protocol';
import type { InstanceChoice, BackendLookup } from './instance-choice.js';
import type { VersionRoute } from './route.js';

/** The outcome of one shadow call. */
export interface ShadowResult {
  model: string;
  /** The shadow version the copy went to. */
  version: number;
  /** The version that answered the client. */
  primaryVersion: number;
  /** The instance's address; undefined when the shadow pool had no instance. */
  target: string | undefined;
  ok: boolean;
  /** Why the shadow call failed, when it did. */
  error?: SibylError;
  /** From dispatch to its answer, milliseconds. */
  latencyMs: number;
}

export interface ShadowOptions {
  /** Called once per shadow call with its outcome; an exception it throws is logged and ignored. */
  onResult?: (result: ShadowResult) => void;
  /** Shadow calls in flight at most; a copy over the bound is dropped and counted. Default 32. */
  maxConcurrent?: number;
}

export interface ShadowStats {
  /** Shadow calls dispatched. */
  sent: number;
  succeeded: number;
  /** Shadow calls that failed, or found no instance to go to. */
  failed: number;
  /** Copies not sent because `maxConcurrent` calls were in flight. */
  dropped: number;
}

/** A shadow call prepared before the primary is dispatched, sent after it. */
export interface PreparedShadow {
  send(): void;
}

export interface ShadowTraffic {
  /**
   * Prepares a copy of `request` for `shadow` (copying its inputs when an in-process backend is
   * involved); undefined when it is dropped (over the bound). Call before dispatching the primary.
   */
  prepare(request: InferRequest, shadow: VersionRoute, primary: Backend, primaryVersion: number, context: InferContext): PreparedShadow | undefined;
  stats(): ShadowStats;
  /** Resolves once every shadow call in flight has settled. */
  drain(): Promise<void>;
}

export interface ShadowTrafficOptions extends ShadowOptions {
  backends: BackendLookup;
  choice: InstanceChoice;
  logger: Logger;
}

export function createShadowTraffic(options: ShadowTrafficOptions): ShadowTraffic {
  const { backends, choice, logger } = options;
  const maxConcurrent = options.maxConcurrent ?? 32;
  if (!Number.isSafeInteger(maxConcurrent) || maxConcurrent < 0) {
    throw new RangeError(`option shadow.maxConcurrent must be a non-negative integer, got ${String(maxConcurrent)}`);
  }
  const counters: ShadowStats = { sent: 0, succeeded: 0, failed: 0, dropped: 0 };
  const inflight = new Set<Promise<void>>();

  function report(result: ShadowResult): void {
    if (result.ok) counters.succeeded++;
    else counters.failed++;
    if (!result.ok) logger.debug({ model: result.model, version: result.version, err: result.error?.message }, 'shadow call failed');
    if (options.onResult === undefined) return;
    try {
      options.onResult(result);
    } catch (err) {
      logger.warn({ err: toSibylError(err).message }, 'shadow onResult hook threw; ignored');
    }
  }

  return {
    prepare(request, shadow, primary, primaryVersion, context) {
      if (inflight.size >= maxConcurrent) {
        counters.dropped++;
        return undefined;
      }
      const model = request.modelName;
      const base = { model, version: shadow.version, primaryVersion };
      let backend: Backend;
      try {
        backend = backends.get(choice.pick(shadow).address);
      } catch (err) {
        // No instance (or an address the pool refuses): recorded as a failed shadow call, nothing sent.
        return { send: () => report({ ...base, target: undefined, ok: false, error: toSibylError(err), latencyMs: 0 }) };
      }
      const copy = primary.transport === 'in-process' || backend.transport === 'in-process';
      const shadowRequest = withModelVersion(request, String(shadow.version));
      if (copy) shadowRequest.inputs = request.inputs.map(copyTensor);
      // Not the client's signal: the shadow is ours once sent. The deadline and trace still apply.
      const shadowContext: InferContext = {};
      if (context.deadlineMs !== undefined) shadowContext.deadlineMs = context.deadlineMs;
      if (context.traceparent !== undefined) shadowContext.traceparent = context.traceparent;
      return {
        send() {
          counters.sent++;
          const started = performance.now();
          const call = (async () => {
            try {
              await backend.infer(shadowRequest, shadowContext);
              report({ ...base, target: backend.target, ok: true, latencyMs: performance.now() - started });
            } catch (err) {
              report({ ...base, target: backend.target, ok: false, error: toSibylError(err), latencyMs: performance.now() - started });
            }
          })();
          inflight.add(call);
          void call.finally(() => inflight.delete(call));
        },
      };
    },
    stats() {
      return { ...counters };
    },
    async drain() {
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
    },
  };
}
