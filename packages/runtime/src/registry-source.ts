/**
 * The model registry as a ModelSource: what serves is what the registry says, read from the
 * database, with each version's files from the artifact store. The model repositories, when given,
 * are imported into the registry (repository-import.ts) and so become registered versions too.
 *
 * - A request without a version reaches the model's live version; with nothing live, none.
 * - Loaded: every version that is not retired, as the version_policy of the newest version's config
 *   selects (default all, as Triton), and always the live and the previous version, so a deploy or a
 *   rollback to them switches at once. Memory grows with the versions kept: retire the old ones, or
 *   give the model `version_policy: {latest: {num_versions: N}}`.
 * - Changes: every committed registry change is announced (LISTEN/NOTIFY); the service re-reads the
 *   model named. State reports ('version.state') are the service's own and are not re-read.
 * - States written back: loading (unless the version is already recorded ready: the state says
 *   how the last load went), ready, failed with the reason.
 */
import { fetchArtifact, type ArtifactStore } from '@sibyl/artifacts';
import type { Logger } from '@sibyl/observability';
import { isSibylError } from '@sibyl/protocol';
import type { Model, ModelVersion, Registry, VersionState } from '@sibyl/registry';
import { policyReason, reasonOf } from './directory-source.js';
import { defaultDeclaredConfig, parseModelConfig, type DeclaredConfig } from './model-config.js';
import type { ModelEngine } from './model-engine.js';
import type { ModelLocation, ModelSource, SourceListing, SourceModel, SourceVersion, VersionReport } from './model-source.js';
import { importRepositories, type ImportProblems, type ImportSummary } from './repository-import.js';
import type { SkippedEntry } from './repository-scan.js';
import { selectVersions } from './version-policy.js';

export interface RegistrySourceOptions {
  registry: Registry;
  artifacts: ArtifactStore;
  logger: Logger;
  /** Model repositories (`--model-repository`) imported into the registry by `importRepositories()`. Default none. */
  repositories?: readonly string[];
  /** Re-import the repositories every this many seconds while watched (`--model-control-mode poll`). Default: never. */
  pollSecs?: number;
  /** Audit actor of the import's changes. Default 'model-repository'. */
  importActor?: string;
  /** The engines an imported version is checked on before it is registered; default onnxruntime alone. */
  engines?: readonly ModelEngine[];
  /** Audit actor of the state reports. Default 'serving'. */
  reportActor?: string;
  /**
   * Base URL of an artifact file server (the management API, e.g. `http://management:8003`): a
   * version whose artifact is not in `artifacts` is first downloaded from there and verified
   * against its sha256 (a worker on another host). A failed download is the version's failure
   * reason, and is tried again on the next read. Default: none, the store must hold every artifact.
   */
  fetchArtifactsFrom?: string;
}

export interface RegistrySource extends Required<ModelSource> {
  /** Imports the repositories into the registry (idempotent); serving sees the result on its next read. */
  importRepositories(): Promise<ImportSummary>;
}

const UNKNOWN_MODEL = 'it is not registered, and in none of the model repositories';
const UNKNOWN_VERSION = 'the model has no such version';

function isCode(err: unknown, code: string): boolean {
  return isSibylError(err) && err.code === code;
}

export function createRegistrySource(options: RegistrySourceOptions): RegistrySource {
  const { registry, artifacts, logger } = options;
  const repositories = options.repositories ?? [];
  const importActor = options.importActor ?? 'model-repository';
  const reportActor = options.reportActor ?? 'serving';
  let problems = new Map<string, ImportProblems>();
  let skipped: SkippedEntry[] = [];
  let onChange: ((model: string | undefined) => void) | undefined;

  // Versions are immutable: their parsed config and artifact location are read once.
  const configs = new Map<string, { config: DeclaredConfig; failure?: string }>();
  const locations = new Map<string, ModelLocation>();
  /** The state the registry last showed for each version (`model/version`), to skip needless writes. */
  const recorded = new Map<string, VersionState>();

  function configOf(v: ModelVersion): { config: DeclaredConfig; failure?: string } {
    const key = `${v.model}/${v.version}`;
    let found = configs.get(key);
    if (found === undefined) {
      try {
        const config = v.config === null ? defaultDeclaredConfig() : parseModelConfig(v.model, `the config of version ${v.version}`, v.config);
        for (const w of config.warnings) logger.warn({ model: v.model, version: String(v.version), field: w.field }, `model '${v.model}' version ${v.version}: ${w.message}`);
        found = { config };
      } catch (err) {
        found = { config: defaultDeclaredConfig(), failure: reasonOf(err) };
      }
      configs.set(key, found);
    }
    return found;
  }

  async function locationOf(v: ModelVersion): Promise<ModelLocation | string> {
    let found = locations.get(v.sha256);
    if (found !== undefined) return found;
    if (options.fetchArtifactsFrom !== undefined) {
      try {
        await fetchArtifact(options.fetchArtifactsFrom, v.sha256, artifacts, { filename: v.filename });
      } catch (err) {
        return `its artifact ${v.sha256} could not be fetched from ${options.fetchArtifactsFrom}: ${reasonOf(err)}`;
      }
    }
    if (v.format === 'onnx-file') {
      found = { file: artifacts.pathOf(v.sha256) };
    } else {
      try {
        found = { dir: (await artifacts.stat(v.sha256)).path };
      } catch (err) {
        return `its artifact ${v.sha256} cannot be read from the artifact store: ${reasonOf(err)}`;
      }
    }
    locations.set(v.sha256, found);
    return found;
  }

  /** Version directories that failed to import and have no registered version of that number. */
  function problemVersions(name: string, taken: ReadonlySet<number>): SourceVersion[] {
    const out: SourceVersion[] = [];
    const p = problems.get(name);
    for (const [version, failure] of p?.versions ?? []) {
      if (taken.has(version)) continue;
      const error = p?.errors.get(version);
      out.push({ version, location: { dir: '' }, config: defaultDeclaredConfig(), failure, ...(error === undefined ? {} : { failureError: error }) });
    }
    return out;
  }

  async function describe(model: Model, versions: readonly ModelVersion[]): Promise<SourceModel> {
    for (const v of versions) recorded.set(`${v.model}/${v.version}`, v.state);
    const active = versions.filter((v) => v.state !== 'retired');
    const newest = active[active.length - 1];
    const policyConfig = newest === undefined ? defaultDeclaredConfig() : configOf(newest).config;
    const { served } = selectVersions(policyConfig.versionPolicy, active.map((v) => v.version));
    const keep = new Set(served);
    // Live and previous (a rollback is instant), canary and shadow (they take live traffic): always loaded.
    for (const pointer of [model.liveVersion, model.previousVersion, model.canaryVersion, model.shadowVersion]) {
      if (pointer !== null) keep.add(pointer);
    }

    const notServed = new Map<number, string>();
    const out: SourceVersion[] = [];
    for (const v of versions) {
      if (v.state === 'retired') {
        notServed.set(v.version, 'it is retired');
        continue;
      }
      if (!keep.has(v.version)) {
        notServed.set(v.version, policyReason(policyConfig));
        continue;
      }
      const { config, failure } = configOf(v);
      const location = await locationOf(v);
      const why = failure ?? (typeof location === 'string' ? location : undefined);
      out.push({
        version: v.version,
        location: typeof location === 'string' ? { dir: '' } : location,
        config,
        ...(why === undefined ? {} : { failure: `model '${v.model}' version ${v.version}: ${why}` }),
      });
    }
    out.push(...problemVersions(model.name, new Set(versions.map((v) => v.version))));
    out.sort((a, b) => a.version - b.version);
    return { name: model.name, live: model.liveVersion, versions: out, notServed, unknownVersion: UNKNOWN_VERSION };
  }

  /** A repository model that is not registered because nothing of it could be imported. */
  function describeProblems(name: string, p: ImportProblems): SourceModel {
    return {
      name,
      ...(p.failure === undefined ? {} : { failure: p.failure }),
      versions: problemVersions(name, new Set()),
      notServed: new Map(),
      unknownVersion: 'the model has no such version directory',
    };
  }

  async function versionsOf(name: string): Promise<ModelVersion[] | undefined> {
    try {
      return await registry.listVersions(name);
    } catch (err) {
      if (isCode(err, 'SIBYL_REGISTRY_MODEL_NOT_FOUND')) return undefined;
      throw err;
    }
  }

  // ---- import -------------------------------------------------------------------------------------
  let importing: Promise<unknown> = Promise.resolve();
  function runImport(only?: string): Promise<ImportSummary> {
    const run = importing.then(async () => {
      const summary = await importRepositories({
        registry, artifacts, logger, repositories, actor: importActor,
        ...(only === undefined ? {} : { only }),
        ...(options.engines === undefined ? {} : { engines: options.engines }),
      });
      const before = problems;
      const after = only === undefined ? new Map<string, ImportProblems>() : new Map(before);
      if (only !== undefined) after.delete(only);
      for (const [name, p] of summary.problems) after.set(name, p);
      problems = after;
      if (only === undefined) skipped = summary.skipped;
      // Registry changes announce themselves; changed import problems are announced here.
      const same = (a: ImportProblems | undefined, b: ImportProblems | undefined) =>
        JSON.stringify(a && [a.failure, [...a.versions]]) === JSON.stringify(b && [b.failure, [...b.versions]]);
      for (const name of new Set([...before.keys(), ...after.keys()])) {
        if (!same(before.get(name), after.get(name))) onChange?.(name);
      }
      return summary;
    });
    importing = run.catch(() => undefined);
    return run;
  }

  // ---- state reports ------------------------------------------------------------------------------
  let reports: Promise<void> = Promise.resolve();
  const STATE: Record<VersionReport, VersionState> = { loading: 'loading', ready: 'ready', failed: 'failed' };

  let pollTimer: NodeJS.Timeout | undefined;
  let closed = false;

  return {
    unknownModel: UNKNOWN_MODEL,

    async list(): Promise<SourceListing> {
      const models = await registry.listModels();
      const out: SourceModel[] = [];
      const registered = new Set<string>();
      for (const model of models) {
        const versions = await versionsOf(model.name);
        if (versions === undefined) continue; // deleted meanwhile
        registered.add(model.name);
        out.push(await describe(model, versions));
      }
      for (const [name, p] of problems) if (!registered.has(name)) out.push(describeProblems(name, p));
      out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      return { models: out, skipped };
    },

    async get(name) {
      let model: Model | undefined;
      try {
        model = await registry.getModel(name);
      } catch (err) {
        if (!isCode(err, 'SIBYL_REGISTRY_MODEL_NOT_FOUND') && !isCode(err, 'SIBYL_REGISTRY_MODEL_NAME_INVALID')) throw err;
      }
      const versions = model === undefined ? undefined : await versionsOf(name);
      if (model === undefined || versions === undefined) {
        const p = problems.get(name);
        return p === undefined ? undefined : describeProblems(name, p);
      }
      return describe(model, versions);
    },

    async reread(name) {
      if (repositories.length > 0) await runImport(name);
    },

    async watch(handler) {
      onChange = handler;
      const unsubscribe = await registry.subscribe((change) => {
        if (change.kind === 'resync') handler(undefined);
        else if (change.kind !== 'version.state') handler(change.model);
      });
      if (options.pollSecs !== undefined && repositories.length > 0) {
        let polling = false;
        pollTimer = setInterval(() => {
          if (polling || closed) return;
          polling = true;
          runImport()
            .then((summary) => {
              if (summary.registered > 0) logger.info({ registered: summary.registered }, `repository poll: imported ${summary.registered} new version(s)`);
            })
            .catch((err: unknown) => logger.error({ reason: reasonOf(err) }, `repository poll failed: ${reasonOf(err)}`))
            .finally(() => {
              polling = false;
            });
        }, options.pollSecs * 1000);
        pollTimer.unref();
      }
      return async () => {
        onChange = undefined;
        clearInterval(pollTimer);
        await unsubscribe();
      };
    },

    report(model, version, state, reason) {
      const key = `${model}/${version}`;
      reports = reports.then(async () => {
        const was = recorded.get(key);
        if (was === undefined || was === 'retired') return; // not a registered version (an import problem), or retired meanwhile
        if (state === 'loading' && (was === 'ready' || was === 'loading')) return;
        if (state === 'ready' && was === 'ready') return;
        try {
          const after = await registry.setVersionState(model, version, STATE[state], reason, reportActor);
          recorded.set(key, after.state);
        } catch (err) {
          const gone = ['SIBYL_REGISTRY_MODEL_NOT_FOUND', 'SIBYL_REGISTRY_VERSION_NOT_FOUND', 'SIBYL_REGISTRY_VERSION_RETIRED'].some((c) => isCode(err, c));
          if (!gone) logger.warn({ model, version: String(version), state, reason: reasonOf(err) }, `could not record model '${model}' version ${version} as ${state}: ${reasonOf(err)}`);
        }
      });
    },

    importRepositories: () => runImport(),

    async close() {
      closed = true;
      clearInterval(pollTimer);
      await reports;
      await importing;
    },
  };
}
