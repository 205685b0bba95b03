/**
 * Tensor data into JSON for responses: flat row-major arrays of numbers, booleans (BOOL) or strings
 * (BYTES, decoded as UTF-8).
 *
 * Exactness: FP32 values are written as the shortest text of their float64 value (what
 * Number#toString gives, e.g. 0.1f as 0.10000000149011612), so a reader recovers the float32 bit for
 * bit; INT64/UINT64 are written as integer literals (bigint beyond 2^53 in tensorDataToJson).
 * FP16/BF16 are written as the numbers they encode. -0 is written as -0 (JSON.stringify writes 0).
 *
 * NaN and ±Infinity have no JSON number form: they are written as null, as JSON.stringify does.
 * Clients that need them exactly ask for binary data (`binary_data: true`).
 *
 * BYTES elements that are not valid UTF-8 cannot be JSON strings (Triton would emit invalid JSON):
 * they raise SIBYL_TENSOR_BYTES_NOT_UTF8, whose message tells the client to ask for binary data.
 */
import { isUtf8 } from 'node:buffer';
import type { Datatype } from './datatypes.js';
import { bytesNotUtf8 } from './errors.js';
import { bfloat16BitsToFloat, halfBitsToFloat } from './fp16.js';
import { quoteJson } from './json-text.js';
import type { TensorData } from './tensor.js';

/** The elements of `data` as JSON values (bigint for 64-bit integers beyond ±(2^53−1)). */
export function tensorDataToJson(datatype: Datatype, data: TensorData, where = 'tensor'): unknown[] {
  switch (datatype) {
    case 'BOOL':
      return Array.from(data as Uint8Array, (v) => v !== 0);
    case 'FP16':
      return Array.from(data as Uint16Array, halfBitsToFloat);
    case 'BF16':
      return Array.from(data as Uint16Array, bfloat16BitsToFloat);
    case 'INT64':
    case 'UINT64':
      return Array.from(data as BigInt64Array | BigUint64Array, (v: bigint) => {
        const n = Number(v);
        return Number.isSafeInteger(n) ? n : v;
      });
    case 'BYTES':
      return (data as Uint8Array[]).map((element, i) => utf8String(element, where, i));
    default:
      return Array.from(data as Exclude<TensorData, Uint8Array[] | BigInt64Array | BigUint64Array>);
  }
}

/** The JSON text of `data` as a flat array, e.g. `[1,2.5,null]`: built directly, without tensorDataToJson. */
export function tensorDataToJsonText(datatype: Datatype, data: TensorData, where = 'tensor'): string {
  switch (datatype) {
    case 'BOOL': {
      const bools = data as Uint8Array;
      let out = '[';
      for (let i = 0; i < bools.length; i++) out += i === 0 ? (bools[i] ? 'true' : 'false') : bools[i] ? ',true' : ',false';
      return `${out}]`;
    }
    case 'FP16':
    case 'BF16': {
      const bits = data as Uint16Array;
      const toFloat = datatype === 'FP16' ? halfBitsToFloat : bfloat16BitsToFloat;
      let out = '[';
      for (let i = 0; i < bits.length; i++) {
        if (i > 0) out += ',';
        out += numberText(toFloat(bits[i]!));
      }
      return `${out}]`;
    }
    case 'FP32':
    case 'FP64': {
      // The native join writes each element as Number#toString does; only a non-finite value
      // (spelt NaN, Infinity) or a zero (which may be -0, joined as 0) needs the slower loop.
      const joined = (data as Float32Array | Float64Array).join(',');
      if (!/[NI]|(?:^|,)0(?:,|$)/.test(joined)) return `[${joined}]`;
      const floats = data as Float32Array | Float64Array;
      let out = '[';
      for (let i = 0; i < floats.length; i++) {
        if (i > 0) out += ',';
        out += numberText(floats[i]!);
      }
      return `${out}]`;
    }
    case 'BYTES': {
      const elements = data as Uint8Array[];
      let out = '[';
      for (let i = 0; i < elements.length; i++) {
        if (i > 0) out += ',';
        out += quoteJson(utf8String(elements[i]!, where, i));
      }
      return `${out}]`;
    }
    default:
      // Integer arrays (bigint ones included) join to exact integer literals.
      return `[${(data as Exclude<TensorData, Uint8Array[]>).join(',')}]`;
  }
}

function numberText(value: number): string {
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  return Number.isFinite(value) ? String(value) : 'null';
}

function utf8String(element: Uint8Array, where: string, index: number): string {
  if (!isUtf8(element)) throw bytesNotUtf8(where, index);
  return Buffer.from(element.buffer, element.byteOffset, element.byteLength).toString('utf8');
}
