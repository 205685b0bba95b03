/**
 * What a TF.js model version serves, derived from the model as Triton's auto-complete does: tfjs
 * dtypes as v2 datatypes (float32 FP32, int32 INT32, bool BOOL, string BYTES), unknown dims -1. When
 * every input and output has a variable first dimension the model batches: max_batch_size is the
 * runtime's default and metadata shows the leading -1, as for ONNX models.
 */
import type { Datatype, TensorMetadata } from '@sibyl/protocol';
import { runtimeErrors } from '@sibyl/runtime';
import type { TfDtype, TfModelInfo, TfValueInfo } from './tf-wire.js';

export const DATATYPE_OF_TF: Readonly<Record<TfDtype, Datatype>> = Object.freeze({
  float32: 'FP32',
  int32: 'INT32',
  bool: 'BOOL',
  string: 'BYTES',
});

export const TF_OF_DATATYPE: ReadonlyMap<Datatype, TfDtype> = new Map(
  Object.entries(DATATYPE_OF_TF).map(([tf, datatype]) => [datatype, tf as TfDtype]),
);

export interface TfSignature {
  /** graph-model: `tensorflowjs_graph`; layers-model: `tensorflowjs_layers` (the registry's platforms). */
  platform: 'tensorflowjs_graph' | 'tensorflowjs_layers';
  /** Triton's max_batch_size: 0 when the model does not batch. */
  maxBatchSize: number;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
}

function tensor(model: string, version: string, value: TfValueInfo): TensorMetadata {
  const datatype = DATATYPE_OF_TF[value.dtype as TfDtype] as Datatype | undefined;
  if (datatype === undefined) throw runtimeErrors.datatypeUnsupported(model, version, value.name, `dtype '${value.dtype}' has no v2 datatype`);
  return { name: value.name, datatype, shape: value.shape };
}

export function tfSignature(model: string, version: string, info: TfModelInfo, defaultMaxBatchSize: number): TfSignature {
  const inputs = info.inputs.map((v) => tensor(model, version, v));
  const outputs = info.outputs.map((v) => tensor(model, version, v));
  const all = [...inputs, ...outputs];
  const batches = defaultMaxBatchSize > 0 && all.length > 0 && all.every((t) => t.shape.length > 0 && t.shape[0] === -1);
  return {
    platform: info.format === 'graph-model' ? 'tensorflowjs_graph' : 'tensorflowjs_layers',
    maxBatchSize: batches ? defaultMaxBatchSize : 0,
    inputs,
    outputs,
  };
}
