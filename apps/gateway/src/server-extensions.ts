/**
 * The Triton extension names (protocols.md §D.1) this gateway reports in server metadata, REST
 * `GET /v2` and gRPC ServerMetadata alike. Only what works end to end is listed: a client that sees a
 * name may use every part of that extension.
 *
 * - `binary_tensor_data`: REST bodies framed with Inference-Header-Content-Length, raw requests
 *   (header 0), binary outputs (`binary_data`, `binary_data_output`).
 * - `parameters`: request-, input- and output-level parameters (REST JSON values, gRPC
 *   InferParameter) are decoded by the codecs and passed through to the data plane unchanged (which
 *   rejects keys starting with `triton_`, as Triton reserves them: validateInferRequest).
 * - `statistics` (STATISTICS_EXTENSION): only where the data plane keeps statistics
 *   (InferenceService.modelStatistics): the all-in-one and the workers, not the split gateway.
 *
 * Not listed, though partly served: `model_repository`. POST /v2/repository/index and gRPC
 * RepositoryIndex work, but the extension also promises load and unload, which are not served.
 */
import type { InferenceService } from '@sibyl/protocol';

export const SERVER_EXTENSIONS: readonly string[] = Object.freeze(['binary_tensor_data', 'parameters']);

export const STATISTICS_EXTENSION = 'statistics';

/** What an edge over `service` reports: SERVER_EXTENSIONS, and `statistics` when the service keeps them. */
export function edgeExtensions(service: InferenceService): string[] {
  return service.modelStatistics === undefined ? [...SERVER_EXTENSIONS] : [...SERVER_EXTENSIONS, STATISTICS_EXTENSION];
}
