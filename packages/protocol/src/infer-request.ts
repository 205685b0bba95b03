/**
 * InferRequest objects of one shape. The decoders build their requests here, every field present
 * (undefined when absent) and in one order, and the routed data plane copies them here: the reads of
 * `id`, `parameters` and `outputs` along the data plane then meet one hidden class instead of one per
 * combination of optional fields, and a copy is a plain object literal. Measured in process at 64
 * concurrent iris requests, the routed forward's `{ ...request, modelVersion }` alone cost ~1.3 us per
 * request against this copy.
 */
import type { InferRequest } from './messages.js';
import type { Parameters, Tensor } from './tensor.js';

export function newInferRequest(
  modelName: string,
  modelVersion: string | undefined,
  inputs: Tensor[],
  parameters?: Parameters,
): InferRequest {
  return { modelName, modelVersion, id: undefined, parameters, inputs, outputs: undefined };
}

/** The same request for another version (what a router resolved): the tensors are shared, not copied. */
export function withModelVersion(request: InferRequest, modelVersion: string): InferRequest {
  return {
    modelName: request.modelName,
    modelVersion,
    id: request.id,
    parameters: request.parameters,
    inputs: request.inputs,
    outputs: request.outputs,
  };
}
