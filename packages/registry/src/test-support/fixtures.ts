/** Test data for registry tests: deterministic hashes, a signature, a version upload. */
import { createHash } from 'node:crypto';
import type { RegisterVersionInput, VersionSignature } from '../registry-types.js';

export function sha256Of(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export const SIGNATURE: VersionSignature = {
  platform: 'onnxruntime_onnx',
  inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }],
  outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 2] }],
  maxBatchSize: 4,
};

export function upload(model: string, content: string, extra: Partial<RegisterVersionInput> = {}): RegisterVersionInput {
  return {
    model,
    sha256: sha256Of(content),
    size: content.length,
    filename: 'model.onnx',
    format: 'onnx-file',
    signature: SIGNATURE,
    config: { max_batch_size: 4 },
    createdBy: 'alice',
    ...extra,
  };
}

/** Resolves when `predicate` holds, polling every 5 ms; rejects after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
