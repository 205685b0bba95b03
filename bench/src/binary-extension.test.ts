import { describe, expect, it } from 'vitest';
import { blobToNumbers, decodeResponse, encodeBinaryRequest, HEADER_LENGTH } from './binary-extension.js';

describe('encodeBinaryRequest', () => {
  it('puts the JSON header first, its length in the header, then the blobs in input order', () => {
    const a = new Uint8Array(Float32Array.from([1, 2]).buffer);
    const b = new Uint8Array([7, 8, 9]);
    const { body, headers } = encodeBinaryRequest([
      { name: 'a', datatype: 'FP32', shape: [2], bytes: a },
      { name: 'b', datatype: 'UINT8', shape: [3], bytes: b },
    ]);
    const n = Number(headers[HEADER_LENGTH]);
    const header = JSON.parse(body.subarray(0, n).toString());
    expect(header).toEqual({
      inputs: [
        { name: 'a', shape: [2], datatype: 'FP32', parameters: { binary_data_size: 8 } },
        { name: 'b', shape: [3], datatype: 'UINT8', parameters: { binary_data_size: 3 } },
      ],
      parameters: { binary_data_output: true },
    });
    expect([...body.subarray(n)]).toEqual([...a, ...b]);
    expect(headers['content-type']).toBe('application/octet-stream');
  });
});

describe('decodeResponse', () => {
  const response = (outputs: object[], blobs: Uint8Array[]) => {
    const json = Buffer.from(JSON.stringify({ model_name: 'm', outputs }));
    return { body: Buffer.concat([json, ...blobs]), length: String(json.byteLength) };
  };

  it('splits binary and JSON outputs', () => {
    const probs = new Uint8Array(Float32Array.from([0.25, 0.75]).buffer);
    const label = new Uint8Array(BigInt64Array.from([1n]).buffer);
    const { body, length } = response(
      [
        { name: 'p', datatype: 'FP32', shape: [1, 2], parameters: { binary_data_size: 8 } },
        { name: 'j', datatype: 'INT32', shape: [1], data: [5] },
        { name: 'l', datatype: 'INT64', shape: [1], parameters: { binary_data_size: 8 } },
      ],
      [probs, label],
    );
    const out = decodeResponse(body, length);
    expect(out.map((o) => o.name)).toEqual(['p', 'j', 'l']);
    expect(blobToNumbers('FP32', out[0]!.bytes!)).toEqual([0.25, 0.75]);
    expect(out[1]!.data).toEqual([5]);
    expect(blobToNumbers('INT64', out[2]!.bytes!)).toEqual([1]);
  });

  it('reads a JSON-only response without the length header', () => {
    const body = Buffer.from(JSON.stringify({ outputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1.5] }] }));
    expect(decodeResponse(body, undefined)[0]!.data).toEqual([1.5]);
  });

  it('refuses blobs that do not add up to the body', () => {
    const { body, length } = response([{ name: 'p', datatype: 'FP32', shape: [2], parameters: { binary_data_size: 8 } }], [new Uint8Array(4)]);
    expect(() => decodeResponse(body, length)).toThrow(/runs past the body/);
    const extra = response([{ name: 'p', datatype: 'FP32', shape: [1], parameters: { binary_data_size: 4 } }], [new Uint8Array(6)]);
    expect(() => decodeResponse(extra.body, extra.length)).toThrow(/2 bytes after/);
    expect(() => decodeResponse(body, '999999')).toThrow(/bad inference-header-content-length/);
  });
});
