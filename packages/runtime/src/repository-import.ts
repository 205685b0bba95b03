/**
 * Imports model repositories (Triton's layout) into the registry, so a `--model-repository` is one
 * more way to register versions, and serving reads only the registry.
 *
 * Rules:
 * - Idempotent by content: a version directory whose artifact (sha256) and config.json are already
 *   registered adds nothing. Directory `N` becomes version N when that number is free; when it is
 *   taken by other content (the file changed), the new content becomes the model's next version.
 * - Only what serving would accept is registered: each new file is loaded once (inspectModel), and
 *   one that cannot serve is reported (as serving from the directory would report it) and skipped.
 *   The version_policy of config.json says which directories are imported.
 * - The artifact is the model file alone when the version directory holds nothing else; otherwise
 *   the whole directory (external data files) as a deterministic `.tar.gz`.
 * - Releases: a model that has never been released gets its newest imported version deployed, as
 *   Triton serves the highest version. While the last release of a model was made by the importer,
 *   a newer directory moves the live version forward (poll mode); once anyone else deploys or rolls
 *   back, the import leaves the live version alone.
 * - Removing files from a repository removes nothing from the registry: retire versions through the
 *   management API.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ArtifactStore } from '@sibyl/artifacts';
import type { Logger } from '@sibyl/observability';
import { isSibylError, type SibylError } from '@sibyl/protocol';
import type { Model, ModelVersion, Registry } from '@sibyl/registry';
import { readModelConfig, reasonOf, type ReadConfig } from './directory-source.js';
import { modelFileMissing, modelNameConflict, noVersions, versionDirMissing } from './errors.js';
import { inspectModel } from './inspect-model.js';
import { packDirectory } from './pack-directory.js';
import { scanRepositories, type ScannedModel, type SkippedEntry } from './repository-scan.js';
import { selectVersions } from './version-policy.js';
import { KNOWN_MODEL_FILES, type ModelEngine } from './model-engine.js';

/** What could not be imported of one model, as serving reports it. */
export interface ImportProblems {
  /** The model as a whole (bad config, name in two repositories, no versions). */
  failure?: string;
  /** Version directory → why it was not imported. */
  versions: Map<number, string>;
  /** The runtime's error for a version directory, when it gave one (an explicit load answers with it). */
  errors: Map<number, SibylError>;
}

export interface ImportSummary {
  /** Models found in the repositories. */
  models: number;
  /** Versions registered by this import. */
  registered: number;
  /** Models whose live version this import deployed. */
  deployed: string[];
  skipped: SkippedEntry[];
  /** Models with something that could not be imported. */
  problems: Map<string, ImportProblems>;
}

export interface ImportOptions {
  registry: Registry;
  artifacts: ArtifactStore;
  logger: Logger;
  repositories: readonly string[];
  /** Audit actor of the import's registry changes. */
  actor: string;
  /** Import only this model. */
  only?: string;
  /** The engines a version may load on, to check that it serves before it is registered; default onnxruntime alone. */
  engines?: readonly ModelEngine[];
}

const RELEASE_ACTIONS = new Set(['deploy', 'rollback', 'undeploy']);

/** A version directory's artifact: how to stream it, what to inspect, and how the registry names it. */
interface Artifact {
  open(): Readable;
  /** What inspectModel loads: the model file, or the version directory. */
  inspectPath: string;
  filename: string;
  format: 'onnx-file' | 'tar.gz';
}

/** The model file a version directory holds: the config's name, else the first engine's own name present (model.onnx, model.json). */
async function modelFileOf(model: string, version: number, versionDir: string, declared: string | undefined): Promise<string> {
  if (declared !== undefined) return declared;
  for (const name of KNOWN_MODEL_FILES.keys()) {
    if ((await stat(join(versionDir, name)).catch(() => undefined)) !== undefined) return name;
  }
  throw modelFileMissing(model, String(version), [...KNOWN_MODEL_FILES.keys()].map((name) => join(versionDir, name)));
}

async function artifactOf(model: string, version: number, versionDir: string, declared: string | undefined): Promise<Artifact> {
  const modelFilename = await modelFileOf(model, version, versionDir, declared);
  const file = join(versionDir, modelFilename);
  const info = await stat(file).catch(() => undefined);
  if (info === undefined) throw modelFileMissing(model, String(version), file);
  if (info.isFile() && (await readdir(versionDir)).length === 1) {
    return { open: () => createReadStream(file), inspectPath: file, filename: modelFilename, format: 'onnx-file' };
  }
  return { open: () => packDirectory(versionDir), inspectPath: versionDir, filename: 'model.tar.gz', format: 'tar.gz' };
}

async function hashOf(stream: Readable): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  await pipeline(stream, async function* (chunks: AsyncIterable<Buffer>) {
    for await (const chunk of chunks) {
      size += chunk.length;
      hash.update(chunk);
    }
  });
  return { sha256: hash.digest('hex'), size };
}

/** JSON with sorted keys: jsonb gives keys back in its own order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

function isCode(err: unknown, code: string): boolean {
  return isSibylError(err) && err.code === code;
}

async function modelOrUndefined(registry: Registry, name: string): Promise<Model | undefined> {
  try {
    return await registry.getModel(name);
  } catch (err) {
    if (isCode(err, 'SIBYL_REGISTRY_MODEL_NOT_FOUND')) return undefined;
    throw err;
  }
}

async function versionOrUndefined(registry: Registry, name: string, version: number): Promise<ModelVersion | undefined> {
  try {
    return await registry.getVersion(name, version);
  } catch (err) {
    if (isCode(err, 'SIBYL_REGISTRY_VERSION_NOT_FOUND') || isCode(err, 'SIBYL_REGISTRY_MODEL_NOT_FOUND')) return undefined;
    throw err;
  }
}

/** Who made the model's last release (deploy, rollback, undeploy); undefined when there was none. */
async function lastReleaseActor(registry: Registry, name: string): Promise<string | undefined> {
  let before: number | undefined;
  for (;;) {
    const page = await registry.events(name, before === undefined ? { limit: 200 } : { limit: 200, before });
    const release = page.find((e) => RELEASE_ACTIONS.has(e.action));
    if (release !== undefined) return release.actor;
    if (page.length < 200) return undefined;
    before = page[page.length - 1]!.id;
  }
}

class ModelImport {
  readonly problems: ImportProblems = { versions: new Map(), errors: new Map() };
  registered = 0;
  deployed = false;
  private model: Model | undefined;

  constructor(
    private readonly options: ImportOptions,
    private readonly scanned: ScannedModel,
  ) {}

  async run(): Promise<void> {
    const { logger } = this.options;
    const { name } = this.scanned;
    let read: ReadConfig;
    try {
      if (this.scanned.conflicts.length > 0) throw modelNameConflict(name, this.scanned.conflicts);
      read = await readModelConfig(this.scanned);
      for (const w of read.config.warnings) logger.warn({ model: name, field: w.field }, `model '${name}': ${w.message}`);
      if (this.scanned.versions.length === 0) throw noVersions(name, this.scanned.dir);
    } catch (err) {
      this.problems.failure = reasonOf(err);
      logger.error({ model: name, reason: this.problems.failure }, `model '${name}' not imported: ${this.problems.failure}`);
      return;
    }
    this.model = await modelOrUndefined(this.options.registry, name);
    const { served, missing } = selectVersions(read.config.versionPolicy, this.scanned.versions);
    for (const version of missing) {
      this.problems.versions.set(version, versionDirMissing(name, String(version), join(this.scanned.dir, String(version))).message);
    }
    const imported = new Map<number, ModelVersion>();
    for (const dir of served) {
      try {
        imported.set(dir, await this.importVersion(dir, read));
      } catch (err) {
        const reason = reasonOf(err);
        this.problems.versions.set(dir, reason);
        if (isSibylError(err)) this.problems.errors.set(dir, err);
        logger.error({ model: name, version: String(dir), reason }, `model '${name}' version ${dir} not imported: ${reason}`);
      }
    }
    await this.release(served, imported);
  }

  /** The registry version holding directory `dir`, registered now if it is new. */
  private async importVersion(dir: number, read: ReadConfig): Promise<ModelVersion> {
    const { registry, artifacts, logger, actor } = this.options;
    const { name } = this.scanned;
    const versionDir = join(this.scanned.dir, String(dir));
    const artifact = await artifactOf(name, dir, versionDir, read.config.defaultModelFilename);
    const { sha256, size } = await hashOf(artifact.open());
    const config = read.raw ?? null;
    const sameConfig = (v: ModelVersion) => canonicalJson(v.config) === canonicalJson(config);

    let explicit: number | undefined = dir;
    if (this.model !== undefined) {
      const atDir = await versionOrUndefined(registry, name, dir);
      let match = atDir !== undefined && atDir.sha256 === sha256 && sameConfig(atDir) ? atDir : undefined;
      if (atDir !== undefined && match === undefined) {
        // The number holds other content: this content is (or becomes) another version.
        explicit = undefined;
        const bySha = await registry.findVersionBySha(name, sha256);
        if (bySha !== undefined && sameConfig(bySha)) match = bySha;
      }
      if (match !== undefined) {
        // Imported before. The store may have lost it (another data directory on a shared database).
        if (!(await artifacts.has(sha256))) await artifacts.put(artifact.open(), { filename: artifact.filename, expectedSha256: sha256 });
        return match;
      }
    }

    const signature = await inspectModel(artifact.inspectPath, config ?? undefined, { model: name, version: dir, ...(this.options.engines === undefined ? {} : { engines: this.options.engines }) });
    await artifacts.put(artifact.open(), { filename: artifact.filename, expectedSha256: sha256, expectedSize: size });
    if (this.model === undefined) {
      try {
        this.model = await registry.createModel({ name, platform: signature.platform }, actor);
      } catch (err) {
        if (!isCode(err, 'SIBYL_REGISTRY_MODEL_EXISTS')) throw err;
        this.model = await registry.getModel(name);
      }
    }
    const version = await registry.registerVersion({
      model: name,
      sha256,
      size,
      filename: artifact.filename,
      format: artifact.format,
      signature,
      config,
      createdBy: actor,
      ...(explicit === undefined ? {} : { version: explicit }),
    });
    this.registered++;
    logger.info(
      { model: name, version: String(version.version), sha256, path: versionDir },
      `imported model '${name}' version ${version.version} from ${versionDir}`,
    );
    return version;
  }

  /** Deploys the newest imported version while the repository owns the model's releases (see the top of this file). */
  private async release(served: readonly number[], imported: ReadonlyMap<number, ModelVersion>): Promise<void> {
    const { registry, logger, actor } = this.options;
    const { name } = this.scanned;
    const newest = [...served]
      .reverse()
      .map((dir) => imported.get(dir))
      .find((v) => v !== undefined && v.state !== 'retired' && v.state !== 'failed');
    if (newest === undefined) return;
    const model = await registry.getModel(name);
    if (model.liveVersion === newest.version) return;
    const neverReleased = model.liveVersion === null && model.previousVersion === null;
    if (!neverReleased && (await lastReleaseActor(registry, name)) !== actor) return;
    try {
      await registry.deploy(name, newest.version, actor);
      this.deployed = true;
      logger.info({ model: name, version: String(newest.version), event: 'deploy' }, `model '${name}': deployed version ${newest.version} from the model repository`);
    } catch (err) {
      logger.warn({ model: name, version: String(newest.version), reason: reasonOf(err) }, `model '${name}': version ${newest.version} not deployed: ${reasonOf(err)}`);
    }
  }
}

/** Imports every model of the repositories (or `options.only`). Throws SIBYL_REPOSITORY_UNREADABLE for a missing repository. */
export async function importRepositories(options: ImportOptions): Promise<ImportSummary> {
  const scan = await scanRepositories(options.repositories);
  for (const s of scan.skipped) options.logger.warn({ path: s.path }, s.reason);
  const summary: ImportSummary = { models: 0, registered: 0, deployed: [], skipped: scan.skipped, problems: new Map() };
  for (const scanned of scan.models) {
    if (options.only !== undefined && scanned.name !== options.only) continue;
    summary.models++;
    const one = new ModelImport(options, scanned);
    try {
      await one.run();
    } catch (err) {
      // The registry failed (not the model): report it on the model and go on with the others.
      one.problems.failure ??= `not imported: ${reasonOf(err)}`;
      options.logger.error({ model: scanned.name, reason: reasonOf(err) }, `model '${scanned.name}' not imported: ${reasonOf(err)}`);
    }
    summary.registered += one.registered;
    if (one.deployed) summary.deployed.push(scanned.name);
    if (one.problems.failure !== undefined || one.problems.versions.size > 0) summary.problems.set(scanned.name, one.problems);
  }
  return summary;
}
