/**
 * Hand-written TensorFlow.js graph models (GraphDef in the converter's JSON form, with a serving
 * signature), so tests build real models without Python's converter.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

type Dt = 'DT_FLOAT' | 'DT_INT32' | 'DT_BOOL';

export interface GraphTensor {
  name: string;
  dtype: Dt;
  shape: number[];
}

export interface GraphNode {
  name: string;
  op: string;
  inputs: string[];
  attr?: Record<string, unknown>;
}

const shapeOf = (shape: number[]) => ({ dim: shape.map((size) => ({ size: String(size) })) });

export function graphModelJson(inputs: GraphTensor[], nodes: GraphNode[], outputs: GraphTensor[]): string {
  const node = [
    ...inputs.map((t) => ({ name: t.name, op: 'Placeholder', attr: { dtype: { type: t.dtype }, shape: { shape: shapeOf(t.shape) } } })),
    ...nodes.map((n) => ({ name: n.name, op: n.op, input: n.inputs, attr: n.attr ?? {} })),
  ];
  const sig = (ts: GraphTensor[]) => Object.fromEntries(ts.map((t) => [t.name, { name: `${t.name}:0`, dtype: t.dtype, tensorShape: shapeOf(t.shape) }]));
  return JSON.stringify({
    format: 'graph-model',
    generatedBy: 'sibyl-test',
    convertedBy: 'sibyl-test',
    modelTopology: { node, versions: { producer: 1 } },
    signature: { inputs: sig(inputs), outputs: sig(outputs) },
    weightsManifest: [{ paths: [], weights: [] }],
  });
}

/** y_fp32 = -x_fp32, y_int32 = x_int32 + x_int32, y_bool = !x_bool; every tensor [-1, 3]. */
export function datatypesModelJson(): string {
  const t = (name: string, dtype: Dt): GraphTensor => ({ name, dtype, shape: [-1, 3] });
  return graphModelJson(
    [t('x_fp32', 'DT_FLOAT'), t('x_int32', 'DT_INT32'), t('x_bool', 'DT_BOOL')],
    [
      { name: 'y_fp32', op: 'Neg', inputs: ['x_fp32'], attr: { T: { type: 'DT_FLOAT' } } },
      { name: 'y_int32', op: 'AddV2', inputs: ['x_int32', 'x_int32'], attr: { T: { type: 'DT_INT32' } } },
      { name: 'y_bool', op: 'LogicalNot', inputs: ['x_bool'] },
    ],
    [t('y_fp32', 'DT_FLOAT'), t('y_int32', 'DT_INT32'), t('y_bool', 'DT_BOOL')],
  );
}

/** y = a · b, all [n, n] FP32: a model whose compute grows as n³. */
export function matmulModelJson(n: number): string {
  const t = (name: string): GraphTensor => ({ name, dtype: 'DT_FLOAT', shape: [n, n] });
  return graphModelJson(
    [t('a'), t('b')],
    [{ name: 'y', op: 'MatMul', inputs: ['a', 'b'], attr: { T: { type: 'DT_FLOAT' }, transpose_a: { b: false }, transpose_b: { b: false } } }],
    [t('y')],
  );
}

export async function writeModelVersion(repo: string, model: string, version: number, files: Record<string, string | Uint8Array>): Promise<void> {
  const dir = join(repo, model, String(version));
  await mkdir(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
}
