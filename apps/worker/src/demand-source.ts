/**
 * A model source that describes only the models this worker has been asked for. A worker serves
 * models on demand: its data plane must not read (and fetch the artifacts of) every model of the
 * registry at start-up or on every change notification, only of those requested here.
 *
 * Contract: `want(name)` before `load(name)` on the service; from then on the model is described and
 * follows the registry's changes. When the inner source no longer has a wanted model (deleted), it
 * stops being wanted and `onGone(name)` is called, so the caller forgets it was loaded.
 */
import type { ModelSource, SourceListing, SourceModel } from '@sibyl/runtime';

export interface DemandSource extends ModelSource {
  /** From now on, `name` is described (and so loadable). */
  want(name: string): void;
}

export function createDemandSource(inner: ModelSource, onGone: (name: string) => void): DemandSource {
  const wanted = new Set<string>();

  async function get(name: string): Promise<SourceModel | undefined> {
    if (!wanted.has(name)) return undefined;
    const described = await inner.get(name);
    if (described === undefined && wanted.delete(name)) onGone(name);
    return described;
  }

  const source: DemandSource = {
    unknownModel: inner.unknownModel,
    want: (name) => void wanted.add(name),
    get,
    async list(): Promise<SourceListing> {
      const models: SourceModel[] = [];
      for (const name of [...wanted].sort()) {
        const described = await get(name);
        if (described !== undefined) models.push(described);
      }
      return { models, skipped: [] };
    },
  };
  if (inner.reread !== undefined) source.reread = (name) => inner.reread!(name);
  if (inner.report !== undefined) source.report = (model, version, state, reason) => inner.report!(model, version, state, reason);
  if (inner.close !== undefined) source.close = () => inner.close!();
  if (inner.watch !== undefined) {
    // Changes of models nobody asked for here are not this worker's business.
    source.watch = (onChange) => inner.watch!((model) => (model === undefined || wanted.has(model) ? onChange(model) : undefined));
  }
  return source;
}
