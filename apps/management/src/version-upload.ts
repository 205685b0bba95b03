/**
 * Accepting a model version: bytes into the artifact store, a load in the runtime, then a registry
 * row, in that order.
 *
 * Contracts:
 * - A registry row is written only after the store's `put` has resolved (the artifact is complete
 *   and durable), so a crash mid-upload leaves no half-registered version.
 * - An upload the runtime cannot load is refused with the runtime's reason, and leaves nothing
 *   behind: its artifact is removed unless a version (of any model) uses the same bytes, or another
 *   upload is in progress (it may be about to: the store keeps what it cannot tell apart).
 * - Idempotent by content: uploading bytes a version of the model already has (with the same config),
 *   in a state that can still serve (registered, loading, ready), returns that version and registers
 *   nothing. Bytes whose versions were all retired or failed become a new version.
 * - The source is never destroyed here: when an upload is refused part way (size, checksum), the
 *   caller lets Node read and discard the rest, so the client still gets the answer.
 */
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import type { ArtifactStore, StoredArtifact } from '@sibyl/artifacts';
import type { Logger } from '@sibyl/observability';
import { isSibylError } from '@sibyl/protocol';
import type { ModelVersion, Registry, VersionSignature } from '@sibyl/registry';
import { KNOWN_MODEL_FILES } from '@sibyl/runtime';
import { modelRejected, uploadTooLarge } from './errors.js';
import { createKeyedLock } from './keyed-lock.js';
import type { InspectModel } from './server-options.js';

const REUSABLE_STATES: ReadonlySet<string> = new Set(['registered', 'loading', 'ready']);

export interface UploadInput {
  model: string;
  /** The bytes; read to the end, or until refused (see the module contracts). */
  source: Readable;
  /** The upload's name: `*.tar.gz` / `*.tgz` is a directory model. */
  filename: string;
  /** Refuse the upload unless its bytes hash to this. */
  expectedSha256?: string;
  /** The model config to inspect and record with the version (a repository load's `config`). */
  config?: Record<string, unknown>;
  /**
   * Create the model (as `actor`) if it does not exist, once the upload has been accepted: a refused
   * upload then leaves no model behind either. Default false: the model must exist.
   */
  createModel?: boolean;
  actor: string;
}

export interface UploadResult {
  version: ModelVersion;
  /** False when an existing version with the same bytes was returned. */
  created: boolean;
}

export interface VersionUploader {
  readonly maxUploadBytes: number;
  upload(input: UploadInput): Promise<UploadResult>;
}

export interface VersionUploaderOptions {
  registry: Registry;
  store: ArtifactStore;
  inspectModel: InspectModel;
  logger: Logger;
  /** Largest upload, bytes; at most the store's own limit. */
  maxUploadBytes: number;
}

export function createVersionUploader(options: VersionUploaderOptions): VersionUploader {
  const { registry, store, logger, maxUploadBytes } = options;
  const perModel = createKeyedLock();
  let active = 0;

  /** The version of `model` that already serves these bytes with this config, if any. */
  async function reusable(model: string, sha256: string, config: Record<string, unknown> | null): Promise<ModelVersion | undefined> {
    const found = await registry.findVersionBySha(model, sha256);
    if (found !== undefined && REUSABLE_STATES.has(found.state) && canonicalJson(found.config) === canonicalJson(config)) return found;
    if (found === undefined) return undefined;
    // The newest one is not reusable; an older one with the same bytes may be.
    const all = await registry.listVersions(model);
    return all
      .filter((v) => v.sha256 === sha256 && REUSABLE_STATES.has(v.state) && canonicalJson(v.config) === canonicalJson(config))
      .at(-1);
  }

  /** Removes an artifact nothing uses (see the module contracts); failures are logged, not thrown. */
  async function discard(stored: StoredArtifact): Promise<void> {
    try {
      if (stored.alreadyStored && (await referenced(registry, stored.sha256))) return;
      // Checked just before remove() is queued: an upload that starts later reaches the store's
      // per-sha256 queue after the removal, and stores the bytes again.
      if (active > 1) return;
      await store.remove(stored.sha256);
    } catch (err) {
      logger.warn({ sha256: stored.sha256, err }, 'could not remove the artifact of a refused upload');
    }
  }

  async function upload(input: UploadInput): Promise<UploadResult> {
    const what = `upload '${input.filename}'`;
    const config = input.config ?? null;
    active += 1;
    try {
      const stored = await receive(input, what);
      try {
        const existing = await reusable(input.model, stored.sha256, config);
        if (existing !== undefined) return { version: existing, created: false };
        const signature = await inspect(stored, input, what);
        return await perModel.run(input.model, async () => {
          if (input.createModel === true) await createIfMissing(registry, input.model, input.actor);
          // A concurrent upload of the same bytes may have registered them meanwhile.
          const again = await reusable(input.model, stored.sha256, config);
          if (again !== undefined) return { version: again, created: false };
          const version = await registry.registerVersion({
            model: input.model,
            sha256: stored.sha256,
            size: stored.size,
            filename: input.filename,
            format: stored.format === 'file' ? 'onnx-file' : 'tar.gz',
            signature,
            config,
            createdBy: input.actor,
          });
          logger.info(
            { model: input.model, version: version.version, sha256: stored.sha256, size: stored.size, actor: input.actor },
            `model '${input.model}' version ${version.version} registered (${input.filename}, ${stored.size} bytes)`,
          );
          return { version, created: true };
        });
      } catch (err) {
        await discard(stored);
        throw err;
      }
    } finally {
      active -= 1;
    }
  }

  /** Streams the source into the store through a byte counter that enforces maxUploadBytes. */
  async function receive(input: UploadInput, what: string): Promise<StoredArtifact> {
    const { source } = input;
    let received = 0;
    let overLimit = false;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        received += chunk.length;
        if (received > maxUploadBytes) {
          overLimit = true;
          callback(uploadTooLarge(what, maxUploadBytes));
          return;
        }
        callback(null, chunk);
      },
    });
    // pipe() does not forward a failure of the source: a client that goes away must end the upload.
    const onError = (err: Error) => counter.destroy(err);
    const onClose = () => {
      if (!source.readableEnded) counter.destroy(new Error('the connection closed before the body ended'));
    };
    source.on('error', onError).on('close', onClose);
    source.pipe(counter);
    try {
      return await store.put(counter, {
        filename: input.filename,
        ...(input.expectedSha256 === undefined ? {} : { expectedSha256: input.expectedSha256.toLowerCase() }),
        entryPoints: modelFilenames(input.config),
      });
    } catch (err) {
      if (overLimit) throw uploadTooLarge(what, maxUploadBytes);
      throw err;
    } finally {
      source.off('error', onError).off('close', onClose);
      source.unpipe(counter);
      counter.destroy();
    }
  }

  async function inspect(stored: StoredArtifact, input: UploadInput, what: string): Promise<VersionSignature> {
    // A directory is inspected whole: the runtime finds its model file (model.onnx, model.json, or the config's) and the engine for it.
    const file = stored.path;
    try {
      const found = await options.inspectModel(file, input.config, { model: input.model, version: await nextVersion(registry, input.model) });
      const signature: VersionSignature = { platform: found.platform, inputs: found.inputs, outputs: found.outputs };
      if (found.maxBatchSize !== undefined) signature.maxBatchSize = found.maxBatchSize;
      return signature;
    } catch (err) {
      if (!isSibylError(err)) logger.warn({ err, file }, `${what}: the runtime failed to inspect the model with an uncoded error`);
      const reason = err instanceof Error ? err.message : String(err);
      throw modelRejected(what, reason);
    }
  }

  return { maxUploadBytes, upload };
}

/** The files a directory model may be loaded from: the config's `default_model_filename`, else each runtime's own (model.onnx, model.json). */
export function modelFilenames(config: Record<string, unknown> | undefined): string[] {
  const name = config?.['default_model_filename'];
  return typeof name === 'string' && name !== '' ? [name] : [...KNOWN_MODEL_FILES.keys()];
}

async function createIfMissing(registry: Registry, name: string, actor: string): Promise<void> {
  try {
    await registry.createModel({ name }, actor);
  } catch (err) {
    if (!(isSibylError(err) && err.category === 'CONFLICT')) throw err;
  }
}

/** The number the model's next version would get, for the runtime's messages (1 for a model not created yet). */
async function nextVersion(registry: Registry, model: string): Promise<number> {
  try {
    return ((await registry.listVersions(model)).at(-1)?.version ?? 0) + 1;
  } catch {
    return 1;
  }
}

/** Whether any version of any model points at the artifact. */
async function referenced(registry: Registry, sha256: string): Promise<boolean> {
  for (const model of await registry.listModels()) {
    if ((await registry.findVersionBySha(model.name, sha256)) !== undefined) return true;
  }
  return false;
}

/** JSON with object keys sorted, so configs compare equal whatever order the database keeps. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value ?? null, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
