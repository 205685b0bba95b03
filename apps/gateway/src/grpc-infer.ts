/**
 * One inference over gRPC, shared by ModelInfer and ModelStreamInfer: check the model reference
 * (so a bad name is reported before any tensor problem), decode, run, encode in the form asked in
 * (raw_output_contents when the request used raw_input_contents, as Triton answers).
 */
import type { Logger, SibylMetrics } from '@sibyl/observability';
import {
  decodeGrpcInferRequest,
  encodeGrpcInferResponse,
  requestUsedRaw,
  type InferContext,
  type InferenceService,
} from '@sibyl/protocol';
import type { ModelInferRequestMessage, ModelInferResponseMessage } from './grpc-messages.js';
import { checkModelName, checkModelVersion } from './model-ref.js';

export interface GrpcHandlerDeps {
  service: InferenceService;
  logger: Logger;
  metrics: SibylMetrics | undefined;
}

export async function inferMessage(
  service: InferenceService,
  message: ModelInferRequestMessage,
  context: InferContext,
): Promise<ModelInferResponseMessage> {
  checkModelName(message.model_name ?? '');
  checkModelVersion(message.model_version);
  const request = decodeGrpcInferRequest(message);
  const response = await service.infer(request, context);
  return encodeGrpcInferResponse(response, { raw: requestUsedRaw(message) });
}
