import type { Logger } from '@sibyl/observability';
import type { Coordination, RegisterOptions } from './coordination.js';
import { StatusTracker } from './coordination-status.js';
import { coordinationClosed, instanceExists } from './errors.js';
import type { CoordinationStatus, InstanceInfo, InstanceRegistration, InstanceUpdate } from './instance.js';
import { InstanceSet } from './instance-set.js';
import { checkInstance, checkUpdate, normalizeTiming } from './registration-options.js';

export interface MemoryCoordinationOptions {
  /** Logs watcher and subscriber failures. Default: none. */
  logger?: Logger;
  /** Milliseconds since the epoch, for `updatedAt` and `status().since`. Default `Date.now`. */
  clock?: () => number;
}

/**
 * Coordination inside one process: the embedded default (all-in-one, no `REDIS_URL`). The set it
 * holds is the truth, so there is nothing to expire: an instance is live until it deregisters, and
 * `updatedAt` is the time of its last update. The status is always connected.
 */
export function createMemoryCoordination(options: MemoryCoordinationOptions = {}): Coordination {
  const clock = options.clock ?? Date.now;
  const logger = options.logger;
  const set = new InstanceSet(logger);
  const status = new StatusTracker({ connected: true }, clock, logger);
  const channels = new Map<string, Set<(message: string) => void>>();
  const own = new Map<string, () => void>();
  let closed = false;

  const deliver = (channel: string, message: string) => {
    for (const handler of [...(channels.get(channel) ?? [])]) {
      // Delivered later, as Redis would: a subscriber never runs inside the publisher's call.
      queueMicrotask(() => {
        if (!channels.get(channel)?.has(handler)) return;
        try {
          handler(message);
        } catch (err) {
          logger?.error({ err, channel }, 'coordination: subscriber threw');
        }
      });
    }
  };

  const coordination: Coordination = {
    kind: 'memory',

    async register(info, registerOptions?: RegisterOptions): Promise<InstanceRegistration> {
      if (closed) throw coordinationClosed('register an instance');
      checkInstance(info);
      normalizeTiming(registerOptions); // checked for the same mistakes as with Redis; nothing expires here
      if (own.has(info.id)) throw instanceExists(info.id);
      const id = info.id;
      let current: InstanceInfo = Object.freeze({ ...info, warmModels: Object.freeze([...info.warmModels]), updatedAt: clock() });
      let active = true;
      const stop = () => {
        if (!active) return;
        active = false;
        own.delete(id);
        set.remove(id);
      };
      own.set(id, stop);
      set.upsert(current);
      return {
        id,
        update(patch: InstanceUpdate) {
          if (!active) return;
          checkUpdate(patch);
          current = Object.freeze({
            ...current,
            ...patch,
            ...(patch.warmModels === undefined ? {} : { warmModels: Object.freeze([...patch.warmModels]) }),
            updatedAt: clock(),
          });
          set.upsert(current);
        },
        async deregister() {
          stop();
        },
      };
    },

    instances(pool?: string): InstanceInfo[] {
      return set.list(pool);
    },

    async watchInstances(handler) {
      if (closed) throw coordinationClosed('watch instances');
      return set.watch(handler);
    },

    async publish(channel, message) {
      if (closed) throw coordinationClosed('publish');
      deliver(channel, message);
    },

    async subscribe(channel, handler) {
      if (closed) throw coordinationClosed('subscribe');
      const entry = (message: string) => handler(message);
      let handlers = channels.get(channel);
      if (handlers === undefined) channels.set(channel, (handlers = new Set()));
      handlers.add(entry);
      return async () => {
        const current = channels.get(channel);
        current?.delete(entry);
        if (current?.size === 0) channels.delete(channel);
      };
    },

    status(): CoordinationStatus {
      return status.get();
    },

    onStatus(handler) {
      return status.on(handler);
    },

    async close() {
      if (closed) return;
      closed = true;
      for (const stop of [...own.values()]) stop();
      channels.clear();
    },
  };
  return Object.freeze(coordination);
}
