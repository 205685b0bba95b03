/** The harness's own codecs: if these were wrong, every e2e verdict built on them would be too. */
import { describe, expect, it } from 'vitest';
import { decodeTensor, encodeTensor, frameBinaryBody, halfToNumber, numberToHalf, parseBinaryResponse } from './binary.js';
import { DTYPES, VECTORS, canonical, nest } from './fixtures.js';
import { flatten, parseJson, stringifyJson } from './json.js';

describe('lossless JSON', () => {
  it('keeps integers past 2^53 exact both ways', () => {
    const text = stringifyJson({ a: [9007199254740993n, -9223372036854775808n, 18446744073709551615n], b: 1.5, c: 'x' });
    expect(text).toBe('{"a":[9007199254740993,-9223372036854775808,18446744073709551615],"b":1.5,"c":"x"}');
    expect(parseJson(text)).toEqual({ a: [9007199254740993n, -9223372036854775808n, 18446744073709551615n], b: 1.5, c: 'x' });
  });

  it('parses what JSON.parse parses', () => {
    const text = ' {"s":"é\\n\\"\\u00e9\\\\","n":[-0.5,1e-3,2E+2,0,-7],"t":true,"f":false,"z":null,"o":{},"e":[]} ';
    expect(parseJson(text)).toEqual(JSON.parse(text));
    expect(() => parseJson('{"a":1,}')).toThrow();
    expect(() => parseJson('[1] x')).toThrow();
  });
});

describe('tensor bytes', () => {
  it('FP16 conversions agree with known bit patterns', () => {
    expect(numberToHalf(1)).toBe(0x3c00);
    expect(numberToHalf(-2)).toBe(0xc000);
    expect(numberToHalf(65504)).toBe(0x7bff);
    expect(numberToHalf(2 ** -24)).toBe(0x0001);
    expect(halfToNumber(0x3555)).toBeCloseTo(0.333251953125, 12);
    expect(() => numberToHalf(0.1)).toThrow();
  });

  it('every datatype round-trips through encode/decode', () => {
    for (const d of DTYPES) {
      expect(canonical(d, decodeTensor(d, encodeTensor(d, VECTORS[d]))), d).toEqual(canonical(d, VECTORS[d]));
    }
    expect(encodeTensor('INT64', [-2n])).toEqual(Buffer.from([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
    expect(encodeTensor('BYTES', [Buffer.from('ab')])).toEqual(Buffer.from([2, 0, 0, 0, 0x61, 0x62]));
  });

  it('frames and splits a binary body', () => {
    const blob = encodeTensor('FP32', [1, 2]);
    const { body, headerLength } = frameBinaryBody({ outputs: [{ name: 'y', parameters: { binary_data_size: 8 } }, { name: 'z', data: [1] }] }, [blob]);
    const parsed = parseBinaryResponse(body, headerLength);
    expect(decodeTensor('FP32', parsed.blobs.get('y')!)).toEqual([1, 2]);
    expect(parsed.blobs.has('z')).toBe(false);
    expect(() => parseBinaryResponse(Buffer.concat([body, Buffer.from([0])]), headerLength)).toThrow();
  });

  it('nests and flattens row-major', () => {
    expect(nest([1, 2, 3, 4, 5, 6], [2, 3])).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(flatten([[1, [2]], [3]])).toEqual([1, 2, 3]);
  });
});
