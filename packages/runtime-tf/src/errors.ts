/**
 * The TF.js runtime's own coded errors. Lookup, load and batch errors are the runtime's shared ones
 * (@sibyl/runtime's runtimeErrors), so clients see the same codes whatever framework serves a model.
 */
import { defineError } from '@sibyl/protocol';

export const tfInferenceFailed = defineError(
  'SIBYL_TF_INFERENCE_FAILED',
  'INTERNAL',
  'TensorFlow.js failed while running the model; the message carries its reason.',
  (model: string, version: string, why: string) => `model '${model}' version ${version}: TensorFlow.js failed: ${why}`,
);
