/** The response half of the REST codec; rest-codec.test.ts covers requests. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseJson } from './exact-json.js';
import type { InferRequest, InferResponse } from './messages.js';
import { decodeRestInferRequest, encodeRestInferResponse, type RestDecodeOptions } from './rest-codec.js';
import { tensorDataFromBytes } from './tensor-bytes.js';

const decode = (body: Buffer, options: Partial<RestDecodeOptions> = {}) =>
  decodeRestInferRequest(body, { modelName: 'm', ...options });

/** The body as a client receives it: the chunks written one after another. */
const bodyOf = (encoded: { chunks: Array<string | Buffer>; byteLength: number }): Buffer => {
  const body = Buffer.concat(encoded.chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)));
  expect(body.length).toBe(encoded.byteLength);
  return body;
};

describe('encodeRestInferResponse', () => {
  const response: InferResponse = {
    modelName: 'iris',
    modelVersion: '1',
    id: 'r1',
    outputs: [
      { name: 'label', datatype: 'INT64', shape: [2], data: new BigInt64Array([2n, 9223372036854775807n]) },
      { name: 'probs', datatype: 'FP32', shape: [1, 3], data: new Float32Array([0.5, 0.25, Number.NaN]) },
    ],
  };
  const request = (extra: Partial<InferRequest> = {}): InferRequest => ({ modelName: 'iris', inputs: [], ...extra });

  it('writes JSON with exact integers, NaN as null, and the id only when the request had one', () => {
    const withId = encodeRestInferResponse(response, request({ id: 'r1' }));
    expect(withId.contentType).toBe('application/json');
    expect(withId.headerLength).toBeUndefined();
    expect(bodyOf(withId).toString()).toBe(
      '{"model_name":"iris","model_version":"1","id":"r1","outputs":[' +
        '{"name":"label","datatype":"INT64","shape":[2],"data":[2,9223372036854775807]},' +
        '{"name":"probs","datatype":"FP32","shape":[1,3],"data":[0.5,0.25,null]}]}',
    );
    const withoutId = encodeRestInferResponse(response, request());
    expect(JSON.parse(bodyOf(withoutId).toString())).not.toHaveProperty('id');
  });

  it('writes response and output parameters, dropping a stale binary_data_size from JSON outputs', () => {
    const encoded = encodeRestInferResponse(
      {
        ...response,
        parameters: { big: 18446744073709551615n, s: 'x' },
        outputs: [{ ...response.outputs[0]!, parameters: { binary_data_size: 3, kept: 1 } }],
      },
      request(),
    );
    const parsed = parseJson(bodyOf(encoded).toString()) as { parameters: unknown; outputs: { parameters: unknown }[] };
    expect(parsed.parameters).toEqual({ big: 18446744073709551615n, s: 'x' });
    expect(parsed.outputs[0]!.parameters).toEqual({ kept: 1 });
  });

  it('answers binary for binary_data_output, with blobs in output order after the header', () => {
    const encoded = encodeRestInferResponse(response, request({ parameters: { binary_data_output: true } }));
    expect(encoded.contentType).toBe('application/octet-stream');
    const header = JSON.parse(bodyOf(encoded).subarray(0, encoded.headerLength).toString());
    expect(header.outputs).toEqual([
      { name: 'label', datatype: 'INT64', shape: [2], parameters: { binary_data_size: 16 } },
      { name: 'probs', datatype: 'FP32', shape: [1, 3], parameters: { binary_data_size: 12 } },
    ]);
    const blobs = bodyOf(encoded).subarray(encoded.headerLength);
    expect(blobs.byteLength).toBe(28);
    expect(tensorDataFromBytes('INT64', [2], new Uint8Array(blobs.subarray(0, 16)), 'x')).toEqual(response.outputs[0]!.data);
    const probs = tensorDataFromBytes('FP32', [3], new Uint8Array(blobs.subarray(16)), 'x') as Float32Array;
    expect(Array.from(probs.subarray(0, 2))).toEqual([0.5, 0.25]);
    expect(probs[2]).toBeNaN();
  });

  it('lets an output-level binary_data override binary_data_output, both ways', () => {
    const someBinary = encodeRestInferResponse(
      response,
      request({ outputs: [{ name: 'probs', parameters: { binary_data: true } }, { name: 'label' }] }),
    );
    const header = JSON.parse(bodyOf(someBinary).subarray(0, someBinary.headerLength).toString());
    expect(header.outputs[0].data).toEqual([2, 9223372036854775807]);
    expect(header.outputs[1].parameters).toEqual({ binary_data_size: 12 });
    expect(bodyOf(someBinary).byteLength).toBe(someBinary.headerLength! + 12);

    const noneBinary = encodeRestInferResponse(
      response,
      request({
        parameters: { binary_data_output: true },
        outputs: [
          { name: 'label', parameters: { binary_data: false } },
          { name: 'probs', parameters: { binary_data: false } },
        ],
      }),
    );
    expect(noneBinary.contentType).toBe('application/json');
  });

  it('writes binary BYTES outputs length-prefixed, as a raw request gets them', () => {
    const raw = decode(Buffer.from('hi'), { headerLength: '0', rawInput: { name: 's', datatype: 'BYTES', shape: [1] } });
    const encoded = encodeRestInferResponse(
      { modelName: 'm', modelVersion: '1', outputs: [{ name: 'o', datatype: 'BYTES', shape: [1], data: [Buffer.from('hi')] }] },
      raw,
    );
    expect([...bodyOf(encoded).subarray(encoded.headerLength)]).toEqual([2, 0, 0, 0, 0x68, 0x69]);
  });

  // Finite values only: JSON writes NaN and infinities as null (see tensor-to-json.ts).
  it('round-trips a response through the request decoder', () => {
    fc.assert(
      fc.property(fc.float32Array({ maxLength: 10, noNaN: true, noDefaultInfinity: true }), fc.array(fc.string(), { maxLength: 4 }), fc.boolean(), (f, s, binary) => {
        const out: InferResponse = {
          modelName: 'm',
          modelVersion: '1',
          outputs: [
            { name: 'f', datatype: 'FP32', shape: [f.length], data: f },
            { name: 's', datatype: 'BYTES', shape: [s.length], data: s.map((t) => Buffer.from(t)) },
          ],
        };
        const encoded = encodeRestInferResponse(out, request({ parameters: { binary_data_output: binary } }));
        // A response body has the request body's framing: decode it as one, its outputs as inputs.
        const headerEnd = encoded.headerLength ?? bodyOf(encoded).length;
        const requestHeader = Buffer.from(bodyOf(encoded).subarray(0, headerEnd).toString().replace('"outputs":', '"inputs":'));
        const asRequest = Buffer.concat([requestHeader, bodyOf(encoded).subarray(headerEnd)]);
        const headerLength = binary ? String(requestHeader.length) : undefined;
        const back = decode(asRequest, headerLength === undefined ? {} : { headerLength });
        expect(Array.from(back.inputs[0]!.data as Float32Array)).toEqual(Array.from(f));
        expect((back.inputs[1]!.data as Uint8Array[]).map((e) => Buffer.from(e).toString())).toEqual(s);
      }),
      { numRuns: 100 },
    );
  });
});
