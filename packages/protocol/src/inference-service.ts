import type {
  InferRequest,
  InferResponse,
  ModelConfiguration,
  ModelIndexEntry,
  ModelMetadata,
  ModelStatistics,
  ServerMetadata,
} from './messages.js';

/** Per-call context that crosses every hop. */
export interface InferContext {
  /** Absolute deadline, milliseconds since the epoch (Date.now() clock). */
  deadlineMs?: number;
  /** Aborted when the client goes away. */
  signal?: AbortSignal;
  /** W3C traceparent of the caller. */
  traceparent?: string;
  /** The caller's `x-sibyl-routing-key`: requests with the same key take the same side of a traffic split. */
  routingKey?: string;
}

/**
 * A REST inference request as its body came (after any Content-Encoding), for a service that can
 * forward it to a backend without decoding it (InferenceService.forwardRestInfer).
 */
export interface RestInferBody {
  modelName: string;
  /** The version the URL names, if any. */
  modelVersion?: string;
  body: Buffer;
  /** The request's Content-Type, if any. */
  contentType?: string;
  /** Its Inference-Header-Content-Length, as sent (absent for a JSON body). */
  headerLength?: string;
}

/** A backend's successful v2 REST answer, to relay as it is. */
export interface RestInferAnswer {
  contentType: string;
  /** Its Inference-Header-Content-Length, when it has binary outputs. */
  headerLength?: string;
  body: Buffer;
}

/**
 * The v2 data plane: what the Open Inference Protocol offers, independent of transport.
 *
 * REST and gRPC handlers are thin adapters over one InferenceService. The in-process implementation
 * runs models itself (packages/runtime); remote implementations (a Sibyl worker, Triton) forward over
 * the network. Every method rejects with a SibylError.
 */
export interface InferenceService {
  serverLive(): Promise<boolean>;
  serverReady(): Promise<boolean>;
  serverMetadata(): Promise<ServerMetadata>;
  /** Rejects NOT_FOUND for an unknown model or version. */
  modelMetadata(name: string, version?: string): Promise<ModelMetadata>;
  /** False for a known model that is not ready; rejects NOT_FOUND for an unknown one. */
  modelReady(name: string, version?: string): Promise<boolean>;
  /** Validates the request against the model's metadata, runs it, returns its outputs. */
  infer(request: InferRequest, context?: InferContext): Promise<InferResponse>;
  /** Every model the service knows, with its state (Triton's repository index). */
  repositoryIndex(): Promise<ModelIndexEntry[]>;
  /**
   * Triton's statistics extension: one entry per model version, of every model (no name), of every
   * version of a model (no version), or of one version. Rejects NOT_FOUND for an unknown model or
   * version, as modelMetadata does. Optional: a service without it does not serve the extension.
   */
  modelStatistics?(name?: string, version?: string): Promise<ModelStatistics[]>;
  /**
   * Triton's model configuration extension: the configuration a model version is served with, in
   * the JSON form of Triton's ModelConfig (what config.json declares, completed from the model file).
   * No version: the version a request without one goes to. Rejects as modelMetadata does.
   * Optional: a service without it does not serve the extension.
   */
  modelConfig?(name: string, version?: string): Promise<ModelConfiguration>;
  /**
   * Optional pass-through for the REST edge: forwards the request's body as it came to the backend
   * that serves it, when that backend decodes it exactly as this process would (a Sibyl worker over
   * REST), and resolves with the backend's answer to relay; resolves undefined when the request must
   * be decoded here instead (the caller then calls infer()). Rejects as infer() does.
   */
  forwardRestInfer?(request: RestInferBody, context?: InferContext): Promise<RestInferAnswer | undefined>;
}
