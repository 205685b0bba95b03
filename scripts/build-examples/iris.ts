/**
 * `iris`: a softmax-regression classifier trained on examples/data/iris.csv, in two versions
 * trained with different hyperparameters, so the examples show versioning.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildOnnxModel, type ModelSpec } from '../../packages/testkit/src/index.js';
import type { ExampleModel } from './example-model.js';
import { accuracy, toFloat32, trainSoftmaxRegression, type LinearModel, type TrainOptions } from './softmax-regression.js';

export const IRIS_CSV = 'iris.csv';
export const IRIS_HEADER = 'sepal_length,sepal_width,petal_length,petal_width,species';

export interface IrisData {
  /** The four measurements of each row, in centimetres. */
  rows: number[][];
  /** Index into `species` for each row. */
  labels: number[];
  /** Class names in order of first appearance; the model's class index is the position here. */
  species: string[];
}

/** Parses the CSV kept in examples/data (header row, then four numbers and a species per row). */
export function parseIrisCsv(text: string): IrisData {
  const lines = text.split('\n').filter((l) => l !== '');
  if (lines[0] !== IRIS_HEADER) throw new Error(`${IRIS_CSV}: the header must be "${IRIS_HEADER}"`);
  const data: IrisData = { rows: [], labels: [], species: [] };
  lines.slice(1).forEach((line, i) => {
    const fields = line.split(',');
    const values = fields.slice(0, 4).map(Number);
    const name = fields[4];
    if (fields.length !== 5 || name === undefined || name === '' || values.some((v) => !Number.isFinite(v))) {
      throw new Error(`${IRIS_CSV} line ${i + 2}: expected four numbers and a species, got "${line}"`);
    }
    if (!data.species.includes(name)) data.species.push(name);
    data.rows.push(values);
    data.labels.push(data.species.indexOf(name));
  });
  return data;
}

/** The deterministic split: every 5th row (index 4, 9, ...) is held out, 10 of each species. */
export function isHeldOut(rowIndex: number): boolean {
  return rowIndex % 5 === 4;
}

/** Version → hyperparameters. Version 2 trains longer with a larger step. */
export const IRIS_VERSIONS: Readonly<Record<string, TrainOptions>> = Object.freeze({
  '1': { learningRate: 0.5, iterations: 1000, l2: 0 },
  '2': { learningRate: 1, iterations: 5000, l2: 0 },
});

/** input [batch,4] · weights [4,3] + bias [3] = logits; Softmax over classes; ArgMax of the logits. */
export function irisModelSpec(model: LinearModel, docString: string): ModelSpec {
  return {
    name: 'iris',
    docString,
    inputs: [{ name: 'input', datatype: 'FP32', shape: ['batch', model.features] }],
    outputs: [
      { name: 'probabilities', datatype: 'FP32', shape: ['batch', model.classes] },
      { name: 'label', datatype: 'INT64', shape: ['batch'] },
    ],
    initializers: [
      { name: 'weights', datatype: 'FP32', dims: [model.features, model.classes], values: Float32Array.from(model.weights) },
      { name: 'bias', datatype: 'FP32', dims: [model.classes], values: Float32Array.from(model.bias) },
    ],
    nodes: [
      { op: 'MatMul', inputs: ['input', 'weights'], outputs: ['scores'] },
      { op: 'Add', inputs: ['scores', 'bias'], outputs: ['logits'] },
      { op: 'Softmax', inputs: ['logits'], outputs: ['probabilities'], attributes: { axis: 1 } },
      { op: 'ArgMax', inputs: ['logits'], outputs: ['label'], attributes: { axis: 1, keepdims: 0 } },
    ],
  };
}

/**
 * Triton model configuration. Inputs and outputs are left out: they are derived from the model file
 * (Triton's auto-complete), so the config only states what the file cannot: the batch limit, that both
 * versions serve, and how the model executes. `features`/`classes` size the model; they are not repeated here.
 */
function irisConfig(_features: number, _classes: number): object {
  return {
    name: 'iris',
    platform: 'onnxruntime_onnx',
    max_batch_size: 64,
    version_policy: { all: {} },
    instance_group: [{ count: 1, kind: 'KIND_CPU' }],
    parameters: { execution_mode: { string_value: 'inline' } },
  };
}

const percent = (fraction: number) => `${(100 * fraction).toFixed(1)}%`;

export function buildIris(csvText: string): ExampleModel {
  const data = parseIrisCsv(csvText);
  const pick = <T>(xs: T[], heldOut: boolean) => xs.filter((_, i) => isHeldOut(i) === heldOut);
  const train = { rows: pick(data.rows, false), labels: pick(data.labels, false) };
  const test = { rows: pick(data.rows, true), labels: pick(data.labels, true) };

  const versions: Record<string, Uint8Array> = {};
  let spec: ModelSpec | undefined;
  const report: string[] = [];
  const tableRows: string[] = [];
  for (const [version, options] of Object.entries(IRIS_VERSIONS)) {
    // Accuracy is measured with the float32 weights the graph stores, i.e. of the model as served.
    const model = toFloat32(trainSoftmaxRegression(train.rows, train.labels, data.species.length, options));
    const trainAcc = percent(accuracy(model, train.rows, train.labels));
    const testAcc = percent(accuracy(model, test.rows, test.labels));
    const hyper = `learning rate ${options.learningRate}, ${options.iterations} iterations, L2 ${options.l2}`;
    const doc =
      `Softmax regression on the iris data (examples/data/${IRIS_CSV}), trained on the ${train.rows.length} rows ` +
      `not held out by full-batch gradient descent: ${hyper}. Training accuracy ${trainAcc}, held-out accuracy ${testAcc} ` +
      `(${test.rows.length} rows). Classes: ${data.species.join(', ')}.`;
    spec = irisModelSpec(model, doc);
    versions[version] = buildOnnxModel(spec);
    report.push(`iris/${version}: ${hyper}: training accuracy ${trainAcc} (${train.rows.length} rows), held-out ${testAcc} (${test.rows.length} rows)`);
    tableRows.push(`| ${version} | ${options.learningRate} | ${options.iterations} | ${options.l2} | ${trainAcc} | ${testAcc} |`);
  }

  if (spec === undefined) throw new Error('IRIS_VERSIONS is empty');
  const readme = `Softmax (multinomial logistic) regression on Fisher's iris data, \`examples/data/${IRIS_CSV}\`.
Training is plain TypeScript (\`scripts/build-examples/softmax-regression.ts\`): full-batch gradient
descent from zero weights on standardized features, with the standardization folded into the
weights, so the graph is only \`MatMul\` → \`Add\` → \`Softmax(axis=1)\` for \`probabilities\` and
\`ArgMax(axis=1, keepdims=0)\` for \`label\`. Every 5th row (${test.rows.length} rows, ${test.rows.length / data.species.length} per species) is
held out; the other ${train.rows.length} train.

| version | learning rate | iterations | L2 | training accuracy | held-out accuracy |
| --- | --- | --- | --- | --- | --- |
${tableRows.join('\n')}

\`label\` is the index of the class in \`labels.txt\` (${data.species.map((s) => `\`${s}\``).join(', ')}).
\`config.json\` leaves inputs and outputs to be derived from the model file and states the rest:
\`max_batch_size\`, \`version_policy: { all: {} }\` (both versions serve: \`/v2/models/iris/versions/1/infer\`
reaches version 1, \`/v2/models/iris/infer\` the latest), one instance, run inline (a model this small is
cheapest on the request thread).`;

  return {
    repository: {
      name: 'iris',
      versions,
      config: irisConfig(data.rows[0]?.length ?? 0, data.species.length),
      files: { 'labels.txt': `${data.species.join('\n')}\n` },
    },
    inputs: spec.inputs,
    outputs: spec.outputs,
    shows: 'a trained classifier; `config.json` with batching, a version policy and an execution mode; two versions',
    readme,
    report,
  };
}

/** Reads the CSV from `dataDir` and builds the model. */
export async function buildIrisFrom(dataDir: string): Promise<ExampleModel> {
  return buildIris(await readFile(join(dataDir, IRIS_CSV), 'utf8'));
}
