/**
 * What the management server is built from, declared once with defaults and units, validated, then
 * frozen.
 */
import { readFileSync } from 'node:fs';
import type { ArtifactStore } from '@sibyl/artifacts';
import type { Logger } from '@sibyl/observability';
import type { TensorMetadata } from '@sibyl/protocol';
import type { Registry } from '@sibyl/registry';

/** What the runtime found in a model file: what the version serves. */
export interface InspectedModel {
  /** Triton platform string, e.g. `onnxruntime_onnx`. */
  platform: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
  /** Triton's max_batch_size, when the runtime derived one; 0 when the model does not batch. */
  maxBatchSize?: number;
}

/** What the runtime's messages call the model being checked. */
export interface InspectModelOptions {
  /** The model's name (a config's `name`, when given, must match it, as in Triton). */
  model?: string;
  /** The version number the upload would get. */
  version?: number;
}

/**
 * Loads a model file in the runtime without serving it (`inspectModel` of @sibyl/runtime) and says
 * what it serves; rejects with the runtime's SibylError when it cannot load it. `config` is the model
 * config in Triton's JSON form, when the version comes with one.
 */
export type InspectModel = ManagementServerOptions['inspectModel'];

/** One row of Triton's repository index (spec/protocols.md §D.2). */
export interface RepositoryIndexEntry {
  name: string;
  /** Absent for a model that failed as a whole. */
  version?: string;
  /** `READY`, `LOADING`, `UNAVAILABLE`, `UNLOADING` or `UNKNOWN`. */
  state: string;
  /** Why it is not ready; empty when it is. */
  reason: string;
}

export interface ServingLoadRequest {
  /**
   * The registry version to serve. Set when the load carried `file:` parameters: management has
   * stored the files and registered them as this (new) version, and serving makes it the live version
   * (`registry.deploy`, as `actor`) and loads it. Absent for a plain load: serving (re)loads what the
   * model serves now.
   */
  version?: number;
  /** The load's `config` parameter, parsed: a Triton model config that overrides the stored one. */
  config?: Record<string, unknown>;
  /** Who asked (x-sibyl-actor), for the audit log of any registry change the load makes. */
  actor: string;
}

export interface ServingUnloadRequest {
  /** Triton's `unload_dependents` parameter; false when not given. */
  unloadDependents: boolean;
  actor: string;
}

/**
 * The serving side, for Triton's model repository extension on the management port. Its methods
 * resolve once the change has happened (a load, once the model is ready) and reject with a
 * SibylError whose category is the answer's status (for example NOT_FOUND for an unknown model,
 * INVALID_ARGUMENT with the load error for a model that does not load).
 */
export interface ManagementServing {
  /** Every model and version serving knows, with its state; `POST /v2/repository/index`. */
  repositoryIndex(): Promise<RepositoryIndexEntry[]>;
  /** `POST /v2/repository/models/{name}/load`. */
  load(name: string, request: ServingLoadRequest): Promise<void>;
  /** `POST /v2/repository/models/{name}/unload`. */
  unload(name: string, request: ServingUnloadRequest): Promise<void>;
  /** Whether serving is ready (`ready` of `GET /v1/status`). Default: ready. */
  ready?(): Promise<boolean>;
}

export interface ManagementServerOptions {
  /** Where models, versions, releases and the audit log live. */
  registry: Registry;
  /** Where uploaded model files go; the server also serves them at `/v1/artifacts/{sha256}`. */
  store: ArtifactStore;
  /**
   * Validates each upload by loading it in the runtime before anything is registered (see
   * InspectModel): `inspectModel` of @sibyl/runtime. A method, so that a runtime declaring a
   * narrower config type still fits.
   */
  inspectModel(path: string, config?: Record<string, unknown>, options?: InspectModelOptions): Promise<InspectedModel>;
  /** Where failures that become INTERNAL, and every change, are logged. */
  logger: Logger;
  /**
   * Largest model upload accepted, in bytes (a `.tar.gz` counts as uploaded). A Content-Length
   * above it is refused (413) before the body is read. Default, and at most: the store's
   * `maxArtifactBytes`.
   */
  maxUploadBytes?: number;
  /** The serving side, for `/v2/repository/*`; without it those routes answer 503. */
  serving?: ManagementServing;
  /** Reported by `GET /v1/status`. Default: this package's version. */
  serverVersion?: string;
}

export interface ResolvedManagementOptions {
  readonly registry: Registry;
  readonly store: ArtifactStore;
  readonly inspectModel: InspectModel;
  readonly logger: Logger;
  readonly maxUploadBytes: number;
  /**
   * Largest JSON body of a repository load, in bytes: room for a maxUploadBytes file in base64,
   * capped at 256 MiB because the body is one JavaScript string.
   */
  readonly maxLoadBodyBytes: number;
  readonly serving: ManagementServing | undefined;
  readonly serverVersion: string;
}

export const PACKAGE_VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

const MAX_LOAD_BODY_BYTES = 256 * 1024 * 1024;

export function resolveOptions(options: ManagementServerOptions): ResolvedManagementOptions {
  for (const key of ['registry', 'store', 'inspectModel', 'logger'] as const) {
    if (options[key] === undefined || options[key] === null) throw new TypeError(`createManagementServer: option '${key}' is required`);
  }
  const storeLimit = options.store.options.maxArtifactBytes;
  const maxUploadBytes = options.maxUploadBytes ?? storeLimit;
  if (!Number.isSafeInteger(maxUploadBytes) || maxUploadBytes <= 0) {
    throw new RangeError(`createManagementServer: maxUploadBytes must be a positive integer, got ${maxUploadBytes}`);
  }
  const limit = Math.min(maxUploadBytes, storeLimit);
  return Object.freeze({
    registry: options.registry,
    store: options.store,
    inspectModel: options.inspectModel,
    logger: options.logger,
    maxUploadBytes: limit,
    maxLoadBodyBytes: Math.min(Math.ceil(limit / 3) * 4 + 1024 * 1024, MAX_LOAD_BODY_BYTES),
    serving: options.serving,
    serverVersion: options.serverVersion ?? PACKAGE_VERSION,
  });
}
