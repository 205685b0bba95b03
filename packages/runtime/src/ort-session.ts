/**
 * One onnxruntime-node session, as both execution modes use it: created from a file path (so external
 * data files beside the model resolve), described as plain SessionInfo, run on WireTensors.
 *
 * Imports only onnxruntime-node (see wire.ts): thread-worker.ts loads it inside a worker.
 */
import ort from 'onnxruntime-node';
import type { FixedData, RunResult, SessionInfo, SessionSettings, WireTensor, WireValueInfo } from './wire.js';

export interface OrtSession {
  readonly info: SessionInfo;
  run(feeds: readonly WireTensor[], fetches: readonly string[]): Promise<RunResult>;
  release(): Promise<void>;
}

function describe(values: readonly ort.InferenceSession.ValueMetadata[]): WireValueInfo[] {
  return values.map((v) =>
    v.isTensor ? { name: v.name, isTensor: true, type: v.type, shape: [...v.shape] } : { name: v.name, isTensor: false },
  );
}

/**
 * onnxruntime-node hands float16 data back as a Float16Array where the platform has one (Node 24+)
 * and as a Uint16Array otherwise; v2 keeps FP16 as raw bits in a Uint16Array, so both become that view.
 */
function normaliseData(type: string, data: unknown): FixedData | string[] {
  if (type === 'float16' && !(data instanceof Uint16Array)) {
    const view = data as ArrayBufferView;
    return new Uint16Array(view.buffer, view.byteOffset, view.byteLength / 2);
  }
  return data as FixedData | string[];
}

export async function createOrtSession(modelPath: string, settings: SessionSettings): Promise<OrtSession> {
  const session = await ort.InferenceSession.create(modelPath, { ...settings });
  const info: SessionInfo = { inputs: describe(session.inputMetadata), outputs: describe(session.outputMetadata) };
  return {
    info,
    async run(feeds, fetches) {
      const inputs: Record<string, ort.Tensor> = {};
      for (const feed of feeds) {
        // The Tensor constructor's overloads are per type; the pairing of type and data is checked upstream.
        inputs[feed.name] = new ort.Tensor(feed.type as 'float32', feed.data as Float32Array, feed.dims);
      }
      const started = performance.now();
      // A failed run is returned to the caller with onnxruntime's message (and counted); its own
      // stderr line would only duplicate it outside the structured log.
      const results = await session.run(inputs, fetches as string[], { logSeverityLevel: 4 });
      const computeUs = Math.round((performance.now() - started) * 1000);
      const outputs: WireTensor[] = fetches.map((name) => {
        const value = results[name];
        if (value === undefined) throw new Error(`onnxruntime returned no value for output '${name}'`);
        return {
          name,
          type: value.type as WireTensor['type'],
          dims: [...value.dims],
          data: normaliseData(value.type, value.data),
        };
      });
      return { outputs, computeUs };
    },
    release: () => session.release(),
  };
}
