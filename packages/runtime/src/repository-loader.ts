/**
 * Loads every model of the repositories into a ModelRegistry: scan, read and validate each
 * config.json, select versions by policy, then load the versions in parallel with bounded
 * concurrency. A model or version that fails is logged and recorded UNAVAILABLE with its reason; it
 * never stops the others.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger, SibylMetrics } from '@sibyl/observability';
import { isSibylError } from '@sibyl/protocol';
import { configInvalid, modelNameConflict, noVersions, versionDirMissing } from './errors.js';
import type { ExecutionKind } from './execution-instance.js';
import { defaultDeclaredConfig, parseModelConfig, PLATFORM, type DeclaredConfig } from './model-config.js';
import { loadModelVersion } from './model-loader.js';
import type { ModelEntry, ModelRegistry, VersionEntry } from './model-registry.js';
import { scanRepositories, type ScannedModel, type SkippedEntry } from './repository-scan.js';
import { selectVersions } from './version-policy.js';

/** The outcome of one model version (or of a model that failed as a whole: no `version`). */
export interface ModelLoadResult {
  name: string;
  version?: string;
  state: 'READY' | 'UNAVAILABLE';
  /** Why it is UNAVAILABLE; empty when READY. */
  reason: string;
  executionMode?: ExecutionKind;
  instances?: number;
  maxBatchSize?: number;
  loadMs?: number;
}

export interface LoadSummary {
  /** Model versions serving. */
  loaded: number;
  /** Model versions (and whole models) that failed. */
  failed: number;
  results: ModelLoadResult[];
  /** Directories that are not valid model names, not loaded. */
  skipped: SkippedEntry[];
}

export interface RepositoryLoaderOptions {
  repositories: readonly string[];
  registry: ModelRegistry;
  logger: Logger;
  metrics: SibylMetrics;
  concurrency: number;
  threadThresholdUs: number;
  /** True once the service closed: a version that finishes loading afterwards is released at once. */
  isClosed(): boolean;
}

async function readConfig(model: ScannedModel): Promise<DeclaredConfig> {
  if (model.configFile === undefined) return defaultDeclaredConfig();
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(model.configFile, 'utf8'));
  } catch (err) {
    throw configInvalid(model.name, model.configFile, '', `not valid JSON: ${(err as Error).message}`);
  }
  return parseModelConfig(model.name, model.configFile, raw);
}

/** Runs `task` over `items`, at most `limit` at a time. */
async function forEachBounded<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

function reasonOf(err: unknown): string {
  return isSibylError(err) ? err.message : `unexpected error: ${err instanceof Error ? err.message : String(err)}`;
}

export async function loadRepositories(options: RepositoryLoaderOptions): Promise<LoadSummary> {
  const { registry, logger } = options;
  const scan = await scanRepositories(options.repositories);
  for (const s of scan.skipped) logger.warn({ path: s.path }, s.reason);

  const pending: Array<{ entry: ModelEntry; version: VersionEntry }> = [];
  for (const scanned of scan.models) {
    const entry: ModelEntry = { name: scanned.name, dir: scanned.dir, config: undefined, failure: undefined, present: scanned.versions, versions: [] };
    registry.add(entry);
    try {
      if (scanned.conflicts.length > 0) throw modelNameConflict(scanned.name, scanned.conflicts);
      entry.config = await readConfig(scanned);
      for (const w of entry.config.warnings) logger.warn({ model: scanned.name, field: w.field }, `model '${scanned.name}': ${w.message}`);
      if (scanned.versions.length === 0) throw noVersions(scanned.name, scanned.dir);
    } catch (err) {
      entry.failure = reasonOf(err);
      logger.error({ model: scanned.name, reason: entry.failure }, `model '${scanned.name}' failed to load: ${entry.failure}`);
      continue;
    }
    const { served, missing } = selectVersions(entry.config.versionPolicy, scanned.versions);
    for (const version of [...served, ...missing].sort((a, b) => a - b)) {
      const v: VersionEntry = { version, state: 'LOADING', reason: '', loaded: undefined, metadata: undefined };
      entry.versions.push(v);
      if (missing.includes(version)) {
        v.state = 'UNAVAILABLE';
        v.reason = versionDirMissing(entry.name, String(version), join(entry.dir, String(version))).message;
        logger.error({ model: entry.name, version: String(version), reason: v.reason }, v.reason);
      } else {
        pending.push({ entry, version: v });
      }
    }
  }

  await forEachBounded(pending, options.concurrency, ({ entry, version }) => loadVersion(options, entry, version));

  return summarise(registry.all(), scan.skipped);
}

/** Loads one version into its entry: READY with a logged line, or UNAVAILABLE with a logged reason. */
async function loadVersion(options: RepositoryLoaderOptions, entry: ModelEntry, v: VersionEntry): Promise<void> {
  const { logger, metrics } = options;
  const model = entry.name;
  const version = String(v.version);
  const fields = { model, version };
  try {
    const loaded = await loadModelVersion({
      model,
      version: v.version,
      modelDir: entry.dir,
      config: entry.config!,
      threadThresholdUs: options.threadThresholdUs,
      logger,
      onInstanceFailure(reason, remaining) {
        if (remaining > 0) {
          logger.error({ ...fields, reason, remaining }, `model '${model}' version ${version}: an execution instance stopped (${reason}); ${remaining} still serving`);
          return;
        }
        v.state = 'UNAVAILABLE';
        v.reason = `every execution instance stopped; last: ${reason}`;
        metrics.setModelReady(model, version, false);
        logger.error({ ...fields, reason }, `model '${model}' version ${version} is no longer serving: ${v.reason}`);
      },
    });
    if (options.isClosed()) {
      await loaded.pool.close();
      v.state = 'UNAVAILABLE';
      v.reason = 'unloaded: the service closed while it loaded';
      return;
    }
    const { signature, executionKind, loadMs } = loaded;
    v.loaded = loaded;
    v.metadata = { name: model, versions: [], platform: PLATFORM, inputs: signature.inputs, outputs: signature.outputs };
    v.state = 'READY';
    metrics.setModelReady(model, version, true);
    const instances = loaded.pool.size;
    const how = executionKind === 'thread' ? `thread x${instances}` : 'inline';
    logger.info(
      { ...fields, platform: PLATFORM, executionMode: executionKind, instances, maxBatchSize: signature.maxBatchSize, warmupUs: loaded.warmupUs, loadMs },
      `loaded model '${model}' version ${version} (${PLATFORM}, ${how}) in ${loadMs} ms`,
    );
  } catch (err) {
    v.state = 'UNAVAILABLE';
    v.reason = reasonOf(err);
    metrics.setModelReady(model, version, false);
    logger.error({ ...fields, reason: v.reason }, `model '${model}' version ${version} failed to load: ${v.reason}`);
  }
}

function summarise(entries: readonly ModelEntry[], skipped: SkippedEntry[]): LoadSummary {
  const results: ModelLoadResult[] = [];
  for (const entry of entries) {
    if (entry.failure !== undefined) {
      results.push({ name: entry.name, state: 'UNAVAILABLE', reason: entry.failure });
      continue;
    }
    for (const v of entry.versions) {
      const loaded = v.loaded;
      results.push({
        name: entry.name,
        version: String(v.version),
        state: v.state === 'READY' ? 'READY' : 'UNAVAILABLE',
        reason: v.reason,
        ...(loaded === undefined
          ? {}
          : { executionMode: loaded.executionKind, instances: loaded.pool.size, maxBatchSize: loaded.signature.maxBatchSize, loadMs: loaded.loadMs }),
      });
    }
  }
  const loaded = results.filter((r) => r.state === 'READY').length;
  return { loaded, failed: results.length - loaded, results, skipped };
}
