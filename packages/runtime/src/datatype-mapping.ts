/**
 * The three names of each element type: the v2 protocol's (FP32), Triton's model configuration's
 * (TYPE_FP32) and onnxruntime-node's tensor type ('float32').
 */
import type { Datatype } from '@sibyl/protocol';
import type { FixedData, OrtTensorType } from './wire.js';

/** The typed array that holds each fixed-size onnxruntime-node type (FP16 as raw bits, BOOL a byte each). */
export const TYPED_ARRAY: Readonly<Record<Exclude<OrtTensorType, 'string'>, { new (length: number): FixedData; new (buffer: ArrayBuffer): FixedData }>> = Object.freeze({
  bool: Uint8Array,
  uint8: Uint8Array,
  int8: Int8Array,
  uint16: Uint16Array,
  float16: Uint16Array,
  int16: Int16Array,
  uint32: Uint32Array,
  int32: Int32Array,
  uint64: BigUint64Array,
  int64: BigInt64Array,
  float32: Float32Array,
  float64: Float64Array,
});

/** onnxruntime-node's type per v2 datatype; BF16 has none (the binding cannot exchange it). */
export const ORT_TYPE: Readonly<Record<Datatype, OrtTensorType | undefined>> = Object.freeze({
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  FP32: 'float32',
  FP64: 'float64',
  BF16: undefined,
  BYTES: 'string',
});

const DATATYPE_BY_ORT: ReadonlyMap<string, Datatype> = new Map(
  Object.entries(ORT_TYPE)
    .filter((e): e is [Datatype, OrtTensorType] => e[1] !== undefined)
    .map(([datatype, ort]) => [ort, datatype]),
);

/** The v2 datatype of an onnxruntime-node tensor type; undefined for types v2 lacks (int4, uint4). */
export function datatypeOfOrt(type: string): Datatype | undefined {
  return DATATYPE_BY_ORT.get(type);
}

/** Triton's model_config.proto DataType names; BYTES is TYPE_STRING there. */
export const TRITON_TYPE: Readonly<Record<Datatype, string>> = Object.freeze({
  BOOL: 'TYPE_BOOL',
  UINT8: 'TYPE_UINT8',
  UINT16: 'TYPE_UINT16',
  UINT32: 'TYPE_UINT32',
  UINT64: 'TYPE_UINT64',
  INT8: 'TYPE_INT8',
  INT16: 'TYPE_INT16',
  INT32: 'TYPE_INT32',
  INT64: 'TYPE_INT64',
  FP16: 'TYPE_FP16',
  FP32: 'TYPE_FP32',
  FP64: 'TYPE_FP64',
  BF16: 'TYPE_BF16',
  BYTES: 'TYPE_STRING',
});

const DATATYPE_BY_TRITON: ReadonlyMap<string, Datatype> = new Map(
  Object.entries(TRITON_TYPE).map(([datatype, triton]) => [triton, datatype as Datatype]),
);

/** The v2 datatype of a Triton config data_type; undefined for TYPE_INVALID and unknown names. */
export function datatypeOfTriton(type: string): Datatype | undefined {
  return DATATYPE_BY_TRITON.get(type);
}
