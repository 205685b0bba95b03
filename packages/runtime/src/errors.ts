/**
 * The runtime's coded errors: model lookup, model loading, and execution.
 *
 * Load errors (config, file, mismatch) never reach a client directly: they become the `reason` of an
 * UNAVAILABLE model version, which a client sees through SIBYL_MODEL_NOT_READY and the repository
 * index. Their category is what Triton answers for the same fault on its explicit load API (400).
 */
import { SibylError, defineError } from '@sibyl/protocol';

function quoteList(items: readonly string[]): string {
  return items.length === 0 ? 'none' : items.map((i) => `'${i}'`).join(', ');
}

function versionPart(version: string | undefined): string {
  return version === undefined ? '' : ` version ${version}`;
}

// ---- lookup -------------------------------------------------------------------------------------

export const modelNotFound = defineError(
  'SIBYL_MODEL_NOT_FOUND',
  'NOT_FOUND',
  'The request names a model the server does not have: in none of the model repositories, or not registered.',
  (model: string, why: string) => `unknown model '${model}': ${why}`,
);

export const versionNotFound = defineError(
  'SIBYL_MODEL_VERSION_NOT_FOUND',
  'NOT_FOUND',
  'The request names a version the model does not have, or one its version_policy does not serve.',
  (model: string, version: string, why: string, available: readonly string[]) =>
    `unknown version '${version}' of model '${model}': ${why}; available versions: ${available.length === 0 ? 'none' : available.join(', ')}`,
);

export const modelNotReady = defineError(
  'SIBYL_MODEL_NOT_READY',
  'UNAVAILABLE',
  'The model (or the version asked for) is known but not serving: it is loading, failed to load, or the service is closed.',
  (model: string, version: string | undefined, reason: string) =>
    `model '${model}'${versionPart(version)} is not ready: ${reason}`,
);

// ---- repository and configuration ---------------------------------------------------------------

export const repositoryUnreadable = defineError(
  'SIBYL_REPOSITORY_UNREADABLE',
  'INVALID_ARGUMENT',
  'A --model-repository directory does not exist or cannot be listed; start-up stops.',
  (path: string, why: string) => `model repository '${path}' cannot be read: ${why}`,
);

export const modelNameInvalid = defineError(
  'SIBYL_MODEL_NAME_INVALID',
  'INVALID_ARGUMENT',
  'A directory of a model repository is not a valid model name; it is reported and not loaded.',
  (path: string, pattern: string) => `directory '${path}' is not a valid model name (names match ${pattern}); not loaded`,
);

export const modelNameConflict = defineError(
  'SIBYL_MODEL_NAME_CONFLICT',
  'CONFLICT',
  'Two model repositories hold a model of the same name; neither copy is loaded.',
  (model: string, paths: readonly string[]) =>
    `model '${model}' is in more than one repository (${quoteList(paths)}); none of them is loaded`,
);

export const configInvalid = defineError(
  'SIBYL_CONFIG_INVALID',
  'INVALID_ARGUMENT',
  "A model's config.json does not parse or breaks a rule of Triton's model configuration; the message names the field.",
  (model: string, file: string, field: string, why: string) =>
    `model '${model}': ${file}: ${field === '' ? '' : `field '${field}': `}${why}`,
);

export const noVersions = defineError(
  'SIBYL_MODEL_NO_VERSIONS',
  'INVALID_ARGUMENT',
  'A model directory holds no version directory (a positive integer such as 1).',
  (model: string, dir: string) =>
    `model '${model}': '${dir}' has no version directory (a positive integer such as '1', holding the model file)`,
);

export const versionDirMissing = defineError(
  'SIBYL_MODEL_VERSION_DIR_MISSING',
  'INVALID_ARGUMENT',
  'A version named by version_policy.specific has no directory.',
  (model: string, version: string, dir: string) =>
    `model '${model}' version ${version}: version_policy names it but '${dir}' does not exist`,
);

// ---- loading a version --------------------------------------------------------------------------

export const modelFileMissing = defineError(
  'SIBYL_MODEL_FILE_MISSING',
  'INVALID_ARGUMENT',
  'A version directory does not hold the model file (model.onnx or model.json, or default_model_filename).',
  (model: string, version: string, file: string | readonly string[]) =>
    typeof file === 'string'
      ? `model '${model}' version ${version}: model file '${file}' not found`
      : `model '${model}' version ${version}: no model file: none of ${quoteList(file)} exists`,
);

export const modelFileInvalid = defineError(
  'SIBYL_MODEL_FILE_INVALID',
  'INVALID_ARGUMENT',
  'The runtime (onnxruntime, TensorFlow.js) could not load the model file (corrupt, truncated, or an operator it lacks).',
  (model: string, version: string, file: string, why: string, runtime = 'onnxruntime') =>
    `model '${model}' version ${version}: ${runtime} cannot load '${file}': ${why}`,
);

export const datatypeUnsupported = defineError(
  'SIBYL_DATATYPE_UNSUPPORTED',
  'UNIMPLEMENTED',
  'A model input or output has a type onnxruntime-node cannot exchange with JavaScript (BF16, sequences, maps).',
  (model: string, version: string, tensor: string, why: string) =>
    `model '${model}' version ${version}: tensor '${tensor}': ${why}`,
);

export const platformNotServed = defineError(
  'SIBYL_PLATFORM_NOT_SERVED',
  'INVALID_ARGUMENT',
  "A model's config names a platform or backend this server has no engine for (a TensorFlow.js model on worker-onnx).",
  (model: string, version: string, what: string, served: readonly string[]) =>
    `model '${model}' version ${version}: ${what} is not served here; this server runs ${quoteList(served)}`,
);

export const warmupFailed = defineError(
  'SIBYL_WARMUP_FAILED',
  'INVALID_ARGUMENT',
  "A warm-up sample of the model's config (model_warmup) failed to run; the version does not serve.",
  (model: string, version: string, sample: string, why: string) => `model '${model}' version ${version}: warm-up sample '${sample}' failed: ${why}`,
);

export const configMismatch = defineError(
  'SIBYL_CONFIG_MISMATCH',
  'INVALID_ARGUMENT',
  "A model's config.json disagrees with its model file (tensor names, datatypes, dims, or batching).",
  (model: string, version: string, file: string, field: string, why: string) =>
    `model '${model}' version ${version}: config field '${field}' does not match '${file}': ${why}`,
);

// ---- requests -----------------------------------------------------------------------------------

export const batchTooLarge = defineError(
  'SIBYL_BATCH_TOO_LARGE',
  'INVALID_ARGUMENT',
  "A request to a batching model has a batch (first dimension) larger than the model's max_batch_size.",
  (model: string, batch: number, max: number) =>
    `inference request batch-size must be <= ${max} for model '${model}', got ${batch}`,
);

export const batchMismatch = defineError(
  'SIBYL_BATCH_MISMATCH',
  'INVALID_ARGUMENT',
  'The inputs of a request to a batching model disagree on the batch size (their first dimension).',
  (model: string, first: string, firstBatch: number, other: string, otherBatch: number) =>
    `model '${model}': inputs must share the batch size (first dimension): input '${first}' has ${firstBatch}, input '${other}' has ${otherBatch}`,
);

export const bytesUnrepresentable = defineError(
  'SIBYL_INPUT_BYTES_UNREPRESENTABLE',
  'INVALID_ARGUMENT',
  'A BYTES input element is not valid UTF-8 or holds a NUL byte: onnxruntime-node takes string tensors as text and cuts them at NUL, so it could not pass the bytes exactly.',
  (input: string, index: number, why: string) =>
    `input '${input}': BYTES element ${index} ${why}; onnxruntime-node takes string tensors as NUL-terminated UTF-8 text, so it cannot be passed exactly`,
);

export const deadlineExceeded = defineError(
  'SIBYL_DEADLINE_EXCEEDED',
  'DEADLINE_EXCEEDED',
  "The request's deadline passed before the model ran it; the model did not run.",
  (model: string, version: string, where: string, overdueMs: number) =>
    `model '${model}' version ${version}: deadline exceeded ${where} (${overdueMs} ms past it); the model did not run`,
);

export const requestCancelled = defineError(
  'SIBYL_REQUEST_CANCELLED',
  'UNAVAILABLE',
  'The client went away (its signal aborted) while the request waited for an execution instance; the model did not run.',
  (model: string, version: string) => `model '${model}' version ${version}: request cancelled by the client before it ran`,
);

export const inferenceFailed = defineError(
  'SIBYL_INFERENCE_FAILED',
  'INTERNAL',
  'The runtime (onnxruntime, TensorFlow.js) failed while running the model (the message carries its reason).',
  (model: string, version: string, why: string, runtime = 'onnxruntime') => `model '${model}' version ${version}: ${runtime} failed: ${why}`,
);

export const instanceFailed = defineError(
  'SIBYL_INSTANCE_FAILED',
  'INTERNAL',
  "A model's worker thread stopped unexpectedly; requests it held fail, and the version turns unavailable once no instance is left.",
  (model: string, version: string, why: string) =>
    `model '${model}' version ${version}: execution instance stopped: ${why}`,
);

// ---- model cache --------------------------------------------------------------------------------

export const modelLoadTimeout = defineError(
  'SIBYL_MODEL_LOAD_TIMEOUT',
  'UNAVAILABLE',
  "A model's load (with the wait for room in the model cache) did not finish within the load timeout; the requests waiting for it fail, and so do those arriving before it ends.",
  (model: string, timeoutSecs: number) =>
    `model '${model}' did not load within ${timeoutSecs} s on this worker (--model-load-timeout-secs); retry later or on another worker`,
);

// ---- dynamic batching ---------------------------------------------------------------------------

const queueFullMessage = defineError(
  'SIBYL_QUEUE_FULL',
  'UNAVAILABLE',
  "A dynamic-batching model's queue holds max_queue_size requests already; the request is refused at once (with Retry-After).",
  (model: string, version: string, queued: number) =>
    `model '${model}' version ${version}: the queue of model '${model}' is full with ${queued} requests (dynamic_batching.default_queue_policy.max_queue_size); retry later`,
);

/** SIBYL_QUEUE_FULL, carrying how long a client should wait before retrying (REST Retry-After, gRPC trailer). */
export const queueFull = Object.assign(
  (model: string, version: string, queued: number, retryAfterSeconds: number): SibylError => {
    const err = queueFullMessage(model, version, queued);
    return new SibylError(err.code, err.category, err.message, { retryAfterSeconds });
  },
  { code: queueFullMessage.code, category: queueFullMessage.category, description: queueFullMessage.description },
);

export const requestParameterInvalid = defineError(
  'SIBYL_REQUEST_PARAMETER_INVALID',
  'INVALID_ARGUMENT',
  'A request parameter the dynamic batcher reads (priority, timeout) has a value it cannot use.',
  (model: string, parameter: string, why: string) => `model '${model}': parameter '${parameter}': ${why}`,
);
