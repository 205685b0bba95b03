import { describe, expect, it } from 'vitest';
import type { InferRequest, InferResponse } from './messages.js';
import { decodeRestInferRequest, encodeRestInferResponse } from './rest-codec.js';
import { decodeRestInferResponse, encodeRestInferRequest } from './rest-client-codec.js';
import { SibylError } from './sibyl-error.js';
import type { Tensor } from './tensor.js';

const utf8 = (text: string) => new Uint8Array(Buffer.from(text));

/** One tensor of every datatype, with the values that break careless codecs. */
function everyDatatype(): Tensor[] {
  return [
    { name: 'bool', datatype: 'BOOL', shape: [3], data: new Uint8Array([1, 0, 1]) },
    { name: 'uint8', datatype: 'UINT8', shape: [2], data: new Uint8Array([0, 255]) },
    { name: 'uint16', datatype: 'UINT16', shape: [2], data: new Uint16Array([0, 65535]) },
    { name: 'uint32', datatype: 'UINT32', shape: [2], data: new Uint32Array([0, 4294967295]) },
    { name: 'uint64', datatype: 'UINT64', shape: [2], data: new BigUint64Array([0n, 2n ** 64n - 1n]) },
    { name: 'int8', datatype: 'INT8', shape: [2], data: new Int8Array([-128, 127]) },
    { name: 'int16', datatype: 'INT16', shape: [2], data: new Int16Array([-32768, 32767]) },
    { name: 'int32', datatype: 'INT32', shape: [2], data: new Int32Array([-(2 ** 31), 2 ** 31 - 1]) },
    { name: 'int64', datatype: 'INT64', shape: [3], data: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, 9007199254740993n]) },
    // FP16 and BF16 as bit patterns: a NaN payload, -0, +Inf, the smallest subnormal.
    { name: 'fp16', datatype: 'FP16', shape: [4], data: new Uint16Array([0x7e01, 0x8000, 0x7c00, 0x0001]) },
    { name: 'bf16', datatype: 'BF16', shape: [2], data: new Uint16Array([0x7fc1, 0x3f80]) },
    { name: 'fp32', datatype: 'FP32', shape: [2, 2], data: new Float32Array([0.1, -0, Number.NaN, 3.4e38]) },
    { name: 'fp64', datatype: 'FP64', shape: [2], data: new Float64Array([Number.MIN_VALUE, -Infinity]) },
    { name: 'bytes', datatype: 'BYTES', shape: [3], data: [utf8('héllo'), new Uint8Array(0), new Uint8Array([0xff, 0x00, 0xfe])] },
    { name: 'empty', datatype: 'FP32', shape: [0, 4], data: new Float32Array(0) },
    { name: 'empty_bytes', datatype: 'BYTES', shape: [0], data: [] },
  ];
}

/** Bytes of each tensor's data, so NaN payloads and -0 compare exactly. */
function bits(tensor: Tensor): unknown {
  const data = tensor.data;
  return Array.isArray(data) ? data.map((e) => Buffer.from(e).toString('hex')) : Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('hex');
}

function expectSameTensors(actual: Tensor[], expected: Tensor[]): void {
  expect(actual.map((t) => [t.name, t.datatype, t.shape, t.data.constructor.name, bits(t)])).toEqual(
    expected.map((t) => [t.name, t.datatype, t.shape, t.data.constructor.name, bits(t)]),
  );
}

const join = (chunks: ReadonlyArray<string | Buffer>) => Buffer.concat(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)));

describe('encodeRestInferRequest', () => {
  it("is decoded by the server's decoder to the same tensors, every datatype exact", () => {
    const request: InferRequest = { modelName: 'm', id: 'req-1', parameters: { priority: 2, big: 2n ** 60n + 1n }, inputs: everyDatatype() };
    const body = encodeRestInferRequest(request);
    const joined = join(body.chunks);
    expect(joined.length).toBe(body.byteLength);
    const decoded = decodeRestInferRequest(joined, { modelName: 'm', headerLength: String(body.headerLength) });
    expectSameTensors(decoded.inputs, request.inputs);
    expect(decoded.id).toBe('req-1');
    expect(decoded.parameters).toEqual({ priority: 2, big: 2n ** 60n + 1n, binary_data_output: true });
  });

  it('sends fixed-size tensors as views of their memory, not copies', () => {
    const data = new Float32Array(1024);
    const body = encodeRestInferRequest({ modelName: 'm', inputs: [{ name: 'x', datatype: 'FP32', shape: [1024], data }] });
    expect(body.chunks).toHaveLength(2);
    expect(body.chunks[1]!.buffer).toBe(data.buffer);
  });

  it('asks for every requested output in binary, over a binary_data: false it was given', () => {
    const body = encodeRestInferRequest({
      modelName: 'm',
      inputs: [],
      outputs: [{ name: 'a', parameters: { binary_data: false, classification: 2 } }, { name: 'b' }],
    });
    const header = JSON.parse(body.chunks[0]!.toString()) as { outputs: unknown };
    expect(header.outputs).toEqual([
      { name: 'a', parameters: { binary_data: true, classification: 2 } },
      { name: 'b', parameters: { binary_data: true } },
    ]);
  });
});

describe('decodeRestInferResponse', () => {
  const response: InferResponse = { modelName: 'm', modelVersion: '3', id: 'r', parameters: { n: 1 }, outputs: everyDatatype() };

  it("decodes the server's binary answer to the same tensors, every datatype exact", () => {
    const encoded = encodeRestInferResponse(response, { modelName: 'm', id: 'r', inputs: [], parameters: { binary_data_output: true } });
    const decoded = decodeRestInferResponse(join(encoded.chunks), encoded.headerLength);
    expect(decoded).toMatchObject({ modelName: 'm', modelVersion: '3', id: 'r', parameters: { n: 1 } });
    expectSameTensors(decoded.outputs, response.outputs);
    for (const output of decoded.outputs) expect(output.parameters).toBeUndefined();
  });

  it('decodes a JSON answer too (a server that ignored binary_data_output)', () => {
    const jsonable = response.outputs.filter((t) => !['FP16', 'BF16', 'BYTES', 'FP32', 'FP64'].includes(t.datatype));
    const encoded = encodeRestInferResponse({ ...response, outputs: jsonable }, { modelName: 'm', id: 'r', inputs: [] });
    expect(encoded.headerLength).toBeUndefined();
    expectSameTensors(decodeRestInferResponse(join(encoded.chunks)).outputs, jsonable);
  });

  it('returns views of an aligned body', () => {
    const encoded = encodeRestInferResponse(
      { modelName: 'm', modelVersion: '1', outputs: [{ name: 'y', datatype: 'FP64', shape: [2], data: new Float64Array([1, 2]) }] },
      { modelName: 'm', inputs: [], parameters: { binary_data_output: true } },
    );
    const header = encoded.headerLength!;
    const space = new Uint8Array(header + 16 + 8);
    const offset = (8 - (header % 8)) % 8;
    const body = space.subarray(offset, offset + header + 16);
    body.set(join(encoded.chunks));
    const data = decodeRestInferResponse(body, header).outputs[0]!.data as Float64Array;
    expect(data.buffer).toBe(space.buffer);
    expect([...data]).toEqual([1, 2]);
  });

  it.each([
    ['bytes past the body', '{"model_name":"m","outputs":[{"name":"y","datatype":"INT8","shape":[4],"parameters":{"binary_data_size":4}}]}', 2, 'SIBYL_BINARY_DATA_PAST_BODY'],
    ['trailing bytes', '{"model_name":"m","outputs":[]}', 3, 'SIBYL_BINARY_TRAILING_BYTES'],
    ['a wrong blob size', '{"model_name":"m","outputs":[{"name":"y","datatype":"INT32","shape":[1],"parameters":{"binary_data_size":3}}]}', 3, 'SIBYL_TENSOR_BYTE_SIZE'],
    ['no data at all', '{"model_name":"m","outputs":[{"name":"y","datatype":"INT32","shape":[1]}]}', 0, 'SIBYL_REQUEST_FIELD_MISSING'],
    ['malformed JSON', '{"model_name":', 0, 'SIBYL_JSON_MALFORMED'],
  ])('rejects %s', (_what, header, extra, code) => {
    const body = Buffer.concat([Buffer.from(header), Buffer.alloc(extra)]);
    let caught: unknown;
    try {
      decodeRestInferResponse(body, Buffer.byteLength(header));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(SibylError);
    expect((caught as SibylError).code).toBe(code);
  });

  it('rejects a header length past the body', () => {
    expect(() => decodeRestInferResponse(Buffer.from('{}'), 3)).toThrow(expect.objectContaining({ code: 'SIBYL_BINARY_HEADER_LENGTH_PAST_BODY' }));
  });
});
