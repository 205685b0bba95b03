/**
 * A backend: one instance that runs models, as the gateway sees it. It is the v2 data plane
 * (InferenceService) of something else: the in-process runtime, a Sibyl worker or a Triton server
 * over the network.
 *
 * Error contract for remote backends:
 * - An error the backend answered (a v2 error body or a gRPC status) is rebuilt as a SibylError with
 *   the backend's `code` when it sent one (`sibyl-error-code` trailer, `code` in the REST body), else a
 *   code derived from the status, and the backend's message; the gateway passes it on unchanged.
 * - A failure that happened before the request could have reached the model (connection refused or
 *   reset before the request was written, no route to host, the backend answering "not ready" or
 *   "draining") is a SibylError with category UNAVAILABLE and `notDelivered(err) === true`: the
 *   caller may retry it on another instance without running the model twice.
 * - Anything else after the request was sent (reset mid-response, timeout) is never `notDelivered`.
 */
import type { InferContext, InferenceService, ModelConfiguration, RestInferAnswer, RestInferBody } from '@sibyl/protocol';

export type BackendTransport = 'in-process' | 'http' | 'grpc';

export interface Backend extends InferenceService {
  /** Where it is: `in-process`, or `http://host:port` / `grpc://host:port`. */
  readonly target: string;
  readonly transport: BackendTransport;
  /** Requests this process has in flight on it now (for least-loaded choice). */
  readonly inflight: number;
  /**
   * Present on backends that speak v2 REST: sends a REST body on as it came (InferenceService's
   * pass-through), always answering (never undefined). Rejects as infer() does.
   */
  forwardRestInfer?(request: RestInferBody, context?: InferContext): Promise<RestInferAnswer>;
  /** The model configuration extension, asked of the backend; SIBYL_MODEL_CONFIG_UNSUPPORTED when it cannot tell. */
  modelConfig(name: string, version?: string): Promise<ModelConfiguration>;
  /** Closes connections; in-flight calls finish or fail. Idempotent. */
  close(): Promise<void>;
}
