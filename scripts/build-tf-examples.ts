/**
 * Builds the TensorFlow.js example model of examples/models from the data in examples/data:
 * `iris_tf`, a small dense layers model trained on the iris measurements.
 *
 *   npx tsx scripts/build-tf-examples.ts [output directory]
 *
 * Deterministic: seeded initialisers, no shuffling, full-batch training on tfjs's pure-JS CPU backend
 * (no threads, no SIMD reductions), fixed layer names. scripts/build-tf-examples.test.ts rebuilds it
 * and checks the committed bytes. It writes only `iris_tf/`: the ONNX models beside it are
 * scripts/build-examples.ts's.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { DATA_DIR } from './build-examples/example-model.js';
import { IRIS_CSV, isHeldOut, parseIrisCsv } from './build-examples/iris.js';

export const DEFAULT_TF_OUTPUT_DIR = fileURLToPath(new URL('../examples/models', import.meta.url));
export const IRIS_TF = 'iris_tf';
export const IRIS_TF_INPUT = 'measurements';
export const IRIS_TF_OUTPUT = 'probabilities';

const EPOCHS = 300;
const LEARNING_RATE = 0.02;
const HIDDEN_UNITS = 10;

export interface TfBuildResult {
  /** Files written, relative to the output directory, sorted. */
  files: string[];
  /** Held-out accuracy, 0..1. */
  heldOutAccuracy: number;
  report: string[];
}

export function irisTfModel(): tf.LayersModel {
  const input = tf.input({ shape: [4], name: IRIS_TF_INPUT, dtype: 'float32' });
  const hidden = tf.layers
    .dense({ units: HIDDEN_UNITS, activation: 'relu', name: 'hidden', kernelInitializer: tf.initializers.glorotUniform({ seed: 7 }) })
    .apply(input) as tf.SymbolicTensor;
  const output = tf.layers
    .dense({ units: 3, activation: 'softmax', name: IRIS_TF_OUTPUT, kernelInitializer: tf.initializers.glorotUniform({ seed: 11 }) })
    .apply(hidden) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output, name: IRIS_TF });
}

/** Trains iris_tf and writes `<outDir>/iris_tf/1/{model.json,weights.bin}`. */
export async function buildTfExamples(outDir: string = DEFAULT_TF_OUTPUT_DIR, dataDir: string = DATA_DIR): Promise<TfBuildResult> {
  await tf.setBackend('cpu');
  const data = parseIrisCsv(await readFile(join(dataDir, IRIS_CSV), 'utf8'));
  const train = data.rows.flatMap((row, i) => (isHeldOut(i) ? [] : [{ row, label: data.labels[i]! }]));
  const test = data.rows.flatMap((row, i) => (isHeldOut(i) ? [{ row, label: data.labels[i]! }] : []));

  const model = irisTfModel();
  model.compile({ optimizer: tf.train.adam(LEARNING_RATE), loss: 'sparseCategoricalCrossentropy' });
  const xs = tf.tensor2d(train.map((t) => t.row));
  const ys = tf.tensor1d(train.map((t) => t.label), 'float32');
  await model.fit(xs, ys, { epochs: EPOCHS, batchSize: train.length, shuffle: false, verbose: 0 });
  tf.dispose([xs, ys]);

  const probabilities = model.predict(tf.tensor2d(test.map((t) => t.row))) as tf.Tensor;
  const predicted = (await probabilities.argMax(1).data()) as Int32Array;
  const correct = test.filter((t, i) => predicted[i] === t.label).length;
  const heldOutAccuracy = correct / test.length;

  const dir = join(outDir, IRIS_TF, '1');
  await rm(join(outDir, IRIS_TF), { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await model.save({
    async save(artifacts) {
      const weights = artifacts.weightData as ArrayBuffer;
      const json = {
        format: 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
      };
      await writeFile(join(dir, 'model.json'), JSON.stringify(json) + '\n');
      await writeFile(join(dir, 'weights.bin'), new Uint8Array(weights));
      return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
    },
  });
  model.dispose();
  return {
    files: [`${IRIS_TF}/1/model.json`, `${IRIS_TF}/1/weights.bin`],
    heldOutAccuracy,
    report: [`${IRIS_TF}: held-out accuracy ${correct}/${test.length} (${(heldOutAccuracy * 100).toFixed(1)}%)`],
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const out = resolve(process.argv[2] ?? DEFAULT_TF_OUTPUT_DIR);
  const result = await buildTfExamples(out);
  for (const line of result.report) console.log(line);
  console.log(`wrote ${result.files.map((f) => join(out, f)).join(', ')}`);
}
