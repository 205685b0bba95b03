import { DATATYPE_INFO } from './datatypes.js';
import type { Tensor, TensorData } from './tensor.js';

/**
 * A tensor whose data is a copy in buffers of its own, of its datatype's base typed-array class: for
 * a second consumer of inputs the first may detach (a worker thread takes transferable buffers).
 * Not `slice()`: on a Node Buffer that is a view of the same memory.
 */
export function copyTensor(tensor: Tensor): Tensor {
  return { ...tensor, shape: [...tensor.shape], data: copyTensorData(tensor) };
}

function copyTensorData(tensor: Tensor): TensorData {
  const { data } = tensor;
  if (Array.isArray(data)) return data.map((element) => new Uint8Array(element));
  const Base = DATATYPE_INFO[tensor.datatype].array;
  if (Base === undefined) throw new TypeError(`tensor '${tensor.name}': datatype ${tensor.datatype} has no typed-array data`);
  const copy = new Base(data.length);
  copy.set(data as never);
  return copy as TensorData;
}
