/**
 * `datatypes`: one input per v2 datatype that onnxruntime-node carries, each echoed by Identity,
 * plus outputs computed across types. The end-to-end tests send every datatype both ways through it.
 */
import { buildOnnxModel, ONNX_ELEM_TYPE, type ModelSpec, type NodeSpec, type ValueSpec } from '../../packages/testkit/src/index.js';
import { formatShape, type ExampleModel } from './example-model.js';

type Datatype = ValueSpec['datatype'];

/**
 * The datatypes onnxruntime-node 1.30 passes through a model, checked with an Identity model on
 * extreme values (scripts/build-examples.test.ts checks each one still does).
 * BF16 is left out: onnxruntime-node refuses a session with a bfloat16 input or output
 * ("Unsupported data type: 16").
 */
export const CARRIED_DATATYPES = [
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
  'BYTES',
] as const satisfies readonly Datatype[];

/** The input carrying `datatype`: its name in lower case (`fp16`); the echo is `<input>_out`. */
export function datatypeInput(datatype: Datatype): string {
  return datatype.toLowerCase();
}

const SHAPE = ['batch', 2];

export function datatypesModelSpec(): ModelSpec {
  const inputs: ValueSpec[] = CARRIED_DATATYPES.map((d) => ({ name: datatypeInput(d), datatype: d, shape: SHAPE }));
  const echoes: ValueSpec[] = inputs.map((i) => ({ ...i, name: `${i.name}_out` }));
  const computed: ValueSpec[] = [
    { name: 'sum_fp64', datatype: 'FP64', shape: SHAPE },
    { name: 'fp16_as_fp32', datatype: 'FP32', shape: SHAPE },
    { name: 'not_bool', datatype: 'BOOL', shape: SHAPE },
  ];
  const cast = (input: string, to: Datatype, output: string): NodeSpec => ({
    op: 'Cast',
    inputs: [input],
    outputs: [output],
    attributes: { to: ONNX_ELEM_TYPE[to] },
  });
  return {
    name: 'datatypes',
    docString:
      'Every input <t> is echoed as <t>_out. sum_fp64 = double(int32) + double(int64) + fp64; ' +
      'fp16_as_fp32 = float(fp16); not_bool = !bool.',
    inputs,
    outputs: [...echoes, ...computed],
    nodes: [
      ...inputs.map((i): NodeSpec => ({ op: 'Identity', inputs: [i.name], outputs: [`${i.name}_out`] })),
      cast('int32', 'FP64', 'int32_fp64'),
      cast('int64', 'FP64', 'int64_fp64'),
      { op: 'Add', inputs: ['int32_fp64', 'int64_fp64'], outputs: ['int_sum_fp64'] },
      { op: 'Add', inputs: ['int_sum_fp64', 'fp64'], outputs: ['sum_fp64'] },
      cast('fp16', 'FP32', 'fp16_as_fp32'),
      { op: 'Not', inputs: ['bool'], outputs: ['not_bool'] },
    ],
  };
}

export function buildDatatypes(): ExampleModel {
  const spec = datatypesModelSpec();
  const readme = `One input per datatype, all of shape \`${formatShape(SHAPE)}\`, named after the datatype in lower
case: ${CARRIED_DATATYPES.map((d) => `\`${datatypeInput(d)}\``).join(', ')}. Each is echoed unchanged
as \`<input>_out\` (an ONNX \`Identity\`), so a client can send every datatype and check that the same
values come back, over JSON, the binary extension and gRPC. Every input is required.

Computed outputs, so a test can tell conversion from echo:

- \`sum_fp64\` FP64 = double(\`int32\`) + double(\`int64\`) + \`fp64\`
- \`fp16_as_fp32\` FP32 = \`fp16\` widened to float32 (checks that FP16 bit patterns are read as half floats)
- \`not_bool\` BOOL = logical not of \`bool\`

Datatypes and onnxruntime-node 1.30:

- **BF16** is left out: onnxruntime-node refuses a model with a bfloat16 input or output
  (\`Unsupported data type: 16\`).
- **FP16** travels as raw 16-bit patterns (\`Uint16Array\`); Node 20 has no \`Float16Array\`.
- **BYTES** elements go into and come out of onnxruntime-node as JavaScript strings, so only text
  makes the round trip: an element is cut at its first NUL character (\`"x\\u0000y"\` comes back as
  \`"x"\`), and bytes that are not valid UTF-8 cannot be represented (decoding replaces them with
  U+FFFD).`;
  return {
    repository: { name: 'datatypes', versions: { '1': buildOnnxModel(spec) } },
    inputs: spec.inputs,
    outputs: spec.outputs,
    shows: 'every datatype onnxruntime-node carries, both ways; a dynamic batch dimension; metadata from the model file (no config)',
    readme,
    report: [],
  };
}
