import type { Logger } from '@sibyl/observability';
import type { InstanceInfo } from './instance.js';

/**
 * What placement depends on: everything but `load` and `updatedAt`, which change on every heartbeat
 * and must not wake watchers.
 */
function placementKey(info: InstanceInfo): string {
  return JSON.stringify([
    info.id,
    info.pool,
    info.kind,
    info.httpAddress,
    info.grpcAddress,
    info.memoryBudgetBytes,
    info.warmModels,
    info.draining,
    info.startedAt,
  ]);
}

/**
 * The live set as one process last saw it, and the handlers watching it. Both implementations keep
 * one: the memory one is the store itself, the Redis one is the watcher's cache.
 */
export class InstanceSet {
  #byId = new Map<string, InstanceInfo>();
  #sorted: InstanceInfo[] = [];
  readonly #handlers = new Set<(instances: InstanceInfo[]) => void>();
  readonly #logger: Logger | undefined;

  constructor(logger?: Logger) {
    this.#logger = logger;
  }

  /** The set sorted by id, all pools or one. A fresh array each call. */
  list(pool?: string): InstanceInfo[] {
    return pool === undefined ? [...this.#sorted] : this.#sorted.filter((i) => i.pool === pool);
  }

  get(id: string): InstanceInfo | undefined {
    return this.#byId.get(id);
  }

  /** Replaces the whole set; watchers run when placement changed. */
  replace(instances: Iterable<InstanceInfo>): void {
    const next = new Map<string, InstanceInfo>();
    for (const info of instances) next.set(info.id, info);
    this.#commit(next);
  }

  upsert(info: InstanceInfo): void {
    const next = new Map(this.#byId);
    next.set(info.id, info);
    this.#commit(next);
  }

  remove(id: string): void {
    if (!this.#byId.has(id)) return;
    const next = new Map(this.#byId);
    next.delete(id);
    this.#commit(next);
  }

  watch(handler: (instances: InstanceInfo[]) => void): () => void {
    // A wrapper, so one function watching twice is two watches with two stop functions.
    const entry = (instances: InstanceInfo[]) => handler(instances);
    this.#handlers.add(entry);
    return () => {
      this.#handlers.delete(entry);
    };
  }

  #commit(next: Map<string, InstanceInfo>): void {
    const changed = next.size !== this.#byId.size || [...next].some(([id, info]) => {
      const previous = this.#byId.get(id);
      return previous === undefined || placementKey(previous) !== placementKey(info);
    });
    this.#byId = next;
    this.#sorted = [...next.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    if (!changed) return;
    for (const handler of [...this.#handlers]) {
      try {
        handler(this.list());
      } catch (err) {
        // A failing watcher must not stop the others, nor the heartbeat or poll that called it.
        this.#logger?.error({ err }, 'coordination: instance watcher threw');
      }
    }
  }
}
