/**
 * The REST infer body (spec §A.5–A.8) with Triton's binary tensor data extension (spec §B).
 *
 * Request body = JSON header of `Inference-Header-Content-Length` bytes (the whole body without
 * the header), then one blob per input carrying `parameters.binary_data_size`, in `inputs` order.
 * A header length of 0 is a raw request: the body is the data of the model's only input.
 * Response body = JSON, or, when any output is binary, JSON header then blobs in `outputs` order.
 */
import { DATATYPE_INFO, isDatatype } from './datatypes.js';
import {
  binaryPastBody,
  binaryTrailing,
  datatypeUnknown,
  fieldType,
  headerLengthInvalid,
  headerLengthPastBody,
  inputDataSource,
  jsonMalformed,
  parameterType,
  shapeInvalid,
  rawSizeIndivisible,
} from './errors.js';
import { parseJson, stringifyJson } from './exact-json.js';
import { newInferRequest } from './infer-request.js';
import { quoteJson } from './json-text.js';
import type { InferRequest, InferResponse, RequestedOutput, TensorMetadata } from './messages.js';
import {
  hasKeys,
  objectAt,
  parametersAt,
  requiredArray,
  requiredString,
  type JsonObject,
} from './rest-fields.js';
import { tensorDataFromBytes, tensorDataToBytes } from './tensor-bytes.js';
import { tensorDataFromJson } from './tensor-from-json.js';
import { tensorDataToJsonText } from './tensor-to-json.js';
import type { Parameters, Tensor } from './tensor.js';
import { checkRawInput } from './validate.js';

export interface RestDecodeOptions {
  /** From the URL path. */
  modelName: string;
  /** From the URL path; undefined when the path names no version. */
  modelVersion?: string;
  /** The raw `Inference-Header-Content-Length` header value; undefined: the whole body is JSON. */
  headerLength?: string;
  /**
   * The model's single input, for a raw request (header length 0); get it with rawInputOf(metadata),
   * which also rejects models that cannot take one. Needed only when headerLength is "0".
   */
  rawInput?: TensorMetadata;
}

/**
 * True when `headerLength` (the raw Inference-Header-Content-Length value) announces a raw request,
 * for which decodeRestInferRequest needs `rawInput`. Parses as the decoder does, so "00" counts too.
 */
export function isRawRequest(headerLength: string | undefined): boolean {
  return headerLength !== undefined && /^\s*0+\s*$/.test(headerLength);
}

/** Decodes a POST .../infer body. Throws SibylError (INVALID_ARGUMENT) naming the field or tensor at fault. */
export function decodeRestInferRequest(body: Buffer, options: RestDecodeOptions): InferRequest {
  const jsonLength = options.headerLength === undefined ? body.length : headerLengthOf(options.headerLength, body.length);
  if (jsonLength === 0 && options.headerLength !== undefined) return decodeRawRequest(body, options);
  let root: unknown;
  try {
    root = parseJson(body.toString('utf8', 0, jsonLength));
  } catch (err) {
    throw jsonMalformed((err as Error).message);
  }
  const object = objectAt(root, 'body');
  const request = newInferRequest(options.modelName, options.modelVersion, []);
  const id = object['id'];
  if (id !== undefined) {
    if (typeof id !== 'string') throw fieldType('id', 'a string', id);
    request.id = id;
  }
  if (object['parameters'] !== undefined) request.parameters = parametersAt(object['parameters'], 'parameters');

  const inputs = requiredArray(object, 'inputs', '');
  let offset = jsonLength;
  for (let i = 0; i < inputs.length; i++) {
    const path = `inputs[${i}]`;
    const input = objectAt(inputs[i], path);
    const { name, datatype, shape } = decodeInputHeader(input, path);
    const where = `input '${name}'`;
    const parameters = input['parameters'] === undefined ? undefined : parametersAt(input['parameters'], `${path}.parameters`);
    const size = parameters?.['binary_data_size'];
    const data = input['data'];
    if ((size === undefined) === (data === undefined)) throw inputDataSource(where, size !== undefined);
    if (size !== undefined) {
      if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
        throw parameterType(`${path}.parameters.binary_data_size`, 'a non-negative integer', size);
      }
      if (offset + size > body.length) throw binaryPastBody(where, size, offset, body.length);
      const tensor: Tensor = {
        name,
        datatype,
        shape,
        data: tensorDataFromBytes(datatype, shape, body.subarray(offset, offset + size), where),
      };
      offset += size;
      // The size described the wire form; past the codec it would be stale.
      const rest = withoutKey(parameters!, 'binary_data_size');
      if (rest !== undefined) tensor.parameters = rest;
      request.inputs.push(tensor);
    } else {
      const tensor: Tensor = { name, datatype, shape, data: tensorDataFromJson(datatype, shape, data, where) };
      if (parameters !== undefined) tensor.parameters = parameters;
      request.inputs.push(tensor);
    }
  }
  if (offset !== body.length) throw binaryTrailing(body.length - offset);

  if (object['outputs'] !== undefined) request.outputs = decodeRequestedOutputs(object);
  return request;
}

function headerLengthOf(value: string, bodyLength: number): number {
  const text = value.trim();
  if (!/^\d+$/.test(text)) throw headerLengthInvalid(value);
  const length = Number(text);
  if (length > bodyLength) throw headerLengthPastBody(text, bodyLength);
  return length;
}

function decodeInputHeader(input: JsonObject, path: string): TensorMetadata {
  const name = requiredString(input, 'name', path);
  const datatype = requiredString(input, 'datatype', path);
  if (!isDatatype(datatype)) throw datatypeUnknown(`input '${name}'`, datatype);
  const shape = requiredArray(input, 'shape', path);
  for (let d = 0; d < shape.length; d++) {
    const dim = shape[d];
    if (typeof dim !== 'number' || !Number.isSafeInteger(dim) || dim < 0) throw shapeInvalid(`input '${name}'`, d, dim);
  }
  return { name, datatype, shape: shape as number[] };
}

function decodeRequestedOutputs(object: JsonObject): RequestedOutput[] {
  const outputs = requiredArray(object, 'outputs', '');
  const requested: RequestedOutput[] = new Array<RequestedOutput>(outputs.length);
  for (let i = 0; i < outputs.length; i++) {
    const path = `outputs[${i}]`;
    const output = objectAt(outputs[i], path);
    const entry: RequestedOutput = { name: requiredString(output, 'name', path) };
    if (output['parameters'] !== undefined) entry.parameters = parametersAt(output['parameters'], `${path}.parameters`);
    requested[i] = entry;
  }
  return requested;
}

/**
 * A raw request (spec §B.3): the body is the data of the model's single input, its shape deduced
 * from the byte size (at most one -1 dimension); a BYTES body is one un-prefixed element. Every
 * output is answered binary, which the returned request says with `binary_data_output: true`.
 */
function decodeRawRequest(body: Buffer, options: RestDecodeOptions): InferRequest {
  const input = options.rawInput;
  if (input === undefined) {
    throw new TypeError('decodeRestInferRequest: a raw request (header length 0) needs options.rawInput; see rawInputOf');
  }
  checkRawInput(input);
  const where = `raw input '${input.name}'`;
  let tensor: Tensor;
  if (input.datatype === 'BYTES') {
    tensor = { name: input.name, datatype: 'BYTES', shape: [1], data: [body] };
  } else {
    const elementBytes = DATATYPE_INFO[input.datatype].byteSize;
    let fixed = elementBytes;
    for (const dim of input.shape) if (dim !== -1) fixed *= dim;
    // The one variable dimension takes what the body holds. A body that is not a whole number of
    // rows is refused as such: naming a shape the client never sent would mislead.
    if (input.shape.includes(-1) && fixed > 0 && body.length % fixed !== 0) {
      throw rawSizeIndivisible(input.name, input.datatype, input.shape, body.length, fixed);
    }
    const variable = fixed === 0 ? 0 : body.length / fixed;
    const shape = input.shape.map((dim) => (dim === -1 ? variable : dim));
    tensor = { name: input.name, datatype: input.datatype, shape, data: tensorDataFromBytes(input.datatype, shape, body, where) };
  }
  return newInferRequest(options.modelName, options.modelVersion, [tensor], { binary_data_output: true });
}

export interface RestResponseBody {
  /**
   * The body in order: the JSON text alone (a string), or the JSON header followed by one chunk per binary
   * output. Transports write the chunks one after another; they are never concatenated here, so a
   * large binary output reaches the socket without a copy.
   */
  chunks: Array<string | Buffer>;
  /** Sum of the chunks' byte lengths (a string chunk is UTF-8): the Content-Length. */
  byteLength: number;
  contentType: 'application/json' | 'application/octet-stream';
  /** The JSON header's byte length, for `Inference-Header-Content-Length`; set iff any output is binary. */
  headerLength?: number;
}

/**
 * Encodes a response for the request it answers. An output is binary when its requested output's
 * `binary_data` says so, else when the request's `binary_data_output` does (spec §B.1). The JSON is
 * written directly, not through JSON.stringify of a response object: see tensor-to-json.ts for
 * number formatting (exact int64, NaN and ±Infinity as null).
 */
export function encodeRestInferResponse(response: InferResponse, request: InferRequest): RestResponseBody {
  const binaryDefault = request.parameters?.['binary_data_output'] === true;
  let json = `{"model_name":${quoteJson(response.modelName)},"model_version":${quoteJson(response.modelVersion)}`;
  if (request.id !== undefined) json += `,"id":${quoteJson(response.id ?? request.id)}`;
  if (response.parameters !== undefined && hasKeys(response.parameters)) {
    json += `,"parameters":${stringifyJson(response.parameters)}`;
  }
  json += ',"outputs":[';
  let blobs: Buffer[] | undefined;
  const outputs = response.outputs;
  for (let i = 0; i < outputs.length; i++) {
    const output = outputs[i]!;
    if (i > 0) json += ',';
    json += `{"name":${quoteJson(output.name)},"datatype":"${output.datatype}","shape":[${output.shape.join(',')}]`;
    const parameters = output.parameters === undefined ? undefined : withoutKey(output.parameters, 'binary_data_size');
    if (isBinary(output.name, request.outputs, binaryDefault)) {
      const bytes = tensorDataToBytes(output.datatype, output.data);
      (blobs ??= []).push(bytes);
      json += `,"parameters":${stringifyJson({ ...parameters, binary_data_size: bytes.byteLength })}}`;
    } else {
      if (parameters !== undefined) json += `,"parameters":${stringifyJson(parameters)}`;
      json += `,"data":${tensorDataToJsonText(output.datatype, output.data, `output '${output.name}'`)}}`;
    }
  }
  json += ']}';
  // A JSON-only answer stays a string: the HTTP layer writes it with the headers in one go.
  if (blobs === undefined) return { chunks: [json], byteLength: Buffer.byteLength(json), contentType: 'application/json' };
  const header = Buffer.from(json, 'utf8');
  let byteLength = header.length;
  for (const blob of blobs) byteLength += blob.length;
  return { chunks: [header, ...blobs], byteLength, contentType: 'application/octet-stream', headerLength: header.length };
}

function isBinary(name: string, requested: readonly RequestedOutput[] | undefined, binaryDefault: boolean): boolean {
  if (requested !== undefined) {
    for (const output of requested) {
      if (output.name !== name) continue;
      const binary = output.parameters?.['binary_data'];
      return typeof binary === 'boolean' ? binary : binaryDefault;
    }
  }
  return binaryDefault;
}

/** `parameters` without `key`; undefined when nothing is left. Returns `parameters` itself when it lacks `key`. */
function withoutKey(parameters: Parameters, key: string): Parameters | undefined {
  if (!Object.hasOwn(parameters, key)) return hasKeys(parameters) ? parameters : undefined;
  const rest: Parameters = {};
  for (const k in parameters) if (k !== key) rest[k] = parameters[k]!;
  return hasKeys(rest) ? rest : undefined;
}
