/**
 * Loads one model version: finds its file, opens a session, derives and checks what it serves,
 * picks inline or thread execution, and starts its execution instances behind an instance pool.
 * Every failure is a SibylError naming the model, version and file, and why.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger, SibylMetrics } from '@sibyl/observability';
import { isSibylError, type Datatype, type SibylError } from '@sibyl/protocol';
import { createDynamicBatcher, type DynamicBatcher } from './dynamic-batcher.js';
import { configMismatch, datatypeUnsupported, instanceFailed, modelFileInvalid, modelFileMissing } from './errors.js';
import type { ExecutionInstance, ExecutionKind } from './execution-instance.js';
import { chooseExecution, measureRunUs, warmupFeeds } from './execution-mode.js';
import { createInlineInstance } from './inline-instance.js';
import { createInstancePool, type InstancePool } from './instance-pool.js';
import { BACKEND, PLATFORM, instanceCount, type DeclaredConfig, type ModelConfig } from './model-config.js';
import type { ModelLocation } from './model-source.js';
import { resolveSignature, type Signature } from './model-signature.js';
import { graphValueTypes, UNSUPPORTED_ELEM_TYPES } from './onnx-graph-types.js';
import { defaultSessionSettings } from './session-settings.js';
import { createThreadInstance } from './thread-instance.js';

export interface LoadVersionOptions {
  model: string;
  version: number;
  /** The model file, or a directory holding `<default_model_filename>` (Triton's version directory). */
  location: ModelLocation;
  config: DeclaredConfig;
  /** `auto` keeps a model on threads when its typical (median) warm-up run exceeds this, microseconds. */
  threadThresholdUs: number;
  /** Where a failed warm-up is reported (only `auto` runs one); default: nowhere. */
  logger?: Logger;
  /** Where a dynamic batcher counts its batches, refusals and expiries. */
  metrics: SibylMetrics;
  /** A thread instance stopped on its own; `remaining` instances still serve. */
  onInstanceFailure(reason: string, remaining: number): void;
}

export interface LoadedVersion {
  version: string;
  /** The model file loaded. */
  file: string;
  /** Its size, bytes (the floor of what the version costs in memory). */
  fileBytes: number;
  signature: Signature;
  /** Datatype of each served output, by name. */
  outputTypes: ReadonlyMap<string, Datatype>;
  /** Normalised, auto-completed configuration (Triton's model_configuration form). */
  config: ModelConfig;
  /** Closing it closes the batcher first (its queued requests fail), then the instances. */
  pool: InstancePool;
  /** In front of the pool when the config has dynamic_batching; requests then go through it. */
  batcher: DynamicBatcher | undefined;
  executionKind: ExecutionKind;
  /** Median warm-up run time when `auto` measured it, microseconds. */
  warmupUs: number | undefined;
  loadMs: number;
}

async function findModelFile(model: string, version: string, location: ModelLocation, filename: string): Promise<string> {
  const path = 'file' in location ? location.file : join(location.dir, filename);
  try {
    const info = await stat(path);
    if (info.isFile()) return path;
    // Triton's onnxruntime backend also takes a directory of that name holding model.onnx (with external data files).
    if (info.isDirectory()) {
      const inner = join(path, 'model.onnx');
      if ((await stat(inner).catch(() => undefined))?.isFile()) return inner;
      throw modelFileMissing(model, version, inner);
    }
  } catch (err) {
    if (isSibylError(err)) throw err;
  }
  throw modelFileMissing(model, version, path);
}

/**
 * Runs every instance before the version is marked READY, on generated (zero) inputs at batch 1, so
 * that no client request pays a fresh session's first run. Measured on iris (inline, onnxruntime-node
 * 1.30): a fresh session's first run takes 130-810 us, the next ones 25-60 us. `auto` measured the
 * first instance already, but the instances it then opens (inline, or more threads) are fresh.
 */
export const READY_WARMUP_RUNS = 2;

async function warmUp(instance: ExecutionInstance, signature: Signature): Promise<void> {
  const fetches = signature.outputs.map((o) => o.name);
  const batch = signature.maxBatchSize > 0 ? 1 : 0;
  for (let i = 0; i < READY_WARMUP_RUNS; i++) await instance.run(warmupFeeds(signature.inputs, batch), fetches);
}

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

export async function loadModelVersion(options: LoadVersionOptions): Promise<LoadedVersion> {
  const started = performance.now();
  const { model, config, logger } = options;
  const version = String(options.version);
  const file = await findModelFile(model, version, options.location, config.defaultModelFilename);
  const fileBytes = (await stat(file)).size;
  const where = { model, version, file };

  let pool: InstancePool | undefined;
  let failedWhileLoading: string | undefined;
  const instances: ExecutionInstance[] = [];
  const onFailure = (instance: ExecutionInstance, reason: string) => {
    if (pool === undefined) {
      failedWhileLoading ??= reason;
      return;
    }
    pool.remove(instance, reason);
    options.onInstanceFailure(reason, pool.size);
  };
  const open = async (kind: ExecutionKind): Promise<ExecutionInstance> => {
    const settings = defaultSessionSettings(kind, config.threads);
    try {
      return kind === 'inline'
        ? await createInlineInstance(file, settings)
        : await createThreadInstance({ modelPath: file, settings, onFailure });
    } catch (err) {
      throw await explainLoadFailure(model, version, file, err);
    }
  };

  try {
    const first = await open(config.executionMode === 'inline' ? 'inline' : 'thread');
    instances.push(first);
    const signature = resolveSignature(where, config, first.info);
    const batching = config.dynamicBatching;
    if (batching !== undefined) {
      // max_batch_size may come from the model file (auto-complete): checked again once it is known.
      if (signature.maxBatchSize === 0) {
        throw configMismatch(model, version, file, 'dynamic_batching', 'needs max_batch_size > 0, and the model file has no batch dimension (a variable first dimension on every input and output)');
      }
      const tooLarge = batching.preferred_batch_size.find((size) => size > signature.maxBatchSize);
      if (tooLarge !== undefined) {
        throw configMismatch(model, version, file, 'dynamic_batching.preferred_batch_size', `${tooLarge} exceeds max_batch_size ${signature.maxBatchSize}`);
      }
    }

    let warmupUs: number | undefined;
    let warmed: ExecutionInstance | undefined;
    if (config.executionMode === 'auto') {
      try {
        warmupUs = Math.round(await measureRunUs(first, signature.inputs, signature.outputs.map((o) => o.name), signature.maxBatchSize));
        warmed = first;
      } catch (err) {
        logger?.warn({ model, version, err: err instanceof Error ? err.message : String(err) },
          `model '${model}' version ${version}: warm-up run on zero inputs failed; keeping it on worker threads`);
      }
    }
    // Inline is one instance whatever instance_group.count says: sessions on one thread cannot overlap.
    const executionKind = chooseExecution(config.executionMode, warmupUs, options.threadThresholdUs);
    if (executionKind !== first.kind) {
      instances.length = 0;
      await first.close();
      instances.push(await open(executionKind));
    }
    if (executionKind === 'thread') {
      const more = Array.from({ length: instanceCount(config) - 1 }, () => open('thread'));
      const opened = await Promise.allSettled(more);
      for (const r of opened) if (r.status === 'fulfilled') instances.push(r.value);
      const failed = opened.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
    }
    // Zeros may not be valid input for a model (an index, a token id): then it serves cold, as before.
    const warming = await Promise.allSettled(instances.filter((i) => i !== warmed).map((i) => warmUp(i, signature)));
    const coldReason = warming.find((r): r is PromiseRejectedResult => r.status === 'rejected')?.reason;
    if (coldReason !== undefined) {
      logger?.debug({ model, version, err: coldReason instanceof Error ? coldReason.message : String(coldReason) },
        `model '${model}' version ${version}: warm-up run on zero inputs failed; its first requests pay the first run`);
    }
    pool = createInstancePool(instances, { model, version });
    if (failedWhileLoading !== undefined) throw instanceFailed(model, version, failedWhileLoading);
    let batcher: DynamicBatcher | undefined;
    let served: InstancePool = pool;
    if (batching !== undefined) {
      const inner = pool;
      const attached = createDynamicBatcher({ model, version, maxBatchSize: signature.maxBatchSize, config: batching, pool: inner, metrics: options.metrics });
      batcher = attached;
      served = {
        get size() {
          return inner.size;
        },
        get queued() {
          return inner.queued + attached.queued;
        },
        run: (feeds, fetches, runOptions) => inner.run(feeds, fetches, runOptions),
        remove: (instance, reason) => inner.remove(instance, reason),
        close: async () => {
          attached.close();
          await inner.close();
        },
      };
    }

    const normalised: ModelConfig = {
      name: model,
      platform: PLATFORM,
      backend: BACKEND,
      version_policy: config.versionPolicy,
      max_batch_size: signature.maxBatchSize,
      input: signature.inputConfigs,
      output: signature.outputConfigs,
      instance_group: config.instanceGroups.length > 0 ? config.instanceGroups : [{ name: `${model}_0`, kind: 'KIND_CPU', count: 1 }],
      default_model_filename: config.defaultModelFilename,
      parameters: config.parameters,
    };
    if (batching !== undefined) normalised.dynamic_batching = structuredClone(batching);
    return {
      version,
      file,
      fileBytes,
      signature,
      outputTypes: new Map(signature.outputs.map((o) => [o.name, o.datatype])),
      config: normalised,
      pool: served,
      batcher,
      executionKind,
      warmupUs,
      loadMs: Math.round(performance.now() - started),
    };
  } catch (err) {
    await (pool?.close() ?? Promise.allSettled(instances.map((i) => i.close())));
    throw err;
  }
}
