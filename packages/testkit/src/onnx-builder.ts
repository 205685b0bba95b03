/**
 * Builds ONNX models from a small description, with the protobuf message types of `onnx-proto`.
 *
 * Used by the example-model script and by tests: fixtures are real models run by the real runtime,
 * never mocks. Encoding is deterministic: the same description always gives the same bytes.
 */
import onnxProto from 'onnx-proto';
import type { Datatype } from '@sibyl/protocol';

const { onnx } = onnxProto;

/** ONNX TensorProto.DataType numbers for each v2 datatype (onnx/onnx.proto3). */
export const ONNX_ELEM_TYPE: Readonly<Record<Datatype, number>> = Object.freeze({
  FP32: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  BYTES: 8,
  BOOL: 9,
  FP16: 10,
  FP64: 11,
  UINT32: 12,
  UINT64: 13,
  BF16: 16,
});

export interface ValueSpec {
  name: string;
  datatype: Datatype;
  /** A number is a fixed dimension, a string a symbolic one (served as -1). */
  shape: Array<number | string>;
}

export type AttributeValue = number | number[] | string | string[] | InitializerSpec;

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  attributes?: Record<string, AttributeValue>;
  /** Attributes given as floats even when the value is a whole number (e.g. alpha=1). */
  floatAttributes?: string[];
  domain?: string;
  name?: string;
}

export interface InitializerSpec {
  name: string;
  datatype: Datatype;
  dims: number[];
  /** Numeric values as a typed array of the datatype's storage; BYTES as strings. */
  values: ArrayBufferView | string[];
}

export interface ModelSpec {
  name: string;
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  nodes: NodeSpec[];
  initializers?: InitializerSpec[];
  /** Default opset 13 of the default domain. */
  opset?: number;
  /** Extra operator sets, e.g. { 'ai.onnx.ml': 3 }. */
  extraOpsets?: Record<string, number>;
  irVersion?: number;
  docString?: string;
}

function valueInfo(spec: ValueSpec) {
  return onnx.ValueInfoProto.create({
    name: spec.name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType: ONNX_ELEM_TYPE[spec.datatype],
        shape: onnx.TensorShapeProto.create({
          dim: spec.shape.map((d) =>
            typeof d === 'string'
              ? onnx.TensorShapeProto.Dimension.create({ dimParam: d })
              : onnx.TensorShapeProto.Dimension.create({ dimValue: d }),
          ),
        }),
      }),
    }),
  });
}

function tensorProto(spec: InitializerSpec) {
  if (spec.datatype === 'BYTES') {
    const values = spec.values as string[];
    return onnx.TensorProto.create({
      name: spec.name,
      dims: spec.dims,
      dataType: ONNX_ELEM_TYPE.BYTES,
      stringData: values.map((s) => Buffer.from(s, 'utf8')),
    });
  }
  const view = spec.values as ArrayBufferView;
  return onnx.TensorProto.create({
    name: spec.name,
    dims: spec.dims,
    dataType: ONNX_ELEM_TYPE[spec.datatype],
    rawData: new Uint8Array(view.buffer, view.byteOffset, view.byteLength),
  });
}

function attribute(name: string, value: AttributeValue, asFloat: boolean) {
  const A = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string') return onnx.AttributeProto.create({ name, type: A.STRING, s: Buffer.from(value) });
  if (typeof value === 'number') {
    return asFloat || !Number.isInteger(value)
      ? onnx.AttributeProto.create({ name, type: A.FLOAT, f: value })
      : onnx.AttributeProto.create({ name, type: A.INT, i: value });
  }
  if (Array.isArray(value)) {
    if (value.length > 0 && typeof value[0] === 'string') {
      return onnx.AttributeProto.create({ name, type: A.STRINGS, strings: (value as string[]).map((s) => Buffer.from(s)) });
    }
    const nums = value as number[];
    return asFloat || nums.some((n) => !Number.isInteger(n))
      ? onnx.AttributeProto.create({ name, type: A.FLOATS, floats: nums })
      : onnx.AttributeProto.create({ name, type: A.INTS, ints: nums });
  }
  return onnx.AttributeProto.create({ name, type: A.TENSOR, t: tensorProto(value) });
}

/** Encodes the model described by `spec` as ONNX bytes. */
export function buildOnnxModel(spec: ModelSpec): Uint8Array {
  const graph = onnx.GraphProto.create({
    name: spec.name,
    input: spec.inputs.map(valueInfo),
    output: spec.outputs.map(valueInfo),
    initializer: (spec.initializers ?? []).map(tensorProto),
    node: spec.nodes.map((n, i) =>
      onnx.NodeProto.create({
        name: n.name ?? `${n.op}_${i}`,
        opType: n.op,
        domain: n.domain ?? '',
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attributes ?? {}).map(([k, v]) =>
          attribute(k, v, n.floatAttributes?.includes(k) ?? false),
        ),
      }),
    ),
  });
  const opsets = [onnx.OperatorSetIdProto.create({ domain: '', version: spec.opset ?? 13 })];
  for (const [domain, version] of Object.entries(spec.extraOpsets ?? {})) {
    opsets.push(onnx.OperatorSetIdProto.create({ domain, version }));
  }
  const model = onnx.ModelProto.create({
    irVersion: spec.irVersion ?? 8,
    producerName: 'sibyl',
    producerVersion: '1',
    docString: spec.docString ?? '',
    opsetImport: opsets,
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}

/** An Identity model for each (name, datatype) pair: output `<name>_out` echoes input `<name>`. */
export function identityModel(name: string, tensors: Array<{ name: string; datatype: Datatype; shape: Array<number | string> }>): Uint8Array {
  return buildOnnxModel({
    name,
    inputs: tensors,
    outputs: tensors.map((t) => ({ ...t, name: `${t.name}_out` })),
    nodes: tensors.map((t) => ({ op: 'Identity', inputs: [t.name], outputs: [`${t.name}_out`] })),
  });
}
