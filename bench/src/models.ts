/**
 * The models the bench serves: the repository's examples when they exist, otherwise stand-ins
 * built here with @sibyl/testkit that have the same names, datatypes and shapes. Either way they
 * are copied into a temporary Triton-layout repository so Sibyl loads only these two.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { buildOnnxModel } from '@sibyl/testkit';
import { REPO_ROOT } from './paths.js';
import { IDENTITY_MODEL, IRIS_MODEL, IRIS_SAMPLE, type IrisExpectation } from './payloads.js';


export interface ModelInfo {
  name: string;
  /** The model.onnx inside the temporary repository. */
  path: string;
  /** `examples` when copied from examples/models, `built` when the bench built a stand-in. */
  source: 'examples' | 'built';
  inputs: string[];
  outputs: string[];
}

export interface BenchModels {
  repository: string;
  iris: ModelInfo;
  identity: ModelInfo;
  /** What session.run returns for IRIS_SAMPLE; every target must return the same. */
  irisExpected: IrisExpectation;
  /** The identity model's input and output tensor names. */
  identityInput: string;
  identityOutput: string;
  remove(): void;
}

/** input FP32 [batch,4] -> MatMul/Add -> Softmax -> probabilities FP32 [batch,3]; ArgMax -> label INT64 [batch]. */
export function buildIrisStandIn(): Uint8Array {
  // Hand-set weights that separate the three species on petal size, so the sample is class 0.
  const weights = new Float32Array([
    0.4, 0.1, -0.5, //
    1.2, -0.3, -0.9, //
    -1.8, 0.3, 1.5, //
    -1.9, -0.2, 2.1,
  ]);
  return buildOnnxModel({
    name: 'iris',
    inputs: [{ name: 'input', datatype: 'FP32', shape: ['batch', 4] }],
    outputs: [
      { name: 'probabilities', datatype: 'FP32', shape: ['batch', 3] },
      { name: 'label', datatype: 'INT64', shape: ['batch'] },
    ],
    initializers: [
      { name: 'W', datatype: 'FP32', dims: [4, 3], values: weights },
      { name: 'B', datatype: 'FP32', dims: [3], values: new Float32Array([0.5, 0.8, -1.2]) },
    ],
    nodes: [
      { op: 'MatMul', inputs: ['input', 'W'], outputs: ['xw'] },
      { op: 'Add', inputs: ['xw', 'B'], outputs: ['logits'] },
      { op: 'Softmax', inputs: ['logits'], outputs: ['probabilities'], attributes: { axis: -1 } },
      { op: 'ArgMax', inputs: ['logits'], outputs: ['label'], attributes: { axis: 1, keepdims: 0 } },
    ],
  });
}

/** input FP32 ["n"] -> Identity -> output. */
export function buildIdentityStandIn(): Uint8Array {
  return buildOnnxModel({
    name: 'identity',
    inputs: [{ name: 'input', datatype: 'FP32', shape: ['n'] }],
    outputs: [{ name: 'output', datatype: 'FP32', shape: ['n'] }],
    nodes: [{ op: 'Identity', inputs: ['input'], outputs: ['output'] }],
  });
}

async function place(repository: string, name: string, build: () => Uint8Array): Promise<ModelInfo> {
  const example = join(REPO_ROOT, 'examples/models', name);
  const target = join(repository, name);
  let source: ModelInfo['source'];
  if (existsSync(join(example, '1/model.onnx'))) {
    // Only version 1 and the model's config, so the repository holds exactly one version.
    mkdirSync(target, { recursive: true });
    cpSync(join(example, '1'), join(target, '1'), { recursive: true });
    for (const cfg of ['config.pbtxt', 'config.json', 'config.yaml', 'config.yml']) {
      if (existsSync(join(example, cfg))) cpSync(join(example, cfg), join(target, cfg));
    }
    source = 'examples';
  } else {
    mkdirSync(join(target, '1'), { recursive: true });
    writeFileSync(join(target, '1/model.onnx'), build());
    source = 'built';
  }
  const path = join(target, '1/model.onnx');
  const session = await ort.InferenceSession.create(path);
  const info: ModelInfo = { name, path, source, inputs: [...session.inputNames], outputs: [...session.outputNames] };
  await session.release();
  return info;
}

export async function prepareModels(): Promise<BenchModels> {
  const repository = mkdtempSync(join(tmpdir(), 'sibyl-bench-'));
  const remove = () => rmSync(repository, { recursive: true, force: true });
  try {
    const iris = await place(repository, IRIS_MODEL, buildIrisStandIn);
    const identity = await place(repository, IDENTITY_MODEL, buildIdentityStandIn);
    if (!iris.inputs.includes('input') || !iris.outputs.includes('probabilities') || !iris.outputs.includes('label')) {
      throw new Error(`${iris.path}: expected input 'input' and outputs 'probabilities', 'label'; it has inputs ${iris.inputs.join(', ')} and outputs ${iris.outputs.join(', ')}`);
    }
    if (identity.inputs.length !== 1 || identity.outputs.length !== 1) {
      throw new Error(`${identity.path}: expected one input and one output; it has ${identity.inputs.length} and ${identity.outputs.length}`);
    }
    const session = await ort.InferenceSession.create(iris.path);
    const result = await session.run({ input: new ort.Tensor('float32', Float32Array.from(IRIS_SAMPLE), [1, 4]) });
    await session.release();
    const irisExpected = {
      probabilities: Array.from(result.probabilities!.data as Float32Array),
      label: Number((result.label!.data as BigInt64Array)[0]),
    };
    return { repository, iris, identity, irisExpected, identityInput: identity.inputs[0]!, identityOutput: identity.outputs[0]!, remove };
  } catch (err) {
    remove();
    throw err;
  }
}
