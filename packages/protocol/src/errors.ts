/**
 * The protocol's coded errors: everything the codecs and request validation can reject.
 *
 * All are INVALID_ARGUMENT (HTTP 400, gRPC INVALID_ARGUMENT): each one is a fault in what the client
 * sent. `where` arguments name the tensor as clients see it (`input 'x'`, `output 'y'`) or the
 * field path (`inputs[1].shape`); messages say which element and why.
 */
import { DATATYPES } from './datatypes.js';
import { describeValue, formatShape } from './describe-value.js';
import { defineError } from './sibyl-error.js';

// ---- JSON ---------------------------------------------------------------------------------------

export const jsonMalformed = defineError(
  'SIBYL_JSON_MALFORMED',
  'INVALID_ARGUMENT',
  'The JSON body (or the JSON header of a binary request) does not parse.',
  (detail: string) => `malformed JSON: ${detail}`,
);

export const jsonTooDeep = defineError(
  'SIBYL_JSON_TOO_DEEP',
  'INVALID_ARGUMENT',
  'JSON nesting (objects, arrays or nested tensor data) is deeper than 100 levels.',
  (where: string, limit: number) => `${where}: JSON nesting depth exceeds maximum allowed limit (${limit})`,
);

// ---- request structure --------------------------------------------------------------------------

export const fieldMissing = defineError(
  'SIBYL_REQUEST_FIELD_MISSING',
  'INVALID_ARGUMENT',
  'A required field of the request is absent.',
  (path: string) => `missing required field '${path}'`,
);

export const fieldType = defineError(
  'SIBYL_REQUEST_FIELD_TYPE',
  'INVALID_ARGUMENT',
  'A field of the request has the wrong JSON type.',
  (path: string, expected: string, got: unknown) => `field '${path}': expected ${expected}, got ${describeValue(got)}`,
);

// ---- tensors ------------------------------------------------------------------------------------

export const datatypeUnknown = defineError(
  'SIBYL_TENSOR_DATATYPE_UNKNOWN',
  'INVALID_ARGUMENT',
  'A tensor names a datatype that is not one of the 14 v2 datatypes.',
  (where: string, datatype: unknown) =>
    `${where}: unknown datatype ${typeof datatype === 'string' ? `'${datatype}'` : describeValue(datatype)}; expected one of ${DATATYPES.join(', ')}`,
);

export const shapeInvalid = defineError(
  'SIBYL_TENSOR_SHAPE_INVALID',
  'INVALID_ARGUMENT',
  'A tensor shape has a dimension that is not a non-negative integer.',
  (where: string, index: number, dim: unknown) =>
    `${where}: shape[${index}] must be a non-negative integer, got ${describeValue(dim)}`,
);

export const elementCountMismatch = defineError(
  'SIBYL_TENSOR_ELEMENT_COUNT',
  'INVALID_ARGUMENT',
  'The number of data elements of a tensor differs from the product of its shape.',
  (where: string, shape: readonly number[], expected: number, got: number) =>
    `${where}: expected ${expected} elements for shape ${formatShape(shape)}, got ${got}`,
);

export const tensorDataArray = defineError(
  'SIBYL_TENSOR_DATA_ARRAY',
  'INVALID_ARGUMENT',
  'A tensor built in-process holds its data in the wrong array type for its datatype.',
  (where: string, datatype: string, expected: string, got: string) =>
    `${where}: ${datatype} data must be held in a ${expected}, got ${got}`,
);

export const dataNotArray = defineError(
  'SIBYL_TENSOR_DATA_NOT_ARRAY',
  'INVALID_ARGUMENT',
  "A tensor's JSON 'data' field is not an array.",
  (where: string, got: unknown) => `${where}: 'data' must be a JSON array, got ${describeValue(got)}`,
);

export const valueType = defineError(
  'SIBYL_TENSOR_VALUE_TYPE',
  'INVALID_ARGUMENT',
  'A JSON tensor element has the wrong type for the datatype (e.g. a string in FP32 data, a number in BOOL data).',
  (where: string, datatype: string, index: number, expected: string, got: unknown) =>
    `${where}: element ${index} of ${datatype} data must be ${expected}, got ${describeValue(got)}`,
);

export const valueRange = defineError(
  'SIBYL_TENSOR_VALUE_RANGE',
  'INVALID_ARGUMENT',
  'An integer tensor element lies outside the range of its datatype.',
  (where: string, datatype: string, index: number, value: number | bigint) =>
    `${where}: element ${index} (${String(value)}) is out of range for ${datatype}`,
);

export const byteSizeMismatch = defineError(
  'SIBYL_TENSOR_BYTE_SIZE',
  'INVALID_ARGUMENT',
  'The binary data of a fixed-size tensor is not exactly shape × element size bytes long.',
  (where: string, datatype: string, shape: readonly number[], expected: number, got: number) =>
    `${where}: expected ${expected} bytes for ${datatype} shape ${formatShape(shape)}, got ${got}`,
);

export const bytesElementOverrun = defineError(
  'SIBYL_TENSOR_BYTES_OVERRUN',
  'INVALID_ARGUMENT',
  'A BYTES element (its 4-byte length prefix or its content) runs past the end of its binary data.',
  (where: string, index: number, offset: number, need: number, available: number) =>
    `${where}: BYTES element ${index} at byte ${offset} needs ${need} bytes but only ${available} remain`,
);

export const bytesTrailing = defineError(
  'SIBYL_TENSOR_BYTES_TRAILING',
  'INVALID_ARGUMENT',
  'Binary BYTES data holds more bytes than its shape has elements.',
  (where: string, elements: number, trailing: number) =>
    `${where}: ${trailing} bytes remain after the ${elements} BYTES elements of its shape`,
);

export const bytesNotUtf8 = defineError(
  'SIBYL_TENSOR_BYTES_NOT_UTF8',
  'INVALID_ARGUMENT',
  'A BYTES element is not valid UTF-8 and cannot be written as a JSON string; ask for the tensor as binary data.',
  (where: string, index: number) =>
    `${where}: BYTES element ${index} is not valid UTF-8 and cannot be sent as JSON; request it with binary_data: true`,
);

// ---- REST binary tensor data extension ----------------------------------------------------------

export const headerLengthInvalid = defineError(
  'SIBYL_BINARY_HEADER_LENGTH_INVALID',
  'INVALID_ARGUMENT',
  'The Inference-Header-Content-Length header is not a decimal integer.',
  (value: string) => `Inference-Header-Content-Length '${value}' is not a decimal integer`,
);

export const headerLengthPastBody = defineError(
  'SIBYL_BINARY_HEADER_LENGTH_PAST_BODY',
  'INVALID_ARGUMENT',
  'The Inference-Header-Content-Length header is larger than the request body.',
  (headerLength: string, bodyLength: number) =>
    `Inference-Header-Content-Length ${headerLength} exceeds the body length ${bodyLength}`,
);

export const binaryPastBody = defineError(
  'SIBYL_BINARY_DATA_PAST_BODY',
  'INVALID_ARGUMENT',
  "An input's binary_data_size runs past the end of the request body.",
  (where: string, size: number, offset: number, bodyLength: number) =>
    `${where}: binary_data_size ${size} at body offset ${offset} runs past the end of the ${bodyLength}-byte body`,
);

export const binaryTrailing = defineError(
  'SIBYL_BINARY_TRAILING_BYTES',
  'INVALID_ARGUMENT',
  'The request body holds bytes after the JSON header that no input claims with binary_data_size.',
  (trailing: number) => `${trailing} bytes at the end of the body belong to no input's binary_data_size`,
);

export const inputDataSource = defineError(
  'SIBYL_BINARY_INPUT_DATA_SOURCE',
  'INVALID_ARGUMENT',
  "An input sets both or neither of 'data' and parameters.binary_data_size.",
  (where: string, both: boolean) =>
    `${where}: must set exactly one of 'data' and 'binary_data_size' in 'parameters', but ${both ? "sets both" : "sets neither"}`,
);

// ---- raw binary requests (Inference-Header-Content-Length: 0) ------------------------------------

export const rawInputCount = defineError(
  'SIBYL_RAW_INPUT_COUNT',
  'INVALID_ARGUMENT',
  'A raw binary request (Inference-Header-Content-Length: 0) was sent to a model that does not have exactly one input.',
  (model: string, inputs: number) =>
    `raw request must be for a model with exactly 1 input, but model '${model}' has ${inputs} inputs`,
);

export const rawVariableDims = defineError(
  'SIBYL_RAW_VARIABLE_DIMS',
  'INVALID_ARGUMENT',
  "A raw binary request's input shape has more than one variable-size dimension, so it cannot be deduced.",
  (name: string, shape: readonly number[]) =>
    `The shape of the raw input '${name}' can not be deduced because there are more than one variable-sized dimension in ${formatShape(shape)}`,
);

export const rawSizeIndivisible = defineError(
  'SIBYL_RAW_SIZE_INDIVISIBLE',
  'INVALID_ARGUMENT',
  "A raw binary request's body is not a whole number of the input's rows, so its variable dimension cannot be deduced.",
  (name: string, datatype: string, shape: readonly number[], bodyBytes: number, rowBytes: number) =>
    `The shape of the raw input '${name}' (${datatype} ${formatShape(shape)}) can not be deduced from a ${bodyBytes}-byte body: it is not a multiple of ${rowBytes} bytes`,
);

export const rawBytesShape = defineError(
  'SIBYL_RAW_BYTES_SHAPE',
  'INVALID_ARGUMENT',
  'A raw binary request is for a BYTES input whose model shape is not [1].',
  (name: string, shape: readonly number[]) =>
    `For BYTE datatype raw input '${name}', the model must have input shape [1], not ${formatShape(shape)}`,
);

// ---- gRPC ---------------------------------------------------------------------------------------

export const grpcContentsWithRaw = defineError(
  'SIBYL_GRPC_CONTENTS_WITH_RAW',
  'INVALID_ARGUMENT',
  'A gRPC request uses raw_input_contents and also sets contents on an input.',
  (input: string) => `contents field must not be specified when using raw_input_contents for input '${input}'`,
);

export const grpcRawCount = defineError(
  'SIBYL_GRPC_RAW_COUNT',
  'INVALID_ARGUMENT',
  'A gRPC request has a different number of raw_input_contents entries than inputs.',
  (inputs: number, raw: number) => `raw_input_contents has ${raw} entries for ${inputs} inputs; it needs one per input`,
);

export const grpcNoData = defineError(
  'SIBYL_GRPC_INPUT_NO_DATA',
  'INVALID_ARGUMENT',
  'A gRPC input with elements carries neither contents nor raw_input_contents.',
  (input: string) => `unable to find data for input '${input}': it has no contents and the request has no raw_input_contents`,
);

export const grpcHalfInContents = defineError(
  'SIBYL_GRPC_HALF_IN_CONTENTS',
  'INVALID_ARGUMENT',
  'FP16 or BF16 data was sent in typed contents; these datatypes travel only in raw_input_contents.',
  (where: string, datatype: string) =>
    `${where}: ${datatype} data must be sent in raw_input_contents; InferTensorContents has no field for it`,
);

export const grpcContentsField = defineError(
  'SIBYL_GRPC_CONTENTS_FIELD',
  'INVALID_ARGUMENT',
  'A gRPC input carries its data in a contents field that does not belong to its datatype.',
  (where: string, datatype: string, expected: string, got: string) =>
    `${where}: ${datatype} data belongs in contents.${expected}, got contents.${got}`,
);

// ---- validation against the model ---------------------------------------------------------------

export const inputUnknown = defineError(
  'SIBYL_INPUT_UNKNOWN',
  'INVALID_ARGUMENT',
  'The request has an input the model does not declare.',
  (model: string, input: string, known: readonly string[]) =>
    `unexpected input '${input}' for model '${model}'; its inputs are ${known.map((n) => `'${n}'`).join(', ') || 'none'}`,
);

export const inputMissing = defineError(
  'SIBYL_INPUT_MISSING',
  'INVALID_ARGUMENT',
  'The request lacks an input the model needs.',
  (model: string, input: string) => `model '${model}' expects input '${input}', which the request does not have`,
);

export const inputDuplicate = defineError(
  'SIBYL_INPUT_DUPLICATE',
  'INVALID_ARGUMENT',
  'The request names the same input twice.',
  (input: string) => `input '${input}' appears more than once in the request`,
);

export const outputDuplicate = defineError(
  'SIBYL_OUTPUT_DUPLICATE',
  'INVALID_ARGUMENT',
  'The request asks for the same output twice.',
  (output: string) => `output '${output}' already exists in request`,
);

export const outputUnknown = defineError(
  'SIBYL_OUTPUT_UNKNOWN',
  'INVALID_ARGUMENT',
  'The request asks for an output the model does not declare.',
  (model: string, output: string, known: readonly string[]) =>
    `unexpected requested output '${output}' for model '${model}'; its outputs are ${known.map((n) => `'${n}'`).join(', ') || 'none'}`,
);

export const datatypeMismatch = defineError(
  'SIBYL_INPUT_DATATYPE_MISMATCH',
  'INVALID_ARGUMENT',
  "An input's datatype differs from the one the model declares.",
  (input: string, expected: string, got: string) => `input '${input}': model expects datatype ${expected}, got ${got}`,
);

export const shapeMismatch = defineError(
  'SIBYL_INPUT_SHAPE_MISMATCH',
  'INVALID_ARGUMENT',
  "An input's shape does not match the model's (rank, or a fixed dimension; -1 matches any size).",
  (input: string, expected: readonly number[], got: readonly number[], why: string) =>
    `input '${input}': shape ${formatShape(got)} does not match model shape ${formatShape(expected)}: ${why}`,
);

// ---- parameters ---------------------------------------------------------------------------------

export const parameterReserved = defineError(
  'SIBYL_PARAMETER_RESERVED',
  'INVALID_ARGUMENT',
  "A request parameter key starts with 'triton_', which is reserved.",
  (key: string) => `parameter '${key}': parameter keys starting with 'triton_' are reserved for Triton usage and should not be specified`,
);

export const parameterType = defineError(
  'SIBYL_PARAMETER_TYPE',
  'INVALID_ARGUMENT',
  'A parameter the protocol defines (binary_data, binary_data_output, binary_data_size) has the wrong type.',
  (path: string, expected: string, got: unknown) => `parameter '${path}': expected ${expected}, got ${describeValue(got)}`,
);
