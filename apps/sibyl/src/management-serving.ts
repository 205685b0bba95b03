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
import { versionWithConfig, type ManagementServing } from '@sibyl/management';
import type { Registry } from '@sibyl/registry';
import type { LocalInferenceService, ModelEngine } from '@sibyl/runtime';

export interface ManagementServingOptions {
  registry: Registry;
  artifacts: ArtifactStore;
  service: LocalInferenceService;
  /** The engines a config change is checked on (versionWithConfig). */
  engines: readonly ModelEngine[];
  /** Whether the server is ready (false while it drains). */
  ready(): Promise<boolean>;
}

export function createManagementServing(options: ManagementServingOptions): ManagementServing {
  const { registry, service } = options;
  return {
    repositoryIndex: () => service.repositoryIndex(),
    async load(name, request) {
      let version = request.version;
      if (version === undefined && request.config !== undefined) version = (await versionWithConfig(registry, options.artifacts, name, request.config, request.actor, options.engines)).version;
      if (version !== undefined) await registry.deploy(name, version, request.actor);
      await service.load(name);
    },
    async unload(name) {
      await service.unload(name);
    },
    ready: options.ready,
  };
}
