/**
 * Typed `InferTensorContents` (spec §C.5) to and from tensor data.
 *
 * Each datatype has exactly one field (DATATYPE_INFO.grpcContents); FP16 and BF16 have none and
 * travel only as raw contents. Typed contents are JavaScript arrays in the generated messages, so
 * both directions copy: that is the cost of this form, and why clients should prefer raw.
 */
import { DATATYPE_INFO, type Datatype, type DatatypeInfo } from './datatypes.js';
import {
  elementCountMismatch,
  grpcContentsField,
  grpcHalfInContents,
  grpcNoData,
  valueRange,
} from './errors.js';
import type { InferTensorContents, InferTensorContents__Output } from './generated/inference/InferTensorContents.js';
import type { TensorData } from './tensor.js';

type ContentsField = NonNullable<DatatypeInfo['grpcContents']>;

const CONTENTS_FIELDS: readonly ContentsField[] = [
  'bool_contents',
  'int_contents',
  'int64_contents',
  'uint_contents',
  'uint64_contents',
  'fp32_contents',
  'fp64_contents',
  'bytes_contents',
];

/** The first field of `contents` that holds elements, if any. */
export function filledContentsField(contents: InferTensorContents__Output | undefined | null): ContentsField | undefined {
  if (contents === undefined || contents === null) return undefined;
  for (const field of CONTENTS_FIELDS) if ((contents[field]?.length ?? 0) > 0) return field;
  return undefined;
}

/** Narrow integer types carried in 32-bit fields, with the range their elements must lie in. */
const NARROW_RANGES: Partial<Record<Datatype, readonly [number, number]>> = {
  INT8: [-128, 127],
  INT16: [-32768, 32767],
  UINT8: [0, 255],
  UINT16: [0, 65535],
};

/**
 * The data of a tensor of `count` elements from its typed contents. `where` names the tensor,
 * `name` is its bare name (for the no-data message).
 */
export function dataFromContents(
  datatype: Datatype,
  shape: readonly number[],
  count: number,
  contents: InferTensorContents__Output | undefined | null,
  where: string,
  name: string,
): TensorData {
  const info = DATATYPE_INFO[datatype];
  const expected = info.grpcContents;
  if (expected === undefined) {
    if (filledContentsField(contents) !== undefined) throw grpcHalfInContents(where, datatype);
    if (count > 0) throw grpcNoData(name);
    return new Uint16Array(0);
  }
  for (const field of CONTENTS_FIELDS) {
    if (field !== expected && (contents?.[field]?.length ?? 0) > 0) throw grpcContentsField(where, datatype, expected, field);
  }
  const values = contents?.[expected] ?? [];
  if (values.length === 0 && count > 0) throw grpcNoData(name);
  if (values.length !== count) throw elementCountMismatch(where, shape, count, values.length);
  switch (expected) {
    case 'bool_contents': {
      const data = new Uint8Array(count);
      const bools = values as boolean[];
      for (let i = 0; i < count; i++) data[i] = bools[i] ? 1 : 0;
      return data;
    }
    case 'int64_contents':
    case 'uint64_contents': {
      const data = expected === 'int64_contents' ? new BigInt64Array(count) : new BigUint64Array(count);
      const decimals = values as string[];
      for (let i = 0; i < count; i++) data[i] = BigInt(decimals[i]!);
      return data;
    }
    case 'bytes_contents':
      // Buffers decoded from the message: each is already a view of one element.
      return values as Buffer[];
    default: {
      const numbers = values as number[];
      const range = NARROW_RANGES[datatype];
      if (range !== undefined) {
        const [min, max] = range;
        for (let i = 0; i < count; i++) {
          const v = numbers[i]!;
          if (v < min || v > max) throw valueRange(where, datatype, i, v);
        }
      }
      const ArrayType = info.array as Exclude<DatatypeInfo['array'], BigInt64ArrayConstructor | BigUint64ArrayConstructor | undefined>;
      return ArrayType.from(numbers);
    }
  }
}

/** Typed contents carrying `data`; undefined for FP16/BF16, which have no field. */
export function contentsFromData(datatype: Datatype, data: TensorData): InferTensorContents | undefined {
  const field = DATATYPE_INFO[datatype].grpcContents;
  switch (field) {
    case undefined:
      return undefined;
    case 'bool_contents':
      return { bool_contents: Array.from(data as Uint8Array, (v) => v !== 0) };
    case 'int64_contents':
    case 'uint64_contents':
      return { [field]: Array.from(data as BigInt64Array | BigUint64Array, (v: bigint) => v.toString()) };
    case 'bytes_contents':
      return { bytes_contents: data as Uint8Array[] };
    default:
      return { [field]: Array.from(data as Exclude<TensorData, Uint8Array[] | BigInt64Array | BigUint64Array>) };
  }
}
