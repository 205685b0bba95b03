/**
 * The registry as Triton's repository index: one entry per model version, READY for a version the
 * registry records as ready, UNAVAILABLE with the registry's state (and its reason) otherwise. A
 * model without versions is one entry without a version, as Triton lists a model it cannot load.
 */
import type { ModelIndexEntry } from '@sibyl/protocol';
import type { Model, ModelVersion } from '@sibyl/registry';

export function indexEntries(model: Model, versions: readonly ModelVersion[]): ModelIndexEntry[] {
  if (versions.length === 0) return [{ name: model.name, state: 'UNAVAILABLE', reason: 'the model has no versions' }];
  return versions.map((v) => {
    if (v.state === 'ready') return { name: model.name, version: String(v.version), state: 'READY', reason: '' };
    const reason = v.stateReason === '' ? v.state : `${v.state}: ${v.stateReason}`;
    return { name: model.name, version: String(v.version), state: 'UNAVAILABLE', reason };
  });
}
