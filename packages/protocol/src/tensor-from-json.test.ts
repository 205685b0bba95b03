import { describe, expect, it } from 'vitest';
import { floatToBfloat16Bits, floatToHalfBits } from './fp16.js';
import { SibylError } from './sibyl-error.js';
import { MAX_DATA_DEPTH, tensorDataFromJson } from './tensor-from-json.js';

function failure(fn: () => unknown): SibylError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SibylError);
    return err as SibylError;
  }
  throw new Error('expected a SibylError');
}

const utf8 = (elements: unknown) => (elements as Uint8Array[]).map((e) => Buffer.from(e).toString('utf8'));

describe('tensorDataFromJson', () => {
  it('fills the typed array of every fixed datatype from flat data', () => {
    expect(tensorDataFromJson('BOOL', [3], [true, false, true], 'x')).toEqual(new Uint8Array([1, 0, 1]));
    expect(tensorDataFromJson('UINT8', [2], [0, 255], 'x')).toEqual(new Uint8Array([0, 255]));
    expect(tensorDataFromJson('UINT16', [1], [65535], 'x')).toEqual(new Uint16Array([65535]));
    expect(tensorDataFromJson('UINT32', [1], [4294967295], 'x')).toEqual(new Uint32Array([4294967295]));
    expect(tensorDataFromJson('INT8', [2], [-128, 127], 'x')).toEqual(new Int8Array([-128, 127]));
    expect(tensorDataFromJson('INT16', [2], [-32768, 32767], 'x')).toEqual(new Int16Array([-32768, 32767]));
    expect(tensorDataFromJson('INT32', [2], [-2147483648, 2147483647], 'x')).toEqual(
      new Int32Array([-2147483648, 2147483647]),
    );
    expect(tensorDataFromJson('INT64', [3], [-9223372036854775808n, 5, 9223372036854775807n], 'x')).toEqual(
      new BigInt64Array([-9223372036854775808n, 5n, 9223372036854775807n]),
    );
    expect(tensorDataFromJson('UINT64', [2], [0, 18446744073709551615n], 'x')).toEqual(
      new BigUint64Array([0n, 18446744073709551615n]),
    );
    expect(tensorDataFromJson('FP32', [2], [0.5, -1e3], 'x')).toEqual(new Float32Array([0.5, -1000]));
    expect(tensorDataFromJson('FP64', [2], [0.1, 9007199254740993n], 'x')).toEqual(
      new Float64Array([0.1, 9007199254740992]),
    );
    expect(tensorDataFromJson('FP16', [2], [1, -2.5], 'x')).toEqual(
      new Uint16Array([floatToHalfBits(1), floatToHalfBits(-2.5)]),
    );
    expect(tensorDataFromJson('BF16', [1], [3], 'x')).toEqual(new Uint16Array([floatToBfloat16Bits(3)]));
  });

  it('stores BYTES strings as UTF-8 views of one block', () => {
    const data = tensorDataFromJson('BYTES', [3], ['abc', '', 'é😀'], 'x') as Uint8Array[];
    expect(utf8(data)).toEqual(['abc', '', 'é😀']);
    expect(data[2]!.byteLength).toBe(6);
    expect(data[0]!.buffer).toBe(data[2]!.buffer);
  });

  it('accepts nested row-major data, ragged nesting, and empty tensors', () => {
    expect(tensorDataFromJson('INT32', [2, 3], [[1, 2, 3], [4, 5, 6]], 'x')).toEqual(new Int32Array([1, 2, 3, 4, 5, 6]));
    expect(tensorDataFromJson('INT32', [2, 2], [[1], 2, [[3, 4]]], 'x')).toEqual(new Int32Array([1, 2, 3, 4]));
    // Same length as the element count, yet nested: the flat attempt gives way to the nested walk.
    expect(tensorDataFromJson('FP32', [2], [1, [2]], 'x')).toEqual(new Float32Array([1, 2]));
    expect(utf8(tensorDataFromJson('BYTES', [1, 2], [['a', 'b']], 'x'))).toEqual(['a', 'b']);
    expect(tensorDataFromJson('FP32', [0, 4], [], 'x')).toEqual(new Float32Array(0));
    expect(tensorDataFromJson('FP32', [0], [[], [[]]], 'x')).toEqual(new Float32Array(0));
    expect(tensorDataFromJson('FP64', [], [7], 'x')).toEqual(new Float64Array([7]));
  });

  it('rejects data that is not an array', () => {
    const err = failure(() => tensorDataFromJson('FP32', [1], 1, "input 'x'"));
    expect(err.code).toBe('SIBYL_TENSOR_DATA_NOT_ARRAY');
    expect(err.message).toBe("input 'x': 'data' must be a JSON array, got number 1");
  });

  it('rejects an element count that differs from the shape, flat or nested', () => {
    const few = failure(() => tensorDataFromJson('FP32', [2, 4], [1, 2, 3, 4, 5, 6, 7], "input 'x'"));
    expect(few.code).toBe('SIBYL_TENSOR_ELEMENT_COUNT');
    expect(few.message).toBe("input 'x': expected 8 elements for shape [2,4], got 7");
    const many = failure(() => tensorDataFromJson('FP32', [2, 2], [[1, 2], [3, 4], [5]], "input 'x'"));
    expect(many.message).toBe("input 'x': expected 4 elements for shape [2,2], got 5");
  });

  it(`rejects nesting deeper than ${MAX_DATA_DEPTH}`, () => {
    let deep: unknown = [1];
    for (let i = 1; i < MAX_DATA_DEPTH; i++) deep = [deep];
    expect(tensorDataFromJson('INT8', [1], deep, 'x')).toEqual(new Int8Array([1]));
    const err = failure(() => tensorDataFromJson('INT8', [1], [deep], "input 'x'"));
    expect(err.code).toBe('SIBYL_JSON_TOO_DEEP');
    expect(err.message).toBe("input 'x' 'data': JSON nesting depth exceeds maximum allowed limit (100)");
  });

  it('rejects elements of the wrong JSON type, naming the tensor and index', () => {
    const cases: [Parameters<typeof tensorDataFromJson>[0], unknown[], string][] = [
      ['BOOL', [true, 1], 'element 1 of BOOL data must be true or false, got number 1'],
      ['INT32', [1, 2.5], 'element 1 of INT32 data must be an integer, got number 2.5'],
      ['UINT8', ['1'], 'element 0 of UINT8 data must be an integer, got string "1"'],
      ['INT64', [1, true], 'element 1 of INT64 data must be an integer, got boolean true'],
      ['INT64', [0.5], 'element 0 of INT64 data must be an integer, got number 0.5'],
      ['FP32', [1, null], 'element 1 of FP32 data must be a number, got null'],
      ['FP16', [{}], 'element 0 of FP16 data must be a number, got object'],
      ['BF16', ['x'], 'element 0 of BF16 data must be a number, got string "x"'],
      ['BYTES', ['a', 1], 'element 1 of BYTES data must be a string, got number 1'],
    ];
    for (const [datatype, data, message] of cases) {
      const err = failure(() => tensorDataFromJson(datatype, [data.length], data, "input 'x'"));
      expect(err.code).toBe('SIBYL_TENSOR_VALUE_TYPE');
      expect(err.message).toBe(`input 'x': ${message}`);
    }
    // The index counts row-major elements across nesting.
    expect(failure(() => tensorDataFromJson('INT32', [2, 2], [[1, 2], [3, 'four']], 'x')).message).toContain(
      'element 3 of INT32',
    );
  });

  it('rejects integers out of range for their datatype', () => {
    const cases: [Parameters<typeof tensorDataFromJson>[0], unknown][] = [
      ['INT8', 128],
      ['INT8', -129],
      ['UINT8', -1],
      ['UINT8', 256],
      ['INT16', 32768],
      ['UINT16', 65536],
      ['INT32', 2147483648],
      ['UINT32', -1],
      ['UINT32', 4294967296],
      ['INT32', 9007199254740993n],
      ['INT64', 9223372036854775808n],
      ['INT64', -9223372036854775809n],
      ['UINT64', -1],
      ['UINT64', 18446744073709551616n],
    ];
    for (const [datatype, value] of cases) {
      const err = failure(() => tensorDataFromJson(datatype, [2], [0, value], "input 'x'"));
      expect(err.code, `${datatype} ${String(value)}`).toBe('SIBYL_TENSOR_VALUE_RANGE');
      expect(err.message).toBe(`input 'x': element 1 (${String(value)}) is out of range for ${datatype}`);
    }
  });
});
