/**
 * A Triton repository `load` with a `config` parameter, as a registry change: versions are
 * immutable, so a new config becomes a new version over the same artifact (the live version's, or
 * the newest usable one when nothing is live), checked by the runtime first. The same config as the
 * base version's changes nothing.
 */
import type { ArtifactStore } from '@sibyl/artifacts';
import type { ModelVersion, Registry } from '@sibyl/registry';
import { inspectModel, runtimeErrors, type ModelEngine } from '@sibyl/runtime';

/** JSON with sorted keys, to compare configs whatever order their keys came in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** The version that serves `config`: the base version when its config is the same, else a new one. */
export async function versionWithConfig(
  registry: Registry,
  artifacts: ArtifactStore,
  name: string,
  config: Record<string, unknown>,
  actor: string,
  /** The engines the new version is checked on (TF.js models need the TF engine); default onnxruntime alone. */
  engines?: readonly ModelEngine[],
): Promise<ModelVersion> {
  const model = await registry.getModel(name);
  const versions = await registry.listVersions(name);
  const base =
    versions.find((v) => v.version === model.liveVersion) ?? [...versions].reverse().find((v) => v.state !== 'retired' && v.state !== 'failed');
  if (base === undefined) throw runtimeErrors.modelNotReady(name, undefined, 'it has no version to apply the config to; upload one first');
  if (canonical(base.config) === canonical(config)) return base;
  const signature = await inspectModel((await artifacts.stat(base.sha256)).path, config, { model: name, ...(engines === undefined ? {} : { engines }) });
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
