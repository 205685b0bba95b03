/**
 * The element types of an ONNX model's graph inputs and outputs, read straight from its protobuf.
 *
 * Only used to explain a load failure: onnxruntime-node refuses a model with a BF16 (or float8)
 * input or output with "Unsupported data type: 16", without naming the tensor; this finds it. A
 * minimal wire-format walk (ModelProto.graph=7 → GraphProto.input=11/output=12 → ValueInfoProto
 * name=1, type=2 → TypeProto.tensor_type=1 → elem_type=1) that skips everything else, initializers
 * included, without decoding them.
 */

export interface GraphValueType {
  name: string;
  kind: 'input' | 'output';
  /** onnx TensorProto.DataType number; undefined for non-tensor values. */
  elemType: number | undefined;
}

/** onnx TensorProto.DataType names for the types onnxruntime-node cannot exchange. */
export const UNSUPPORTED_ELEM_TYPES: Readonly<Record<number, string>> = Object.freeze({
  16: 'BF16 (bfloat16)',
  17: 'FLOAT8E4M3FN',
  18: 'FLOAT8E4M3FNUZ',
  19: 'FLOAT8E5M2',
  20: 'FLOAT8E5M2FNUZ',
  23: 'FLOAT4E2M1',
});

interface Field {
  field: number;
  wire: number;
  /** Varint value (wire 0). */
  value: number;
  /** Bytes (wire 2). */
  start: number;
  end: number;
}

function* fields(buf: Uint8Array, start: number, end: number): Generator<Field> {
  let pos = start;
  const varint = (): number => {
    let result = 0;
    let scale = 1;
    for (;;) {
      if (pos >= end) throw new Error('truncated varint');
      const byte = buf[pos++]!;
      result += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) return result;
      scale *= 128;
    }
  };
  while (pos < end) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    switch (wire) {
      case 0:
        yield { field, wire, value: varint(), start: 0, end: 0 };
        break;
      case 1:
        pos += 8;
        break;
      case 2: {
        const length = varint();
        const from = pos;
        pos += length;
        if (pos > end) throw new Error('truncated field');
        yield { field, wire, value: 0, start: from, end: pos };
        break;
      }
      case 5:
        pos += 4;
        break;
      default:
        throw new Error(`unsupported wire type ${wire}`);
    }
  }
}

function sub(buf: Uint8Array, f: Field, field: number): Field | undefined {
  for (const g of fields(buf, f.start, f.end)) if (g.field === field && g.wire === 2) return g;
  return undefined;
}

function valueType(buf: Uint8Array, f: Field, kind: 'input' | 'output'): GraphValueType {
  let name = '';
  let elemType: number | undefined;
  for (const g of fields(buf, f.start, f.end)) {
    if (g.field === 1 && g.wire === 2) name = Buffer.from(buf.buffer, buf.byteOffset + g.start, g.end - g.start).toString('utf8');
    if (g.field === 2 && g.wire === 2) {
      const tensor = sub(buf, g, 1);
      if (tensor !== undefined) {
        for (const h of fields(buf, tensor.start, tensor.end)) if (h.field === 1 && h.wire === 0) elemType = h.value;
      }
    }
  }
  return { name, kind, elemType };
}

/** The graph's inputs and outputs with their element types; throws on a malformed protobuf. */
export function graphValueTypes(model: Uint8Array): GraphValueType[] {
  const out: GraphValueType[] = [];
  for (const f of fields(model, 0, model.length)) {
    if (f.field !== 7 || f.wire !== 2) continue;
    for (const g of fields(model, f.start, f.end)) {
      if (g.wire !== 2) continue;
      if (g.field === 11) out.push(valueType(model, g, 'input'));
      if (g.field === 12) out.push(valueType(model, g, 'output'));
    }
  }
  return out;
}
