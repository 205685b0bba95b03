import type {
  InferRequest,
  InferResponse,
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
}
