/**
 * What a load did, model version by model version: returned by `load()` and logged at start-up.
 */
import type { ExecutionKind } from './execution-instance.js';
import type { SkippedEntry } from './repository-scan.js';
import type { ModelEntry } from './served-models.js';

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
  /** Size of the model file loaded, bytes. */
  fileBytes?: number;
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

/** Summarises the loaded models (unloaded ones are left out: nothing was asked of them). */
export function summarise(entries: readonly ModelEntry[], skipped: SkippedEntry[]): LoadSummary {
  const results: ModelLoadResult[] = [];
  for (const entry of entries) {
    if (entry.unloaded) continue;
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
          : { executionMode: loaded.executionKind, instances: loaded.pool.size, maxBatchSize: loaded.signature.maxBatchSize, loadMs: loaded.loadMs, fileBytes: loaded.fileBytes }),
      });
    }
  }
  const loaded = results.filter((r) => r.state === 'READY').length;
  return { loaded, failed: results.length - loaded, results, skipped };
}
