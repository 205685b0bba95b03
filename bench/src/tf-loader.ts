/**
 * TensorFlow.js for the TF section's in-process rows, loaded only when a generator needs it. Raw
 * TensorFlow.js is the copy @sibyl/runtime-tf depends on (resolved from that package, the bench does
 * not depend on tfjs itself), on the WASM backend that the runtime's model threads choose on a machine
 * without native TensorFlow (packages/runtime-tf/scripts/measure.ts does the same).
 */
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
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
