/**
 * v2 tensors to onnxruntime values and back.
 *
 * Fixed-size data passes through as the same typed array (no copy): v2 and onnxruntime-node hold
 * every fixed datatype the same way (BOOL one byte per element, FP16 raw bits in a Uint16Array, INT64
 * and UINT64 as BigInt arrays). BYTES is the one conversion: v2 holds byte strings, onnxruntime-node
 * holds JS strings, exchanged as UTF-8. Outputs keep any bytes the model produces, NUL included.
 */
import { isUtf8 } from 'node:buffer';
import type { Datatype, Tensor } from '@sibyl/protocol';
import { ORT_TYPE } from './datatype-mapping.js';
import { bytesUnrepresentable } from './errors.js';
import type { FixedData, WireTensor } from './wire.js';

function decodeStrings(name: string, elements: readonly Uint8Array[]): string[] {
  const strings = new Array<string>(elements.length);
  for (let i = 0; i < elements.length; i++) {
    const bytes = elements[i]!;
    // onnxruntime-node would alter these (invalid UTF-8 replaced, the rest cut at the first NUL byte,
    // checked on 1.30): refuse them rather than run the model on other bytes than were sent.
    if (!isUtf8(bytes)) throw bytesUnrepresentable(name, i, 'is not valid UTF-8');
    if (bytes.includes(0)) throw bytesUnrepresentable(name, i, 'holds a NUL byte');
    strings[i] = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  }
  return strings;
}

/** The onnxruntime value for a validated v2 input (datatype and data array already checked). */
export function toWireTensor(tensor: Tensor): WireTensor {
  const type = ORT_TYPE[tensor.datatype];
  if (type === undefined) throw new TypeError(`datatype ${tensor.datatype} has no onnxruntime-node type`);
  const data = tensor.datatype === 'BYTES' ? decodeStrings(tensor.name, tensor.data as Uint8Array[]) : (tensor.data as FixedData);
  return { name: tensor.name, type, dims: tensor.shape, data };
}

/** The v2 output for an onnxruntime value; `datatype` is the one the model's metadata declares. */
export function fromWireTensor(value: WireTensor, datatype: Datatype): Tensor {
  const data = Array.isArray(value.data) ? value.data.map((s) => Buffer.from(s, 'utf8')) : value.data;
  return { name: value.name, datatype, shape: value.dims, data };
}
