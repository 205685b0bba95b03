import type { Datatype } from './datatypes.js';

/** A parameter value as the protocol allows it: string, number, boolean (int64 values beyond 2^53 as bigint). */
export type ParameterValue = string | number | boolean | bigint;
export type Parameters = Record<string, ParameterValue>;

/**
 * Element storage. One typed array per fixed-size datatype (see DATATYPE_INFO), or for BYTES one
 * Uint8Array view per element. Row-major, little-endian (the platform's order on every target we run on).
 */
export type TensorData =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | BigUint64Array
  | BigInt64Array
  | Float32Array
  | Float64Array
  | Uint8Array[];

export interface Tensor {
  name: string;
  datatype: Datatype;
  /** Non-negative integer dimensions; the product equals the element count. */
  shape: number[];
  data: TensorData;
  parameters?: Parameters;
}

/** Product of the dimensions (1 for a scalar shape []). */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
