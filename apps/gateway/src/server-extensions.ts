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
 * - `model_configuration` (MODEL_CONFIGURATION_EXTENSION): REST `GET /v2/models/{m}[/versions/{v}]/config`
 *   and gRPC ModelConfig, where the data plane can tell a configuration (InferenceService.modelConfig):
 *   the all-in-one, the workers and the gateway (which asks the backend a version is routed to).
 *
 * Not listed, though partly served: `model_repository`. POST /v2/repository/index and gRPC
 * RepositoryIndex work, but the extension also promises load and unload, which are not served.
 */
import type { InferenceService } from '@sibyl/protocol';

export const SERVER_EXTENSIONS: readonly string[] = Object.freeze(['binary_tensor_data', 'parameters']);

export const STATISTICS_EXTENSION = 'statistics';

export const MODEL_CONFIGURATION_EXTENSION = 'model_configuration';

/**
 * What an edge over `service` reports: SERVER_EXTENSIONS, `statistics` when the service keeps them,
 * `model_configuration` when it can tell a model's configuration.
 */
export function edgeExtensions(service: InferenceService): string[] {
  const extensions = [...SERVER_EXTENSIONS];
  if (service.modelStatistics !== undefined) extensions.push(STATISTICS_EXTENSION);
  if (service.modelConfig !== undefined) extensions.push(MODEL_CONFIGURATION_EXTENSION);
  return extensions;
}
