/**
 * The onnxruntime-node engine: a model file opened as a session inline (on the event loop) or on a
 * worker thread of its own (see model-engine.ts for the contract).
 */
import { readFile } from 'node:fs/promises';
import type { SibylError } from '@sibyl/protocol';
import { datatypeUnsupported, modelFileInvalid } from './errors.js';
import { createInlineInstance } from './inline-instance.js';
import { BACKEND, PLATFORM } from './model-config.js';
import type { ModelEngine, OpenInstanceOptions } from './model-engine.js';
import { graphValueTypes, UNSUPPORTED_ELEM_TYPES } from './onnx-graph-types.js';
import { defaultSessionSettings } from './session-settings.js';
import { createThreadInstance } from './thread-instance.js';

/** onnxruntime's load error, with the tensor named when the cause is a type the binding cannot exchange. */
async function explainLoadFailure(model: string, version: string, file: string, err: unknown): Promise<SibylError> {
  const message = err instanceof Error ? err.message : String(err);
  const unsupported = /^Unsupported data type: (\d+)/.exec(message);
  if (unsupported !== null) {
    try {
      const elemType = Number(unsupported[1]);
      const value = graphValueTypes(await readFile(file)).find((v) => v.elemType === elemType);
      const typeName = UNSUPPORTED_ELEM_TYPES[elemType] ?? `onnx element type ${elemType}`;
      if (value !== undefined) {
        return datatypeUnsupported(model, version, value.name,
          `${value.kind} of type ${typeName} is not supported: onnxruntime-node cannot exchange it with JavaScript`);
      }
    } catch {
      // Fall through to onnxruntime's own words.
    }
  }
  return modelFileInvalid(model, version, file, message);
}

export const onnxEngine: ModelEngine = Object.freeze({
  backend: BACKEND,
  platforms: [PLATFORM],
  modelFilename: 'model.onnx',
  kinds: ['inline', 'thread'] as const,
  runtimeName: 'onnxruntime',
  description: 'onnxruntime-node (CPU)',
  open({ file, kind, threads, onFailure }: OpenInstanceOptions) {
    const settings = defaultSessionSettings(kind, threads);
    return kind === 'inline' ? createInlineInstance(file, settings) : createThreadInstance({ modelPath: file, settings, onFailure });
  },
  explainLoadFailure,
});
