/**
 * ModelInfer messages (spec §C.4) to and from InferRequest / InferResponse, on the proto-loader
 * objects of the generated types (int64 as decimal strings, bytes as Buffer, repeated fields as
 * arrays, InferParameter with its `parameter_choice`).
 *
 * Raw contents are views: raw inputs decode to typed arrays over the received message's bytes
 * (copied only when misaligned), and raw outputs encode to Buffers over the tensor's memory.
 *
 * With raw contents, an input whose `contents` holds elements is rejected (spec §C.4); an empty
 * `contents` message is tolerated, since some clients set one by default.
 *
 * Server side: decodeGrpcInferRequest, encodeGrpcInferResponse (raw when requestUsedRaw).
 * Client side (backends calling a v2 gRPC server): encodeGrpcInferRequest, decodeGrpcInferResponse.
 */
import { DATATYPE_INFO, isDatatype } from './datatypes.js';
import { datatypeUnknown, grpcContentsWithRaw, grpcRawCount, shapeInvalid } from './errors.js';
import type { InferTensorContents__Output } from './generated/inference/InferTensorContents.js';
import type { ModelInferRequest, ModelInferRequest__Output } from './generated/inference/ModelInferRequest.js';
import type { ModelInferResponse, ModelInferResponse__Output } from './generated/inference/ModelInferResponse.js';
import { contentsFromData, dataFromContents, filledContentsField } from './grpc-contents.js';
import { parametersFromGrpc, parametersToGrpc } from './grpc-parameters.js';
import { newInferRequest } from './infer-request.js';
import type { InferRequest, InferResponse, RequestedOutput } from './messages.js';
import { tensorDataFromBytes, tensorDataToBytes } from './tensor-bytes.js';
import { elementCount, type Tensor } from './tensor.js';

/** True when the request carried its inputs in raw_input_contents: the server answers in raw_output_contents. */
export function requestUsedRaw(message: Pick<ModelInferRequest__Output, 'raw_input_contents'>): boolean {
  return (message.raw_input_contents?.length ?? 0) > 0;
}

/** Decodes a ModelInfer request. Throws SibylError (INVALID_ARGUMENT) naming the tensor or field at fault. */
export function decodeGrpcInferRequest(message: ModelInferRequest__Output): InferRequest {
  const request = newInferRequest(message.model_name ?? '', message.model_version || undefined, []);
  if (message.id) request.id = message.id;
  const parameters = parametersFromGrpc(message.parameters);
  if (parameters !== undefined) request.parameters = parameters;
  const inputs = message.inputs ?? [];
  const raw = message.raw_input_contents ?? [];
  if (raw.length > 0 && raw.length !== inputs.length) throw grpcRawCount(inputs.length, raw.length);
  request.inputs = inputs.map((input, i) => {
    const name = input.name ?? '';
    if (raw.length > 0 && filledContentsField(input.contents) !== undefined) throw grpcContentsWithRaw(name);
    const tensor = decodeTensor('input', name, input.datatype, input.shape, input.contents, raw[i]);
    const tensorParameters = parametersFromGrpc(input.parameters, `inputs[${i}].parameters`);
    if (tensorParameters !== undefined) tensor.parameters = tensorParameters;
    return tensor;
  });
  const outputs = message.outputs ?? [];
  if (outputs.length > 0) {
    request.outputs = outputs.map((output, i): RequestedOutput => {
      const requested: RequestedOutput = { name: output.name ?? '' };
      const outputParameters = parametersFromGrpc(output.parameters, `outputs[${i}].parameters`);
      if (outputParameters !== undefined) requested.parameters = outputParameters;
      return requested;
    });
  }
  return request;
}

/** One tensor from its message fields, with its data from `raw` when given, else from typed contents. */
function decodeTensor(
  kind: 'input' | 'output',
  name: string,
  datatype: string | undefined,
  shapeDecimals: readonly string[] | undefined,
  contents: InferTensorContents__Output | undefined | null,
  raw: Buffer | undefined,
): Tensor {
  const where = `${kind} '${name}'`;
  if (!isDatatype(datatype)) throw datatypeUnknown(where, datatype ?? '');
  const decimals = shapeDecimals ?? [];
  const shape = new Array<number>(decimals.length);
  for (let d = 0; d < decimals.length; d++) {
    const dim = Number(decimals[d]);
    if (!Number.isSafeInteger(dim) || dim < 0) throw shapeInvalid(where, d, decimals[d]);
    shape[d] = dim;
  }
  const data =
    raw !== undefined
      ? tensorDataFromBytes(datatype, shape, raw, where)
      : dataFromContents(datatype, shape, elementCount(shape), contents, where, name);
  return { name, datatype, shape, data };
}

export interface GrpcEncodeOptions {
  /** Answer in raw_output_contents (when the request was raw). FP16/BF16 outputs force it regardless. */
  raw: boolean;
}

/**
 * Encodes a ModelInfer response. Raw: one raw_output_contents entry per output, in order (even
 * empty ones), as Triton does. Otherwise typed contents, unless an output is FP16 or BF16:
 * contents cannot carry those, and a message is either all raw or all contents.
 */
export function encodeGrpcInferResponse(response: InferResponse, options: GrpcEncodeOptions): ModelInferResponse {
  const raw = options.raw || response.outputs.some((o) => DATATYPE_INFO[o.datatype].grpcContents === undefined);
  const message: ModelInferResponse = {
    model_name: response.modelName,
    model_version: response.modelVersion,
    outputs: [],
  };
  if (response.id !== undefined) message.id = response.id;
  const parameters = parametersToGrpc(response.parameters);
  if (parameters !== undefined) message.parameters = parameters;
  if (raw) message.raw_output_contents = [];
  for (const output of response.outputs) {
    const tensor: NonNullable<ModelInferResponse['outputs']>[number] = {
      name: output.name,
      datatype: output.datatype,
      shape: output.shape,
    };
    const outputParameters = parametersToGrpc(output.parameters);
    if (outputParameters !== undefined) tensor.parameters = outputParameters;
    if (raw) message.raw_output_contents!.push(tensorDataToBytes(output.datatype, output.data));
    else tensor.contents = contentsFromData(output.datatype, output.data)!;
    message.outputs!.push(tensor);
  }
  return message;
}

/**
 * Encodes a ModelInfer request for a v2 gRPC server (a Sibyl worker, Triton). Raw inputs unless
 * `raw` is false and every input has a contents field.
 */
export function encodeGrpcInferRequest(request: InferRequest, options: GrpcEncodeOptions): ModelInferRequest {
  const raw = options.raw || request.inputs.some((t) => DATATYPE_INFO[t.datatype].grpcContents === undefined);
  const message: ModelInferRequest = { model_name: request.modelName, model_version: request.modelVersion ?? '', inputs: [] };
  if (request.id !== undefined) message.id = request.id;
  const parameters = parametersToGrpc(request.parameters);
  if (parameters !== undefined) message.parameters = parameters;
  if (raw) message.raw_input_contents = [];
  for (const input of request.inputs) {
    const tensor: NonNullable<ModelInferRequest['inputs']>[number] = {
      name: input.name,
      datatype: input.datatype,
      shape: input.shape,
    };
    const inputParameters = parametersToGrpc(input.parameters);
    if (inputParameters !== undefined) tensor.parameters = inputParameters;
    if (raw) message.raw_input_contents!.push(tensorDataToBytes(input.datatype, input.data));
    else tensor.contents = contentsFromData(input.datatype, input.data)!;
    message.inputs!.push(tensor);
  }
  if (request.outputs !== undefined && request.outputs.length > 0) {
    message.outputs = request.outputs.map((output) => {
      const requested: NonNullable<ModelInferRequest['outputs']>[number] = { name: output.name };
      const outputParameters = parametersToGrpc(output.parameters);
      if (outputParameters !== undefined) requested.parameters = outputParameters;
      return requested;
    });
  }
  return message;
}

/** Decodes a ModelInfer response from a v2 gRPC server, raw or typed contents. */
export function decodeGrpcInferResponse(message: ModelInferResponse__Output): InferResponse {
  const outputs = message.outputs ?? [];
  const raw = message.raw_output_contents ?? [];
  if (raw.length > 0 && raw.length !== outputs.length) throw grpcRawCount(outputs.length, raw.length);
  const response: InferResponse = {
    modelName: message.model_name ?? '',
    modelVersion: message.model_version ?? '',
    outputs: outputs.map((output, i) => {
      const name = output.name ?? '';
      if (raw.length > 0 && filledContentsField(output.contents) !== undefined) throw grpcContentsWithRaw(name);
      const tensor = decodeTensor('output', name, output.datatype, output.shape, output.contents, raw[i]);
      const outputParameters = parametersFromGrpc(output.parameters, `outputs[${i}].parameters`);
      if (outputParameters !== undefined) tensor.parameters = outputParameters;
      return tensor;
    }),
  };
  if (message.id) response.id = message.id;
  const parameters = parametersFromGrpc(message.parameters);
  if (parameters !== undefined) response.parameters = parameters;
  return response;
}
