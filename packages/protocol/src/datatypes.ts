/**
 * The v2 datatypes and how each one is held in memory.
 *
 * Every tensor past the codecs is a typed array (or, for BYTES, an array of byte views):
 * FP16 and BF16 keep their raw 16-bit patterns in a Uint16Array, BOOL is one byte per element.
 */

export const DATATYPES = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BF16',
  'BYTES',
] as const;

export type Datatype = (typeof DATATYPES)[number];
export type FixedDatatype = Exclude<Datatype, 'BYTES'>;

export type TypedArrayFor<D extends Datatype> = D extends 'BOOL' | 'UINT8'
  ? Uint8Array
  : D extends 'INT8'
    ? Int8Array
    : D extends 'UINT16' | 'FP16' | 'BF16'
      ? Uint16Array
      : D extends 'INT16'
        ? Int16Array
        : D extends 'UINT32'
          ? Uint32Array
          : D extends 'INT32'
            ? Int32Array
            : D extends 'UINT64'
              ? BigUint64Array
              : D extends 'INT64'
                ? BigInt64Array
                : D extends 'FP32'
                  ? Float32Array
                  : D extends 'FP64'
                    ? Float64Array
                    : Uint8Array[];

type TypedArrayConstructor =
  | Uint8ArrayConstructor
  | Int8ArrayConstructor
  | Uint16ArrayConstructor
  | Int16ArrayConstructor
  | Uint32ArrayConstructor
  | Int32ArrayConstructor
  | BigUint64ArrayConstructor
  | BigInt64ArrayConstructor
  | Float32ArrayConstructor
  | Float64ArrayConstructor;

export interface DatatypeInfo {
  /** Bytes per element; 0 for BYTES (variable length). */
  readonly byteSize: number;
  /** The typed array that holds it; undefined for BYTES. */
  readonly array: TypedArrayConstructor | undefined;
  /** The field of gRPC InferTensorContents that carries it; undefined where only raw is allowed (FP16, BF16). */
  readonly grpcContents:
    | 'bool_contents'
    | 'int_contents'
    | 'int64_contents'
    | 'uint_contents'
    | 'uint64_contents'
    | 'fp32_contents'
    | 'fp64_contents'
    | 'bytes_contents'
    | undefined;
}

export const DATATYPE_INFO: Readonly<Record<Datatype, DatatypeInfo>> = Object.freeze({
  BOOL: { byteSize: 1, array: Uint8Array, grpcContents: 'bool_contents' },
  UINT8: { byteSize: 1, array: Uint8Array, grpcContents: 'uint_contents' },
  UINT16: { byteSize: 2, array: Uint16Array, grpcContents: 'uint_contents' },
  UINT32: { byteSize: 4, array: Uint32Array, grpcContents: 'uint_contents' },
  UINT64: { byteSize: 8, array: BigUint64Array, grpcContents: 'uint64_contents' },
  INT8: { byteSize: 1, array: Int8Array, grpcContents: 'int_contents' },
  INT16: { byteSize: 2, array: Int16Array, grpcContents: 'int_contents' },
  INT32: { byteSize: 4, array: Int32Array, grpcContents: 'int_contents' },
  INT64: { byteSize: 8, array: BigInt64Array, grpcContents: 'int64_contents' },
  FP16: { byteSize: 2, array: Uint16Array, grpcContents: undefined },
  FP32: { byteSize: 4, array: Float32Array, grpcContents: 'fp32_contents' },
  FP64: { byteSize: 8, array: Float64Array, grpcContents: 'fp64_contents' },
  BF16: { byteSize: 2, array: Uint16Array, grpcContents: undefined },
  BYTES: { byteSize: 0, array: undefined, grpcContents: 'bytes_contents' },
});

const DATATYPE_SET: ReadonlySet<string> = new Set(DATATYPES);

export function isDatatype(value: unknown): value is Datatype {
  return typeof value === 'string' && DATATYPE_SET.has(value);
}
