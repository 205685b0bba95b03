/**
 * Checks a decoded request against the model it is for, before it reaches a runtime.
 *
 * Codecs check what a wire format can get wrong (JSON types, byte sizes); this checks what only the
 * model's metadata can tell (names, datatypes, shapes), and what an in-process caller could build
 * wrong (data length vs shape). It runs on every request: small requests are checked with linear
 * scans and no allocation; names are indexed only for models with many inputs.
 */
import { DATATYPE_INFO, isDatatype } from './datatypes.js';
import {
  datatypeMismatch,
  datatypeUnknown,
  elementCountMismatch,
  inputDuplicate,
  inputMissing,
  inputUnknown,
  outputDuplicate,
  outputUnknown,
  parameterReserved,
  parameterType,
  rawBytesShape,
  rawInputCount,
  rawVariableDims,
  shapeInvalid,
  shapeMismatch,
  tensorDataArray,
} from './errors.js';
import type { InferRequest, ModelMetadata, RequestedOutput, TensorMetadata } from './messages.js';
import type { Parameters, Tensor } from './tensor.js';

/** Past this many tensors, name lookups go through a Map rather than a scan. */
const SCAN_LIMIT = 16;

/** Throws the precise SibylError for the first thing wrong with `request` for this model. */
export function validateInferRequest(request: InferRequest, metadata: ModelMetadata): void {
  if (request.parameters !== undefined) checkRequestParameters(request.parameters);
  const inputs = request.inputs;
  const declared = metadata.inputs;
  const index = declared.length > SCAN_LIMIT ? indexByName(declared) : undefined;
  const seen = inputs.length > SCAN_LIMIT ? new Set<string>() : undefined;
  for (let i = 0; i < inputs.length; i++) {
    const input = inputs[i]!;
    if (seen !== undefined) {
      if (seen.has(input.name)) throw inputDuplicate(input.name);
      seen.add(input.name);
    } else {
      for (let j = 0; j < i; j++) if (inputs[j]!.name === input.name) throw inputDuplicate(input.name);
    }
    const meta = index !== undefined ? index.get(input.name) : findByName(declared, input.name);
    if (meta === undefined) throw inputUnknown(metadata.name, input.name, declared.map((m) => m.name));
    checkInput(input, meta);
  }
  // Every input is declared and none repeats, so fewer inputs than declared means one is missing.
  if (inputs.length < declared.length) {
    for (const meta of declared) {
      if (!inputs.some((t) => t.name === meta.name)) throw inputMissing(metadata.name, meta.name);
    }
  }
  if (request.outputs !== undefined && request.outputs.length > 0) checkOutputs(request.outputs, metadata);
}

function checkInput(input: Tensor, meta: TensorMetadata): void {
  if (!isDatatype(input.datatype)) throw datatypeUnknown(label(input), input.datatype);
  if (input.datatype !== meta.datatype) throw datatypeMismatch(input.name, meta.datatype, input.datatype);
  const shape = input.shape;
  const expected = meta.shape;
  let count = 1;
  for (let d = 0; d < shape.length; d++) {
    const dim = shape[d]!;
    if (!Number.isSafeInteger(dim) || dim < 0) throw shapeInvalid(label(input), d, dim);
    count *= dim;
  }
  if (shape.length !== expected.length) {
    throw shapeMismatch(input.name, expected, shape, `expected rank ${expected.length}, got ${shape.length}`);
  }
  for (let d = 0; d < shape.length; d++) {
    const want = expected[d]!;
    if (want !== -1 && want !== shape[d]) {
      throw shapeMismatch(input.name, expected, shape, `dimension ${d} must be ${want}, got ${shape[d]}`);
    }
  }
  const data = input.data;
  const info = DATATYPE_INFO[input.datatype];
  if (info.array === undefined) {
    if (!Array.isArray(data)) throw tensorDataArray(label(input), input.datatype, 'array of Uint8Array', arrayName(data));
  } else if (!(data instanceof info.array)) {
    throw tensorDataArray(label(input), input.datatype, info.array.name, arrayName(data));
  }
  if (data.length !== count) throw elementCountMismatch(label(input), shape, count, data.length);
}

function checkOutputs(outputs: readonly RequestedOutput[], metadata: ModelMetadata): void {
  const declared = metadata.outputs;
  const index = declared.length > SCAN_LIMIT ? indexByName(declared) : undefined;
  const seen = outputs.length > SCAN_LIMIT ? new Set<string>() : undefined;
  for (let i = 0; i < outputs.length; i++) {
    const output = outputs[i]!;
    if (seen !== undefined) {
      if (seen.has(output.name)) throw outputDuplicate(output.name);
      seen.add(output.name);
    } else {
      for (let j = 0; j < i; j++) if (outputs[j]!.name === output.name) throw outputDuplicate(output.name);
    }
    const known = index !== undefined ? index.has(output.name) : findByName(declared, output.name) !== undefined;
    if (!known) throw outputUnknown(metadata.name, output.name, declared.map((m) => m.name));
    const binary = output.parameters?.['binary_data'];
    if (binary !== undefined && typeof binary !== 'boolean') {
      throw parameterType(`outputs[${i}].parameters.binary_data`, 'a boolean', binary);
    }
  }
}

/** Request-level parameters: Triton's reserved prefix, and the one the binary extension defines. */
export function checkRequestParameters(parameters: Parameters): void {
  for (const key in parameters) {
    if (key.startsWith('triton_')) throw parameterReserved(key);
  }
  const binary = parameters['binary_data_output'];
  if (binary !== undefined && typeof binary !== 'boolean') {
    throw parameterType('parameters.binary_data_output', 'a boolean', binary);
  }
}

/** How errors name the tensor; built only when failing, so a valid request allocates nothing here. */
function label(input: Tensor): string {
  return `input '${input.name}'`;
}

function findByName(list: readonly TensorMetadata[], name: string): TensorMetadata | undefined {
  for (const meta of list) if (meta.name === name) return meta;
  return undefined;
}

function indexByName(list: readonly TensorMetadata[]): Map<string, TensorMetadata> {
  const map = new Map<string, TensorMetadata>();
  for (const meta of list) map.set(meta.name, meta);
  return map;
}

function arrayName(data: unknown): string {
  if (data === null || typeof data !== 'object') return typeof data;
  return Array.isArray(data) ? 'Array' : (data.constructor?.name ?? 'object');
}

/**
 * The single input a raw binary request (Inference-Header-Content-Length: 0) feeds, checked as
 * Triton does: the model has exactly one input, with at most one variable dimension, and a BYTES
 * input has shape [1]. The gateway passes the result to decodeRestInferRequest as `rawInput`.
 */
export function rawInputOf(metadata: ModelMetadata): TensorMetadata {
  if (metadata.inputs.length !== 1) throw rawInputCount(metadata.name, metadata.inputs.length);
  const input = metadata.inputs[0]!;
  checkRawInput(input);
  return input;
}

/** The per-input half of rawInputOf, for callers that already hold the input's metadata. */
export function checkRawInput(input: TensorMetadata): void {
  if (input.datatype === 'BYTES') {
    // The body is one un-prefixed element, so its shape cannot be deduced from its size: it must be fixed.
    if (input.shape.length !== 1 || input.shape[0] !== 1) throw rawBytesShape(input.name, input.shape);
    return;
  }
  let variable = 0;
  for (const dim of input.shape) if (dim === -1) variable++;
  if (variable > 1) throw rawVariableDims(input.name, input.shape);
}
