/** Round trips and edge cases of tensor data in JSON and binary form. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DATATYPE_INFO, DATATYPES, type Datatype } from './datatypes.js';
import { parseJson } from './exact-json.js';
import { floatToHalfBits } from './fp16.js';
import { SibylError } from './sibyl-error.js';
import { byteSizeOf, tensorDataFromBytes, tensorDataToBytes } from './tensor-bytes.js';
import { tensorDataFromJson } from './tensor-from-json.js';
import { tensorDataToJson, tensorDataToJsonText } from './tensor-to-json.js';
import type { TensorData } from './tensor.js';

function failure(fn: () => unknown): SibylError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SibylError);
    return err as SibylError;
  }
  throw new Error('expected a SibylError');
}

/** Arbitrary data for a datatype; `finite` keeps floats representable as JSON numbers. */
function dataOf(datatype: Datatype, finite: boolean): fc.Arbitrary<TensorData> {
  const n = { maxLength: 40 };
  switch (datatype) {
    case 'BOOL':
      return fc.array(fc.boolean(), n).map((a) => Uint8Array.from(a, Number));
    case 'UINT8':
      return fc.uint8Array(n);
    case 'INT8':
      return fc.int8Array(n);
    case 'UINT16':
      return fc.uint16Array(n);
    case 'INT16':
      return fc.int16Array(n);
    case 'UINT32':
      return fc.uint32Array(n);
    case 'INT32':
      return fc.int32Array(n);
    case 'UINT64':
      return fc.bigUint64Array(n);
    case 'INT64':
      return fc.bigInt64Array(n);
    case 'FP32':
      return fc.float32Array({ ...n, noNaN: finite, noDefaultInfinity: finite });
    case 'FP64':
      return fc.float64Array({ ...n, noNaN: finite, noDefaultInfinity: finite });
    case 'FP16':
    case 'BF16':
      // Any bit pattern; JSON round trips need finite values (exponent field not all ones).
      return fc
        .array(fc.integer({ min: 0, max: 0xffff }), n)
        .map((a) => Uint16Array.from(a.filter((b) => !finite || (datatype === 'FP16' ? (b & 0x7c00) !== 0x7c00 : (b & 0x7f80) !== 0x7f80))));
    case 'BYTES':
      return fc.array(fc.string({ unit: 'grapheme' }), n).map((a) => a.map((s) => new Uint8Array(Buffer.from(s, 'utf8'))));
  }
}

const plain = (data: TensorData) =>
  Array.isArray(data) ? data.map((e) => Array.from(e)) : Array.from(data as ArrayLike<number | bigint>);

describe('binary form', () => {
  it('round-trips every datatype, as views when aligned and copies when not', () => {
    for (const datatype of DATATYPES) {
      fc.assert(
        fc.property(dataOf(datatype, false), fc.integer({ min: 0, max: 7 }), (data, pad) => {
          const bytes = tensorDataToBytes(datatype, data);
          expect(bytes.byteLength).toBe(byteSizeOf(datatype, data));
          // Place the bytes at an arbitrary offset of a larger buffer, as in a request body.
          const body = Buffer.alloc(pad + bytes.byteLength + 3);
          bytes.copy(body, pad);
          const slice = body.subarray(pad, pad + bytes.byteLength);
          const decoded = tensorDataFromBytes(datatype, [data.length], slice, 'x');
          expect(plain(decoded)).toEqual(plain(data));
          if (datatype !== 'BYTES') {
            const view = decoded as Exclude<TensorData, Uint8Array[]>;
            const aligned = slice.byteOffset % DATATYPE_INFO[datatype].byteSize === 0;
            expect(view.buffer === body.buffer).toBe(aligned);
          }
        }),
        { numRuns: 60 },
      );
    }
  });

  it('encodes typed arrays as views of their memory and BYTES with uint32 LE length prefixes', () => {
    const floats = new Float32Array([1, 2, 3, 4]).subarray(1, 3);
    const bytes = tensorDataToBytes('FP32', floats);
    expect(bytes.buffer).toBe(floats.buffer);
    expect(bytes.byteOffset).toBe(4);
    expect(bytes.byteLength).toBe(8);
    const strings = tensorDataToBytes('BYTES', [Buffer.from('ab'), new Uint8Array(0), Buffer.from('é')]);
    expect([...strings]).toEqual([2, 0, 0, 0, 0x61, 0x62, 0, 0, 0, 0, 2, 0, 0, 0, 0xc3, 0xa9]);
    expect(byteSizeOf('BYTES', [Buffer.from('ab')])).toBe(6);
    expect(byteSizeOf('INT64', new BigInt64Array(3))).toBe(24);
  });

  it('decodes BYTES elements as views of the blob', () => {
    const blob = Buffer.from([1, 0, 0, 0, 0x41, 0, 0, 0, 0]);
    const data = tensorDataFromBytes('BYTES', [2], blob, 'x') as Uint8Array[];
    expect(data.map((e) => Buffer.from(e).toString())).toEqual(['A', '']);
    expect(data[0]!.buffer).toBe(blob.buffer);
  });

  it('rejects a fixed-size blob whose length is not shape × element size', () => {
    const err = failure(() => tensorDataFromBytes('FP32', [2, 2], new Uint8Array(15), "input 'x'"));
    expect(err.code).toBe('SIBYL_TENSOR_BYTE_SIZE');
    expect(err.message).toBe("input 'x': expected 16 bytes for FP32 shape [2,2], got 15");
  });

  it('rejects BYTES prefixes and elements past the blob, and trailing bytes', () => {
    const prefix = failure(() => tensorDataFromBytes('BYTES', [2], Buffer.from([1, 0, 0, 0, 0x41, 5, 0]), "input 's'"));
    expect(prefix.code).toBe('SIBYL_TENSOR_BYTES_OVERRUN');
    expect(prefix.message).toBe("input 's': BYTES element 1 at byte 5 needs 4 bytes but only 2 remain");
    const element = failure(() => tensorDataFromBytes('BYTES', [1], Buffer.from([9, 0, 0, 0, 0x41]), "input 's'"));
    expect(element.message).toBe("input 's': BYTES element 0 at byte 4 needs 9 bytes but only 1 remain");
    const huge = failure(() => tensorDataFromBytes('BYTES', [1], Buffer.from([0xff, 0xff, 0xff, 0xff]), "input 's'"));
    expect(huge.message).toContain('needs 4294967295 bytes');
    const hugeCount = failure(() => tensorDataFromBytes('BYTES', [1e12], Buffer.from([0, 0, 0, 0]), "input 's'"));
    expect(hugeCount.code).toBe('SIBYL_TENSOR_BYTES_OVERRUN');
    const trailing = failure(() => tensorDataFromBytes('BYTES', [1], Buffer.from([0, 0, 0, 0, 7]), "input 's'"));
    expect(trailing.code).toBe('SIBYL_TENSOR_BYTES_TRAILING');
    expect(trailing.message).toBe("input 's': 1 bytes remain after the 1 BYTES elements of its shape");
  });
});

describe('JSON form', () => {
  it('round-trips every datatype through values and through text', () => {
    for (const datatype of DATATYPES) {
      fc.assert(
        fc.property(dataOf(datatype, true), (data) => {
          const shape = [data.length];
          const values = tensorDataToJson(datatype, data);
          expect(plain(tensorDataFromJson(datatype, shape, values, 'x'))).toEqual(plain(data));
          const text = tensorDataToJsonText(datatype, data);
          // Integral floats beyond 2^53 are written as integer literals and read back as bigint.
          const asNumbers = (v: unknown) => (v as unknown[]).map((e) => (typeof e === 'bigint' && (datatype.startsWith('FP') || datatype === 'BF16') ? Number(e) : e));
          expect(asNumbers(parseJson(text))).toEqual(asNumbers(values));
          expect(plain(tensorDataFromJson(datatype, shape, parseJson(text), 'x'))).toEqual(plain(data));
        }),
        { numRuns: 60 },
      );
    }
  });

  it('writes booleans, exact 64-bit integers, 16-bit floats as numbers and UTF-8 strings', () => {
    expect(tensorDataToJson('BOOL', new Uint8Array([0, 1, 2]))).toEqual([false, true, true]);
    expect(tensorDataToJsonText('BOOL', new Uint8Array([0, 1]))).toBe('[false,true]');
    expect(tensorDataToJson('INT64', new BigInt64Array([1n, -9223372036854775808n]))).toEqual([1, -9223372036854775808n]);
    expect(tensorDataToJsonText('UINT64', new BigUint64Array([18446744073709551615n]))).toBe('[18446744073709551615]');
    expect(tensorDataToJson('FP16', new Uint16Array([floatToHalfBits(1.5)]))).toEqual([1.5]);
    expect(tensorDataToJsonText('BF16', new Uint16Array([0x3f80, 0xc000]))).toBe('[1,-2]');
    expect(tensorDataToJsonText('FP32', new Float32Array([0.1]))).toBe('[0.10000000149011612]');
    expect(tensorDataToJsonText('BYTES', [Buffer.from('a"b\n')])).toBe('["a\\"b\\n"]');
    expect(tensorDataToJson('BYTES', [Buffer.from('é')])).toEqual(['é']);
    expect(tensorDataToJsonText('INT8', new Int8Array(0))).toBe('[]');
  });

  it('writes NaN and infinities as null', () => {
    expect(tensorDataToJsonText('FP32', new Float32Array([1, Number.NaN, Infinity, -Infinity]))).toBe('[1,null,null,null]');
    expect(tensorDataToJsonText('FP64', new Float64Array([Number.NaN]))).toBe('[null]');
    expect(tensorDataToJsonText('FP16', new Uint16Array([0x7e00, 0x7c00, 0x3c00]))).toBe('[null,null,1]');
  });

  it('keeps the sign of zero', () => {
    expect(tensorDataToJsonText('FP32', new Float32Array([0, -0, 10, -0]))).toBe('[0,-0,10,-0]');
    expect(tensorDataToJsonText('FP64', new Float64Array([-0]))).toBe('[-0]');
    expect(tensorDataToJsonText('FP16', new Uint16Array([0x8000, 0]))).toBe('[-0,0]');
    expect(tensorDataToJsonText('FP32', new Float32Array([100, 0.5]))).toBe('[100,0.5]');
  });

  it('refuses BYTES that are not UTF-8, pointing to binary data', () => {
    const bad = [Buffer.from('ok'), new Uint8Array([0xff, 0xfe])];
    for (const fn of [() => tensorDataToJsonText('BYTES', bad, "output 'y'"), () => tensorDataToJson('BYTES', bad, "output 'y'")]) {
      const err = failure(fn);
      expect(err.code).toBe('SIBYL_TENSOR_BYTES_NOT_UTF8');
      expect(err.message).toBe(
        "output 'y': BYTES element 1 is not valid UTF-8 and cannot be sent as JSON; request it with binary_data: true",
      );
    }
  });
});
