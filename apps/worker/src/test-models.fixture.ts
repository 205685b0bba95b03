/** Test fixtures of the worker: real ONNX models, published to a real registry and artifact store. */
import { Readable } from 'node:stream';
import type { ArtifactStore } from '@sibyl/artifacts';
import type { Registry } from '@sibyl/registry';
import { inspectModel } from '@sibyl/runtime';
import { buildOnnxModel } from '@sibyl/testkit';

/** y = x + k over FP32 [1]: a response tells which version ran. */
export function addK(name: string, k: number): Uint8Array {
  return buildOnnxModel({
    name,
    inputs: [{ name: 'x', datatype: 'FP32', shape: [1] }],
    outputs: [{ name: 'y', datatype: 'FP32', shape: [1] }],
    initializers: [{ name: 'k', datatype: 'FP32', dims: [1], values: new Float32Array([k]) }],
    nodes: [{ op: 'Add', inputs: ['x', 'k'], outputs: ['y'] }],
  });
}

/**
 * y = x + k over FP32 [1], carrying `floats` FP32 weights (a model file of about 4 x floats bytes):
 * k is the sum of the weights, all zero but the first.
 */
export function sizedAddK(name: string, k: number, floats: number): Uint8Array {
  const weights = new Float32Array(floats);
  weights[0] = k;
  return buildOnnxModel({
    name,
    inputs: [{ name: 'x', datatype: 'FP32', shape: [1] }],
    outputs: [{ name: 'y', datatype: 'FP32', shape: [1] }],
    initializers: [{ name: 'w', datatype: 'FP32', dims: [floats], values: weights }],
    nodes: [
      { op: 'ReduceSum', inputs: ['w'], outputs: ['k'], attributes: { keepdims: 1 } },
      { op: 'Add', inputs: ['x', 'k'], outputs: ['y'] },
    ],
  });
}

export const INLINE = { parameters: { execution_mode: { string_value: 'inline' } } };

/**
 * Stores `bytes` in `store` (the management side), registers them as the model's next version and
 * deploys it, as the management API does. With `storeFile: false` the version is registered but its
 * file is in no store (a version that cannot load).
 */
export async function publish(registry: Registry, store: ArtifactStore, name: string, bytes: Uint8Array, options: { storeFile?: boolean } = {}): Promise<string> {
  const stored = await store.put(Readable.from([Buffer.from(bytes)]), { filename: 'model.onnx' });
  const signature = await inspectModel(stored.path);
  if (options.storeFile === false) await store.remove(stored.sha256);
  await registry.createModel({ name }).catch(() => undefined);
  const version = await registry.registerVersion({
    model: name,
    sha256: stored.sha256,
    size: stored.size,
    filename: 'model.onnx',
    format: 'onnx-file',
    signature,
    config: INLINE,
    createdBy: 'alice',
  });
  await registry.deploy(name, version.version, 'alice');
  return stored.sha256;
}
