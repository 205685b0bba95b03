/**
 * TensorFlow.js for the TF section's in-process rows, loaded only when a generator needs it. Raw
 * TensorFlow.js is the copy @sibyl/runtime-tf depends on (resolved from that package, the bench does
 * not depend on tfjs itself), on the WASM backend that the runtime's model threads choose on a machine
 * without native TensorFlow (packages/runtime-tf/scripts/measure.ts does the same).
 */
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';

/** The part of tfjs's API the raw row uses. */
interface TfTensor {
  readonly shape: number[];
  data(): Promise<ArrayLike<number>>;
}
export interface RawTf {
  tensor2d(values: number[], shape: [number, number]): TfTensor;
  dispose(tensors: TfTensor[]): void;
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  getBackend(): string;
  io: { fromMemory(artifacts: object): unknown };
  loadLayersModel(handler: unknown): Promise<{ predict(x: TfTensor): TfTensor; dispose(): void }>;
}

async function importFromRuntimeTf(specifier: string): Promise<unknown> {
  const require = createRequire(import.meta.resolve('@sibyl/runtime-tf'));
  const mod = (await import(pathToFileURL(require.resolve(specifier)).href)) as { default?: unknown };
  return mod.default ?? mod;
}

/** tfjs on WASM with the layers model of `versionDir` (model.json + weights.bin) loaded from memory. */
export async function loadRawTf(versionDir: string): Promise<{ tf: RawTf; model: Awaited<ReturnType<RawTf['loadLayersModel']>> }> {
  const tf = (await importFromRuntimeTf('@tensorflow/tfjs')) as RawTf;
  await importFromRuntimeTf('@tensorflow/tfjs-backend-wasm');
  if (!(await tf.setBackend('wasm'))) throw new Error('TensorFlow.js: the wasm backend did not initialise');
  await tf.ready();
  const json = JSON.parse(await readFile(join(versionDir, 'model.json'), 'utf8')) as { modelTopology: unknown; weightsManifest: Array<{ weights: unknown; paths: string[] }> };
  const weights = await readFile(join(versionDir, json.weightsManifest[0]!.paths[0] ?? 'weights.bin'));
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0]!.weights, weightData: new Uint8Array(weights).buffer }),
  );
  return { tf, model };
}

/**
 * @sibyl/runtime's data plane with @sibyl/runtime-tf's engine (its default backend choice and
 * threads) serving `model` of `repository`, loaded: what worker-tf runs, without the transport.
 * Only that model is loaded (copied to a scratch repository), not the ONNX models beside it.
 */
export async function tfRuntimeService(repository: string, model: string) {
  const { createTfEngine } = await import('@sibyl/runtime-tf');
  const { createDirectorySource, createLocalInferenceService } = await import('@sibyl/runtime');
  const { createLogger, createMetrics } = await import('@sibyl/observability');
  const scratch = await mkdtemp(join(tmpdir(), 'sibyl-bench-tf-runtime-'));
  await cp(join(repository, model), join(scratch, model), { recursive: true });
  const logger = createLogger({ destination: new Writable({ write: (_c, _e, cb) => cb() }) });
  const service = createLocalInferenceService({
    source: createDirectorySource([scratch], logger),
    logger,
    metrics: createMetrics({ processMetrics: false }),
    serverVersion: 'bench',
    extensions: [],
    engines: [createTfEngine()],
  });
  await service.load();
  return {
    infer: service.infer.bind(service),
    async close() {
      await service.close();
      await rm(scratch, { recursive: true, force: true });
    },
  };
}

/** The part of tfjs's API that builds and saves a layers model. */
interface TfBuilder {
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  input(config: { shape: number[]; name: string }): unknown;
  layers: { dense(config: { units: number; activation?: string; name: string; kernelInitializer: unknown; biasInitializer: string }): { apply(x: unknown): unknown } };
  initializers: { glorotUniform(config: { seed: number }): unknown };
  model(config: { inputs: unknown; outputs: unknown; name: string }): { save(handler: unknown): Promise<unknown>; dispose(): void };
  io: { withSaveHandler(save: (artifacts: { modelTopology: unknown; weightSpecs: unknown; weightData: ArrayBuffer }) => Promise<object>): unknown };
}

export interface TfMlp {
  width: number;
  layers: number;
  outputs: number;
}

/**
 * Writes a TensorFlow.js layers model, `x` FP32 [-1,width] → `layers` × dense(width, relu) → `y` FP32
 * [-1,outputs], into `versionDir` (model.json + weights.bin), with seeded weights: the same model every
 * run. Built on tfjs's CPU backend, which the process's other tfjs users then find selected.
 */
export async function writeTfMlp(versionDir: string, mlp: TfMlp): Promise<void> {
  const tf = (await importFromRuntimeTf('@tensorflow/tfjs')) as TfBuilder;
  await tf.setBackend('cpu');
  await tf.ready();
  const x = tf.input({ shape: [mlp.width], name: 'x' });
  let h = x;
  for (let i = 0; i < mlp.layers; i++) {
    h = tf.layers.dense({ units: mlp.width, activation: 'relu', name: `dense_${i}`, kernelInitializer: tf.initializers.glorotUniform({ seed: 100 + i }), biasInitializer: 'zeros' }).apply(h);
  }
  const y = tf.layers.dense({ units: mlp.outputs, name: 'y', kernelInitializer: tf.initializers.glorotUniform({ seed: 99 }), biasInitializer: 'zeros' }).apply(h);
  const model = tf.model({ inputs: x, outputs: y, name: 'tf_mlp' });
  await mkdir(versionDir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const json = { format: 'layers-model', generatedBy: 'sibyl bench', convertedBy: null, modelTopology: artifacts.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }] };
      await writeFile(join(versionDir, 'model.json'), JSON.stringify(json));
      await writeFile(join(versionDir, 'weights.bin'), new Uint8Array(artifacts.weightData));
      return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
    }),
  );
  model.dispose();
}
