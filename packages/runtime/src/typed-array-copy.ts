/**
 * A copy of a typed array into an ArrayBuffer of its own, of the base typed-array class.
 *
 * Not `data.slice()`: on a Node Buffer (a Uint8Array subclass) `slice` returns a view of the same
 * memory, not a copy. Imports nothing, so the worker thread can use it.
 */
import type { FixedData } from './wire.js';

const BASES = [
  Uint8Array,
  Int8Array,
  Uint16Array,
  Int16Array,
  Uint32Array,
  Int32Array,
  BigUint64Array,
  BigInt64Array,
  Float32Array,
  Float64Array,
] as const;

export function copyFixed<T extends FixedData>(data: T): T {
  for (const Base of BASES) {
    if (data instanceof Base) {
      const copy = new Base(data.length);
      (copy as { set(a: ArrayLike<unknown>): void }).set(data as ArrayLike<unknown>);
      return copy as T;
    }
  }
  throw new TypeError(`not a typed array: ${Object.prototype.toString.call(data)}`);
}

/** True when transferring `data.buffer` moves exactly `data`'s bytes (and the buffer can be transferred at all). */
export function ownsBuffer(data: FixedData): boolean {
  return data.buffer instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
}
