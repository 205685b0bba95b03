/**
 * Triton's model repository extension for the split topology, where the management app runs no
 * models: workers load a model on demand when the router sends them its first request. Serving a
 * model therefore means having a live version in the registry:
 *
 * - index: every version that is not retired, with the state the workers last recorded;
 * - load: deploys the version the load stored (`file:` parameters) or registered (`config`); a plain
 *   load of a model with nothing live deploys its newest usable version; a model already live is
 *   left as it is (the load re-reads nothing: versions are immutable);
 * - unload: undeploys the model (nothing live; the previous version stays for a rollback).
 */
import type { ArtifactStore } from '@sibyl/artifacts';
import type { ModelVersion, Registry } from '@sibyl/registry';
import { runtimeErrors, type ModelEngine } from '@sibyl/runtime';
import { versionWithConfig } from './config-version.js';
import type { ManagementServing, RepositoryIndexEntry } from './server-options.js';

export interface RegistryServingOptions {
  registry: Registry;
  artifacts: ArtifactStore;
  /** The engines a config change is checked on (versionWithConfig); default onnxruntime alone. */
  engines?: readonly ModelEngine[];
  /** Whether the management app is ready (false while it drains). */
  ready(): Promise<boolean>;
}

const STATE: Record<ModelVersion['state'], string> = {
  registered: 'UNAVAILABLE',
  loading: 'LOADING',
  ready: 'READY',
  failed: 'UNAVAILABLE',
  retired: 'UNAVAILABLE',
};

function reasonOf(v: ModelVersion): string {
  if (v.state === 'ready') return '';
  if (v.state === 'registered') return 'registered: no worker has loaded it yet';
  return v.stateReason;
}

export function createRegistryServing(options: RegistryServingOptions): ManagementServing {
  const { registry, artifacts } = options;
  return {
    async repositoryIndex(): Promise<RepositoryIndexEntry[]> {
      const out: RepositoryIndexEntry[] = [];
      for (const model of await registry.listModels()) {
        let versions: ModelVersion[];
        try {
          versions = await registry.listVersions(model.name);
        } catch {
          continue; // deleted since it was listed
        }
        for (const v of versions) {
          if (v.state === 'retired') continue;
          out.push({ name: model.name, version: String(v.version), state: STATE[v.state], reason: reasonOf(v) });
        }
      }
      return out;
    },
    async load(name, request) {
      let version = request.version;
      if (version === undefined && request.config !== undefined) {
        version = (await versionWithConfig(registry, artifacts, name, request.config, request.actor, options.engines)).version;
      }
      if (version === undefined) {
        const model = await registry.getModel(name);
        if (model.liveVersion !== null) return;
        const versions = await registry.listVersions(name);
        const newest = [...versions].reverse().find((v) => v.state !== 'retired' && v.state !== 'failed');
        if (newest === undefined) throw runtimeErrors.modelNotReady(name, undefined, 'it has no version that can serve; upload one first');
        version = newest.version;
      }
      await registry.deploy(name, version, request.actor);
    },
    async unload(name, request) {
      await registry.undeploy(name, request.actor);
    },
    ready: options.ready,
  };
}
