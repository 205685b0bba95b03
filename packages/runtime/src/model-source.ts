/**
 * Where a LocalInferenceService learns what to serve. Two implementations: the model repository
 * directories (directory-source.ts, Triton's behaviour) and the model registry with its artifact
 * store (registry-source.ts, where releases happen without a restart).
 *
 * Contracts:
 * - A (model, version) pair never changes what it is: new bytes or a new config get a new version
 *   number. The registry guarantees it (versions are immutable); a directory is read once per load.
 *   The service therefore never reloads a version it already holds; it only adds and drops versions.
 * - `list()` and `get()` read the current truth (the database, the directories) on every call; the
 *   service serializes its calls and applies each answer whole.
 */
import type { SibylError } from '@sibyl/protocol';
import type { DeclaredConfig } from './model-config.js';
import type { SkippedEntry } from './repository-scan.js';

/** Where a version's model is: the model file itself, or a directory holding `config.defaultModelFilename`. */
export type ModelLocation = { readonly file: string } | { readonly dir: string };

export interface SourceVersion {
  version: number;
  location: ModelLocation;
  config: DeclaredConfig;
  /**
   * Set when the source already knows the version cannot serve (a version_policy version without a
   * directory, a repository file that could not be imported): it is listed UNAVAILABLE with this
   * reason and never loaded.
   */
  failure?: string;
  /** The error behind `failure`, when there is one: an explicit load rejects with it. */
  failureError?: SibylError;
}

export interface SourceModel {
  name: string;
  /** The model as a whole cannot serve (bad config, name in two repositories, no versions); none of its versions loads. */
  failure?: string;
  /**
   * What a request without a version reaches. `undefined`: the highest READY version (Triton's rule,
   * for a repository); a number: that version (the registry's live version); `null`: none, nothing is live.
   */
  live?: number | null;
  /** The versions to serve, ascending. */
  versions: SourceVersion[];
  /** Why a version that is not in `versions` is not served (version_policy, retired), by version. */
  notServed: ReadonlyMap<number, string>;
  /** Why any other version number is unknown, for the NOT_FOUND message. */
  unknownVersion: string;
}

export interface SourceListing {
  models: SourceModel[];
  /** Entries of the repositories that are not models (invalid names), reported and not served. */
  skipped: SkippedEntry[];
}

/** What serving found for a version, as a source may record it. */
export type VersionReport = 'loading' | 'ready' | 'failed';

export interface ModelSource {
  /** Ends the NOT_FOUND message for a model the source does not have, e.g. "it is in none of the model repositories". */
  readonly unknownModel: string;
  /** Everything to serve now. */
  list(): Promise<SourceListing>;
  /** One model now; undefined when the source does not have it. */
  get(name: string): Promise<SourceModel | undefined>;
  /**
   * Re-reads what the source is built from for one model before an explicit load (Triton's load API
   * re-reads the repository); the registry imports the model's repository directory again.
   */
  reread?(name: string): Promise<void>;
  /**
   * Calls `onChange(model)` whenever what the source says about `model` may have changed, and
   * `onChange(undefined)` when anything may have (a lost notification connection). Resolves once
   * watching, to a function that stops it.
   */
  watch?(onChange: (model: string | undefined) => void): Promise<() => Promise<void>>;
  /** Records what serving found for a version. Never throws; writes happen in call order. */
  report?(model: string, version: number, state: VersionReport, reason: string): void;
  /** Waits for pending reports and stops background work (polling). Idempotent. */
  close?(): Promise<void>;
}
