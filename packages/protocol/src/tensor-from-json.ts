/**
 * JSON tensor data (spec §A.8) into the typed array of its datatype.
 *
 * `data` may be flat or nested row-major; nested arrays are walked with an explicit stack, at most
 * 100 levels deep (Triton's limit). Elements go straight into the typed array: no intermediate
 * array of numbers. Strictness follows Triton: BOOL takes only true/false, integer types only
 * integers within range (bigint from parseJson for 64-bit), floats any number, BYTES only strings
 * (stored as their UTF-8 bytes). FP16 and BF16, which Triton refuses in JSON, are accepted as
 * numbers and rounded to the nearest 16-bit pattern.
 */
import { DATATYPE_INFO, type Datatype } from './datatypes.js';
import { dataNotArray, elementCountMismatch, jsonTooDeep, valueRange, valueType } from './errors.js';
import { floatToBfloat16Bits, floatToHalfBits } from './fp16.js';
import { elementCount, type TensorData } from './tensor.js';

/** Deepest nesting of arrays accepted in `data` (the outer array counts as one level). */
export const MAX_DATA_DEPTH = 100;

/** Where elements go while decoding: the tensor's typed array, or for BYTES its strings (encoded at the end). */
type Target = Exclude<TensorData, Uint8Array[]> | string[];

/**
 * Decodes `data` for a tensor of `datatype` and `shape` (dims already checked non-negative
 * integers). `where` names the tensor in errors, e.g. "input 'x'".
 */
export function tensorDataFromJson(datatype: Datatype, shape: readonly number[], data: unknown, where: string): TensorData {
  if (!Array.isArray(data)) throw dataNotArray(where, data);
  const count = elementCount(shape);
  // Flat data (the usual case) is checked by its length before anything is allocated.
  if (data.length === count) {
    const target = allocate(datatype, count);
    if (fillRun(datatype, target, data, 0, 0, where) === count) return finish(datatype, target);
  }
  const leaves = countLeaves(data, where);
  if (leaves !== count) throw elementCountMismatch(where, shape, count, leaves);
  const target = allocate(datatype, count);
  fillNested(datatype, target, data, where);
  return finish(datatype, target);
}

function allocate(datatype: Datatype, count: number): Target {
  if (datatype === 'BYTES') return new Array<string>(count);
  return new (DATATYPE_INFO[datatype].array!)(count);
}

/** BYTES: one allocation for all elements; each element is a view of its own UTF-8 bytes. */
function finish(datatype: Datatype, target: Target): TensorData {
  if (datatype !== 'BYTES') return target as TensorData;
  const strings = target as string[];
  let total = 0;
  for (const s of strings) total += Buffer.byteLength(s, 'utf8');
  const block = Buffer.allocUnsafe(total);
  const elements = new Array<Uint8Array>(strings.length);
  let offset = 0;
  for (let i = 0; i < strings.length; i++) {
    const written = block.write(strings[i]!, offset, 'utf8');
    elements[i] = block.subarray(offset, offset + written);
    offset += written;
  }
  return elements;
}

/** Number of non-array leaves under `root`, walked iteratively, at most MAX_DATA_DEPTH deep. */
function countLeaves(root: unknown[], where: string): number {
  const arrays: unknown[][] = [root];
  const positions: number[] = [0];
  let leaves = 0;
  while (arrays.length > 0) {
    const top = arrays.length - 1;
    const array = arrays[top]!;
    let position = positions[top]!;
    while (position < array.length && !Array.isArray(array[position])) position++;
    leaves += position - positions[top]!;
    if (position === array.length) {
      arrays.pop();
      positions.pop();
      continue;
    }
    positions[top] = position + 1;
    if (arrays.length >= MAX_DATA_DEPTH) throw jsonTooDeep(`${where} 'data'`, MAX_DATA_DEPTH);
    arrays.push(array[position] as unknown[]);
    positions.push(0);
  }
  return leaves;
}

/** Fills `target` from nested `root` in row-major order; the leaf count was checked beforehand. */
function fillNested(datatype: Datatype, target: Target, root: unknown[], where: string): void {
  const arrays: unknown[][] = [root];
  const positions: number[] = [0];
  let written = 0;
  while (arrays.length > 0) {
    const top = arrays.length - 1;
    const array = arrays[top]!;
    const run = fillRun(datatype, target, array, positions[top]!, written, where);
    written += run;
    const position = positions[top]! + run;
    if (position === array.length) {
      arrays.pop();
      positions.pop();
      continue;
    }
    positions[top] = position + 1;
    arrays.push(array[position] as unknown[]);
    positions.push(0);
  }
}

const INT_RANGES: Partial<Record<Datatype, readonly [number, number]>> = {
  INT8: [-128, 127],
  INT16: [-32768, 32767],
  INT32: [-2147483648, 2147483647],
  UINT8: [0, 255],
  UINT16: [0, 65535],
  UINT32: [0, 4294967295],
};

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/**
 * Converts row[from], row[from+1], ... into target[at], target[at+1], ... until the row ends or an
 * element is an array; returns how many elements it converted. One loop per datatype, so the
 * per-element work is a type test and a store.
 */
function fillRun(datatype: Datatype, target: Target, row: unknown[], from: number, at: number, where: string): number {
  const end = row.length;
  let i = from;
  switch (datatype) {
    case 'FP32':
    case 'FP64': {
      const out = target as Float32Array | Float64Array;
      for (; i < end; i++) {
        const v = row[i];
        if (typeof v === 'number') out[at + i - from] = v;
        else if (typeof v === 'bigint') out[at + i - from] = Number(v);
        else if (Array.isArray(v)) break;
        else throw valueType(where, datatype, at + i - from, 'a number', v);
      }
      break;
    }
    case 'BOOL': {
      const out = target as Uint8Array;
      for (; i < end; i++) {
        const v = row[i];
        if (v === true) out[at + i - from] = 1;
        else if (v === false) out[at + i - from] = 0;
        else if (Array.isArray(v)) break;
        else throw valueType(where, datatype, at + i - from, 'true or false', v);
      }
      break;
    }
    case 'INT64':
    case 'UINT64': {
      const out = target as BigInt64Array | BigUint64Array;
      const min = datatype === 'INT64' ? INT64_MIN : 0n;
      const max = datatype === 'INT64' ? INT64_MAX : UINT64_MAX;
      for (; i < end; i++) {
        const v = row[i];
        let big: bigint;
        if (typeof v === 'number' && Number.isInteger(v)) big = BigInt(v);
        else if (typeof v === 'bigint') big = v;
        else if (Array.isArray(v)) break;
        else throw valueType(where, datatype, at + i - from, 'an integer', v);
        if (big < min || big > max) throw valueRange(where, datatype, at + i - from, v);
        out[at + i - from] = big;
      }
      break;
    }
    case 'FP16':
    case 'BF16': {
      const out = target as Uint16Array;
      const toBits = datatype === 'FP16' ? floatToHalfBits : floatToBfloat16Bits;
      for (; i < end; i++) {
        const v = row[i];
        if (typeof v === 'number') out[at + i - from] = toBits(v);
        else if (typeof v === 'bigint') out[at + i - from] = toBits(Number(v));
        else if (Array.isArray(v)) break;
        else throw valueType(where, datatype, at + i - from, 'a number', v);
      }
      break;
    }
    case 'BYTES': {
      const out = target as string[];
      for (; i < end; i++) {
        const v = row[i];
        if (typeof v === 'string') out[at + i - from] = v;
        else if (Array.isArray(v)) break;
        else throw valueType(where, datatype, at + i - from, 'a string', v);
      }
      break;
    }
    default: {
      // INT8..INT32, UINT8..UINT32
      const out = target as Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array;
      const [min, max] = INT_RANGES[datatype]!;
      for (; i < end; i++) {
        const v = row[i];
        if (typeof v === 'number' && Number.isInteger(v)) {
          if (v < min || v > max) throw valueRange(where, datatype, at + i - from, v);
          out[at + i - from] = v;
        } else if (typeof v === 'bigint') {
          throw valueRange(where, datatype, at + i - from, v);
        } else if (Array.isArray(v)) {
          break;
        } else {
          throw valueType(where, datatype, at + i - from, 'an integer', v);
        }
      }
    }
  }
  return i - from;
}
