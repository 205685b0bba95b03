/**
 * The models a service knows and the state of each version: the one place that answers "which
 * version does this request mean, and can it run?". Written by the repository loader, read by
 * every InferenceService method.
 */
import type { ModelIndexEntry, ModelMetadata } from '@sibyl/protocol';
import { modelNotFound, modelNotReady, versionNotFound } from './errors.js';
import type { DeclaredConfig } from './model-config.js';
import type { LoadedVersion } from './model-loader.js';
import { describePolicy } from './version-policy.js';

export type VersionState = 'LOADING' | 'READY' | 'UNAVAILABLE';

export interface VersionEntry {
  version: number;
  state: VersionState;
  /** Why it is not READY (empty when READY). */
  reason: string;
  loaded: LoadedVersion | undefined;
  /** The metadata request validation checks against, built once per loaded version. */
  metadata: ModelMetadata | undefined;
}

export interface ModelEntry {
  name: string;
  dir: string;
  config: DeclaredConfig | undefined;
  /** A failure of the whole model (bad config, name conflict, no versions); its versions are not loaded. */
  failure: string | undefined;
  /** Every version directory found, ascending. */
  present: number[];
  /** The versions its policy serves (and missing `specific` ones), ascending. */
  versions: VersionEntry[];
}

const VERSION = /^[1-9][0-9]{0,15}$/;

export class ModelRegistry {
  private readonly models = new Map<string, ModelEntry>();

  add(entry: ModelEntry): void {
    this.models.set(entry.name, entry);
  }

  all(): ModelEntry[] {
    return [...this.models.values()];
  }

  /** Throws SIBYL_MODEL_NOT_FOUND for a name the repositories do not hold. */
  model(name: string): ModelEntry {
    const entry = this.models.get(name);
    if (entry === undefined) throw modelNotFound(name);
    return entry;
  }

  /** READY versions, ascending, as strings (ModelMetadata.versions). */
  available(entry: ModelEntry): string[] {
    return entry.versions.filter((v) => v.state === 'READY').map((v) => String(v.version));
  }

  /**
   * The version a request names, or (none named) the highest READY one. Throws NOT_FOUND for an
   * unknown model or version, MODEL_NOT_READY when the model failed or no version is ready. The
   * returned entry may be LOADING or UNAVAILABLE when the request named it.
   */
  version(name: string, version: string | undefined): { entry: ModelEntry; version: VersionEntry } {
    const entry = this.model(name);
    if (entry.failure !== undefined) throw modelNotReady(name, version || undefined, entry.failure);
    if (version === undefined || version === '') {
      // Versions are ascending: the highest READY one is the last. (Every request without a version
      // comes here, so no intermediate array.)
      for (let i = entry.versions.length - 1; i >= 0; i--) {
        const v = entry.versions[i]!;
        if (v.state === 'READY') return { entry, version: v };
      }
      throw modelNotReady(name, undefined, this.whyNoneReady(entry));
    }
    if (!VERSION.test(version)) throw versionNotFound(name, version, 'a version is a positive integer', this.available(entry));
    const n = Number(version);
    const found = entry.versions.find((v) => v.version === n);
    if (found !== undefined) return { entry, version: found };
    const available = this.available(entry);
    const policy = entry.config === undefined ? 'all' : describePolicy(entry.config.versionPolicy);
    const why = entry.present.includes(n) ? `its version_policy (${policy}) does not serve it` : 'the model has no such version directory';
    throw versionNotFound(name, version, why, available);
  }

  /** Like version(), but also throws MODEL_NOT_READY unless the version is READY. */
  ready(name: string, version: string | undefined): { entry: ModelEntry; version: VersionEntry; loaded: LoadedVersion; metadata: ModelMetadata } {
    const found = this.version(name, version);
    const v = found.version;
    if (v.state !== 'READY' || v.loaded === undefined || v.metadata === undefined) {
      throw modelNotReady(name, String(v.version), v.state === 'LOADING' ? 'it is still loading' : v.reason);
    }
    return { ...found, loaded: v.loaded, metadata: v.metadata };
  }

  private whyNoneReady(entry: ModelEntry): string {
    if (entry.versions.some((v) => v.state === 'LOADING')) return 'it is still loading';
    const failures = entry.versions.map((v) => `version ${v.version}: ${v.reason}`);
    return failures.length === 0 ? 'it serves no version' : `no version is ready (${failures.join('; ')})`;
  }

  /** Every model READY in every version its policy serves. */
  allReady(): boolean {
    for (const entry of this.models.values()) {
      if (entry.failure !== undefined) return false;
      if (entry.versions.some((v) => v.state !== 'READY')) return false;
    }
    return true;
  }

  /** Triton's repository index: one row per version (one row per model that failed as a whole), by name then version. */
  index(): ModelIndexEntry[] {
    const rows: ModelIndexEntry[] = [];
    const names = [...this.models.keys()].sort();
    for (const name of names) {
      const entry = this.models.get(name)!;
      if (entry.failure !== undefined) {
        rows.push({ name, state: 'UNAVAILABLE', reason: entry.failure });
        continue;
      }
      for (const v of entry.versions) rows.push({ name, version: String(v.version), state: v.state, reason: v.reason });
    }
    return rows;
  }
}
