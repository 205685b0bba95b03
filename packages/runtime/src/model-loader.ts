/**
 * Loads one model version: finds its file, opens a session, derives and checks what it serves,
 * picks inline or thread execution, and starts its execution instances behind an instance pool.
 * Every failure is a SibylError naming the model, version and file, and why.
 */
import { stat } from 'node:fs/promises';
import type { Logger, SibylMetrics } from '@sibyl/observability';
import { isSibylError, type Datatype } from '@sibyl/protocol';
import { createDynamicBatcher, type DynamicBatcher } from './dynamic-batcher.js';
import { chooseEngine } from './engine-choice.js';
import { configMismatch, instanceFailed, warmupFailed } from './errors.js';
import type { ExecutionInstance, ExecutionKind } from './execution-instance.js';
import { chooseExecution, measureRunUs, warmupFeeds } from './execution-mode.js';
import { createInstancePool, type InstancePool } from './instance-pool.js';
import { instanceCount, type DeclaredConfig, type ModelConfig } from './model-config.js';
import type { ModelEngine } from './model-engine.js';
import type { ModelLocation } from './model-source.js';
import { resolveSignature, type Signature } from './model-signature.js';
import { prepareWarmup, warmupConfig } from './model-warmup.js';

export interface LoadVersionOptions {
  model: string;
  version: number;
  /** The model file, or a directory holding `<default_model_filename>` (Triton's version directory). */
  location: ModelLocation;
  config: DeclaredConfig;
  /** The engines this service runs; the version goes to one of them (engine-choice.ts). */
  engines: readonly ModelEngine[];
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
  /** The platform it serves as (`onnxruntime_onnx`, `tensorflowjs_graph`, ...), and the engine that runs it. */
  platform: string;
  engine: ModelEngine;
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

export async function loadModelVersion(options: LoadVersionOptions): Promise<LoadedVersion> {
  const started = performance.now();
  const { model, config, logger } = options;
  const version = String(options.version);
  const { engine, file } = await chooseEngine({ model, version }, options.location, config, options.engines);
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
    try {
      return await engine.open({ file, kind, threads: config.threads, onFailure });
    } catch (err) {
      throw await engine.explainLoadFailure(model, version, file, err);
    }
  };
  const canInline = engine.kinds.includes('inline');
  if (config.executionMode === 'inline' && !canInline) {
    throw configMismatch(model, version, file, 'parameters.execution_mode', `'inline' is not available: ${engine.description} runs models on threads only`);
  }

  try {
    const first = await open(config.executionMode === 'inline' ? 'inline' : 'thread');
    const platform = first.info.platform ?? engine.platforms[0]!;
    if (config.platform !== undefined && config.platform !== platform) {
      throw configMismatch(model, version, file, 'platform', `'${config.platform}' declared, the model file is a '${platform}' model`);
    }
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
    if (config.executionMode === 'auto' && canInline) {
      try {
        warmupUs = Math.round(await measureRunUs(first, signature.inputs, signature.outputs.map((o) => o.name), signature.maxBatchSize));
        warmed = first;
      } catch (err) {
        logger?.warn({ model, version, err: err instanceof Error ? err.message : String(err) },
          `model '${model}' version ${version}: warm-up run on zero inputs failed; keeping it on worker threads`);
      }
    }
    // Inline is one instance whatever instance_group.count says: sessions on one thread cannot overlap.
    const executionKind = canInline ? chooseExecution(config.executionMode, warmupUs, options.threadThresholdUs) : 'thread';
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
    if (config.warmup.length > 0) {
      // The config's samples, on every instance: a sample that does not fit or fails to run fails the load, as in Triton.
      const samples = await prepareWarmup(where, config.warmup, signature, options.location);
      const fetches = signature.outputs.map((o) => o.name);
      await Promise.all(instances.map(async (instance) => {
        for (const sample of samples) {
          for (let run = 0; run < sample.runs; run++) {
            try {
              await instance.run(sample.feeds(), fetches);
            } catch (err) {
              throw warmupFailed(model, version, sample.name, err instanceof Error ? err.message : String(err));
            }
          }
        }
      }));
    } else {
      // Zeros may not be valid input for a model (an index, a token id): then it serves cold, as before.
      const warming = await Promise.allSettled(instances.filter((i) => i !== warmed).map((i) => warmUp(i, signature)));
      const coldReason = warming.find((r): r is PromiseRejectedResult => r.status === 'rejected')?.reason;
      if (coldReason !== undefined) {
        logger?.debug({ model, version, err: coldReason instanceof Error ? coldReason.message : String(coldReason) },
          `model '${model}' version ${version}: warm-up run on zero inputs failed (give it model_warmup samples); its first requests pay the first run`);
      }
    }
    pool = createInstancePool(instances, { model, version, runtime: engine.runtimeName });
    if (failedWhileLoading !== undefined) throw instanceFailed(model, version, failedWhileLoading);
    let batcher: DynamicBatcher | undefined;
    let served: InstancePool = pool;
    if (batching !== undefined) {
      const inner = pool;
      const attached = createDynamicBatcher({ model, version, runtime: engine.runtimeName, maxBatchSize: signature.maxBatchSize, config: batching, pool: inner, metrics: options.metrics });
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
      platform,
      backend: engine.backend,
      version_policy: config.versionPolicy,
      max_batch_size: signature.maxBatchSize,
      input: signature.inputConfigs,
      output: signature.outputConfigs,
      instance_group: config.instanceGroups.length > 0 ? config.instanceGroups : [{ name: `${model}_0`, kind: 'KIND_CPU', count: 1 }],
      default_model_filename: config.defaultModelFilename ?? engine.modelFilename,
      parameters: config.parameters,
    };
    if (config.warmup.length > 0) normalised.model_warmup = warmupConfig(config.warmup);
    if (batching !== undefined) normalised.dynamic_batching = structuredClone(batching);
    return {
      version,
      platform,
      engine,
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
