/**
 * The client side of the REST infer body (spec §B), for backends calling a v2 HTTP server (a Sibyl
 * worker, Triton): the directions rest-codec.ts does not cover.
 *
 * A request always goes in the binary tensor data extension, every input as a blob, and asks for every
 * output as a blob (`binary_data_output: true`, and `binary_data: true` on each requested output, since
 * an output-level setting wins over the request-level one, spec §B.1). No tensor crosses as a JSON
 * array either way; a JSON `data` output (a server that ignores the request) is still decoded.
 */
import { isDatatype } from './datatypes.js';
import {
  binaryPastBody,
  binaryTrailing,
  datatypeUnknown,
  fieldMissing,
  headerLengthInvalid,
  headerLengthPastBody,
  jsonMalformed,
  parameterType,
  shapeInvalid,
} from './errors.js';
import { parseJson, stringifyJson } from './exact-json.js';
import { quoteJson } from './json-text.js';
import type { InferRequest, InferResponse } from './messages.js';
import { objectAt, parametersAt, requiredArray, requiredString } from './rest-fields.js';
import { tensorDataFromBytes, tensorDataToBytes } from './tensor-bytes.js';
import { tensorDataFromJson } from './tensor-from-json.js';
import type { Parameters, Tensor } from './tensor.js';

export interface RestRequestBody {
  /**
   * The JSON header, then one blob per input in `inputs` order. Blobs of fixed-size tensors are views
   * of the tensors' memory: write them one after another, never joined, so a large tensor reaches the
   * socket without a copy. (BYTES blobs are new buffers: the length prefixes force it.)
   */
  chunks: Buffer[];
  /** Sum of the chunks' lengths: the Content-Length. */
  byteLength: number;
  /** The JSON header's length: the `Inference-Header-Content-Length`. */
  headerLength: number;
}

/** Encodes a request in the binary extension, every input binary and every output asked for binary. */
export function encodeRestInferRequest(request: InferRequest): RestRequestBody {
  let json = '{';
  if (request.id !== undefined) json += `"id":${quoteJson(request.id)},`;
  json += `"parameters":${stringifyJson({ ...request.parameters, binary_data_output: true })},"inputs":[`;
  const chunks: Buffer[] = [Buffer.alloc(0)];
  let byteLength = 0;
  const inputs = request.inputs;
  for (let i = 0; i < inputs.length; i++) {
    const input = inputs[i]!;
    const blob = tensorDataToBytes(input.datatype, input.data);
    chunks.push(blob);
    byteLength += blob.byteLength;
    if (i > 0) json += ',';
    json += `{"name":${quoteJson(input.name)},"datatype":"${input.datatype}","shape":[${input.shape.join(',')}]`;
    json += `,"parameters":${stringifyJson({ ...input.parameters, binary_data_size: blob.byteLength })}}`;
  }
  json += ']';
  const outputs = request.outputs;
  if (outputs !== undefined && outputs.length > 0) {
    json += ',"outputs":[';
    for (let i = 0; i < outputs.length; i++) {
      const output = outputs[i]!;
      if (i > 0) json += ',';
      json += `{"name":${quoteJson(output.name)},"parameters":${stringifyJson({ ...output.parameters, binary_data: true })}}`;
    }
    json += ']';
  }
  json += '}';
  const header = Buffer.from(json, 'utf8');
  chunks[0] = header;
  return { chunks, byteLength: byteLength + header.length, headerLength: header.length };
}

/**
 * Decodes an infer response body: JSON alone (`headerLength` undefined), or a JSON header of
 * `headerLength` bytes and then one blob per output carrying `parameters.binary_data_size`. Binary
 * outputs are views of `body` where aligned (see tensorDataFromBytes). Throws SibylError
 * (INVALID_ARGUMENT) naming the field or output at fault; a caller that did not write the body should
 * report it as the server's fault.
 */
export function decodeRestInferResponse(body: Uint8Array, headerLength?: number): InferResponse {
  const jsonLength = headerLength ?? body.byteLength;
  if (!Number.isSafeInteger(jsonLength) || jsonLength < 0) throw headerLengthInvalid(String(headerLength));
  if (jsonLength > body.byteLength) throw headerLengthPastBody(String(jsonLength), body.byteLength);
  let root: unknown;
  try {
    root = parseJson(Buffer.from(body.buffer, body.byteOffset, jsonLength).toString('utf8'));
  } catch (err) {
    throw jsonMalformed((err as Error).message);
  }
  const object = objectAt(root, 'body');
  const response: InferResponse = {
    modelName: requiredString(object, 'model_name', ''),
    modelVersion: typeof object['model_version'] === 'string' ? object['model_version'] : '',
    outputs: [],
  };
  const id = object['id'];
  if (typeof id === 'string') response.id = id;
  if (object['parameters'] !== undefined) response.parameters = parametersAt(object['parameters'], 'parameters');
  const outputs = requiredArray(object, 'outputs', '');
  let offset = jsonLength;
  for (let i = 0; i < outputs.length; i++) {
    const path = `outputs[${i}]`;
    const output = objectAt(outputs[i], path);
    const name = requiredString(output, 'name', path);
    const where = `output '${name}'`;
    const datatype = requiredString(output, 'datatype', path);
    if (!isDatatype(datatype)) throw datatypeUnknown(where, datatype);
    const shape = requiredArray(output, 'shape', path);
    for (let d = 0; d < shape.length; d++) {
      const dim = shape[d];
      if (typeof dim !== 'number' || !Number.isSafeInteger(dim) || dim < 0) throw shapeInvalid(where, d, dim);
    }
    const parameters = output['parameters'] === undefined ? undefined : parametersAt(output['parameters'], `${path}.parameters`);
    const size = parameters?.['binary_data_size'];
    let tensor: Tensor;
    if (size !== undefined) {
      if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
        throw parameterType(`${path}.parameters.binary_data_size`, 'a non-negative integer', size);
      }
      if (offset + size > body.byteLength) throw binaryPastBody(where, size, offset, body.byteLength);
      const data = tensorDataFromBytes(datatype, shape as number[], body.subarray(offset, offset + size), where);
      offset += size;
      tensor = { name, datatype, shape: shape as number[], data };
      const rest = withoutBinarySize(parameters!);
      if (rest !== undefined) tensor.parameters = rest;
    } else {
      if (output['data'] === undefined) throw fieldMissing(`${path}.data`);
      tensor = { name, datatype, shape: shape as number[], data: tensorDataFromJson(datatype, shape as number[], output['data'], where) };
      if (parameters !== undefined) tensor.parameters = parameters;
    }
    response.outputs.push(tensor);
  }
  if (offset !== body.byteLength) throw binaryTrailing(body.byteLength - offset);
  return response;
}

/** The parameters without `binary_data_size` (it described the wire form); undefined when nothing is left. */
function withoutBinarySize(parameters: Parameters): Parameters | undefined {
  let rest: Parameters | undefined;
  for (const key in parameters) if (key !== 'binary_data_size') (rest ??= {})[key] = parameters[key]!;
  return rest;
}
