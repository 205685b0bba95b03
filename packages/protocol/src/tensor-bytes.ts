/**
 * Tensor data in its binary wire form: the REST binary extension's blobs, gRPC raw contents.
 *
 * Fixed-size datatypes are the elements little-endian, row-major, without padding (BOOL one byte,
 * FP16/BF16 their 16-bit patterns). BYTES is, per element, a uint32 little-endian length and then
 * that many bytes. Decoding returns views of the given bytes wherever the layout allows, so a
 * tensor's data shares memory with the request body that carried it.
 */
import { DATATYPE_INFO, type Datatype } from './datatypes.js';
import { byteSizeMismatch, bytesElementOverrun, bytesTrailing } from './errors.js';
import { elementCount, type TensorData } from './tensor.js';

/**
 * The data of a `datatype` tensor of `shape` from exactly its bytes. A view of `bytes` when its
 * offset is aligned for the element size (typed arrays require it), a copy otherwise; BYTES
 * elements are always views. `where` names the tensor in errors.
 */
export function tensorDataFromBytes(
  datatype: Datatype,
  shape: readonly number[],
  bytes: Uint8Array,
  where: string,
): TensorData {
  const count = elementCount(shape);
  const info = DATATYPE_INFO[datatype];
  const ArrayType = info.array;
  if (ArrayType === undefined) return bytesElementsFrom(bytes, count, where);
  const expected = count * info.byteSize;
  if (bytes.byteLength !== expected) throw byteSizeMismatch(where, datatype, shape, expected, bytes.byteLength);
  // Typed array constructors are typed for ArrayBuffer; they take a SharedArrayBuffer as well.
  if (bytes.byteOffset % info.byteSize === 0) return new ArrayType(bytes.buffer as ArrayBuffer, bytes.byteOffset, count);
  const copy = new ArrayType(count);
  new Uint8Array(copy.buffer).set(bytes);
  return copy;
}

function bytesElementsFrom(bytes: Uint8Array, count: number, where: string): Uint8Array[] {
  const length = bytes.byteLength;
  // Every element takes at least its 4-byte prefix: a count the bytes cannot hold fails in the loop
  // before the array grows past what they could describe.
  const elements: Uint8Array[] = count * 4 <= length ? new Array<Uint8Array>(count) : [];
  let offset = 0;
  for (let i = 0; i < count; i++) {
    if (offset + 4 > length) throw bytesElementOverrun(where, i, offset, 4, length - offset);
    const size = bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16);
    const elementLength = size + bytes[offset + 3]! * 0x1000000;
    offset += 4;
    if (offset + elementLength > length) {
      throw bytesElementOverrun(where, i, offset, elementLength, length - offset);
    }
    elements[i] = bytes.subarray(offset, offset + elementLength);
    offset += elementLength;
  }
  if (offset !== length) throw bytesTrailing(where, count, length - offset);
  return elements;
}

/**
 * The wire bytes of `data`: for typed arrays a view of their memory (no copy), for BYTES one new
 * buffer of length-prefixed elements.
 */
export function tensorDataToBytes(datatype: Datatype, data: TensorData): Buffer {
  if (DATATYPE_INFO[datatype].array !== undefined) {
    const array = data as Exclude<TensorData, Uint8Array[]>;
    return Buffer.from(array.buffer, array.byteOffset, array.byteLength);
  }
  const elements = data as Uint8Array[];
  const out = Buffer.allocUnsafe(bytesSize(elements));
  let offset = 0;
  for (const element of elements) {
    out.writeUInt32LE(element.byteLength, offset);
    out.set(element, offset + 4);
    offset += 4 + element.byteLength;
  }
  return out;
}

/** Byte length of `data` in its wire form (BYTES with its 4-byte length prefixes). */
export function byteSizeOf(datatype: Datatype, data: TensorData): number {
  if (DATATYPE_INFO[datatype].array !== undefined) return (data as Exclude<TensorData, Uint8Array[]>).byteLength;
  return bytesSize(data as Uint8Array[]);
}

function bytesSize(elements: readonly Uint8Array[]): number {
  let total = 0;
  for (const element of elements) total += 4 + element.byteLength;
  return total;
}
