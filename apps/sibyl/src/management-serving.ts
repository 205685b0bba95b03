/**
 * Triton's model repository extension on the management port, over the serving data plane: the
 * index, load and unload of the LocalInferenceService, plus the registry changes a load asks for.
 *
 * A load naming a version (its `file:` parameters were stored as one) deploys it, then loads the
 * model. A load with only a `config` registers a new version: the artifact of the model's live
 * version (its newest, when nothing is live) with that config, checked by the runtime, then deploys
 * it; versions are immutable, so a config never changes one in place.
 */
import type { ArtifactStore } from '@sibyl/artifacts';
import type { ManagementServing } from '@sibyl/management';
import type { ModelVersion, Registry } from '@sibyl/registry';
import { inspectModel, runtimeErrors, type LocalInferenceService } from '@sibyl/runtime';

export interface ManagementServingOptions {
  registry: Registry;
  artifacts: ArtifactStore;
  service: LocalInferenceService;
  /** Whether the server is ready (false while it drains). */
  ready(): Promise<boolean>;
}

/** JSON with sorted keys, to compare configs whatever order their keys came in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

async function versionWithConfig(options: ManagementServingOptions, name: string, config: Record<string, unknown>, actor: string): Promise<ModelVersion> {
  const { registry, artifacts } = options;
  const model = await registry.getModel(name);
  const versions = await registry.listVersions(name);
  const base =
    versions.find((v) => v.version === model.liveVersion) ?? [...versions].reverse().find((v) => v.state !== 'retired' && v.state !== 'failed');
  if (base === undefined) throw runtimeErrors.modelNotReady(name, undefined, 'it has no version to apply the config to; upload one first');
  if (canonical(base.config) === canonical(config)) return base;
  const signature = await inspectModel((await artifacts.stat(base.sha256)).path, config, { model: name });
  return registry.registerVersion({
    model: name,
    sha256: base.sha256,
    size: base.size,
    filename: base.filename,
    format: base.format,
    signature,
    config,
    createdBy: actor,
  });
}

export function createManagementServing(options: ManagementServingOptions): ManagementServing {
  const { registry, service } = options;
  return {
    repositoryIndex: () => service.repositoryIndex(),
    async load(name, request) {
      let version = request.version;
      if (version === undefined && request.config !== undefined) version = (await versionWithConfig(options, name, request.config, request.actor)).version;
      if (version !== undefined) await registry.deploy(name, version, request.actor);
      await service.load(name);
    },
    async unload(name) {
      await service.unload(name);
    },
    ready: options.ready,
  };
}
