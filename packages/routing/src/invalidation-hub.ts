/**
 * Fans route invalidations out to watchers, coalescing bursts: a deploy, a rule change or a worker
 * restart often arrives as several notifications within milliseconds, and each watcher (a gateway's
 * route cache) should drop its entries once, not once per notification.
 */
import type { Logger } from '@sibyl/observability';
import type { RouteInvalidation } from './route.js';

export interface InvalidationHubOptions {
  /** How long invalidations are gathered before delivery, milliseconds. Default 10. */
  coalesceMs?: number;
  /** More distinct models than this in one burst are delivered as one `{}` (all). Default 256. */
  maxModels?: number;
  logger: Logger;
}

export interface InvalidationHub {
  /** Queues an invalidation for delivery after the coalescing window. */
  emit(invalidation: RouteInvalidation): void;
  /** Adds a watcher; returns the function that removes it. */
  watch(handler: (invalidation: RouteInvalidation) => void): () => void;
  /** Drops what is queued and every watcher. */
  close(): void;
}

export function createInvalidationHub(options: InvalidationHubOptions): InvalidationHub {
  const coalesceMs = options.coalesceMs ?? 10;
  const maxModels = options.maxModels ?? 256;
  const watchers = new Set<(invalidation: RouteInvalidation) => void>();
  let all = false;
  let models = new Set<string>();
  let timer: NodeJS.Timeout | undefined;

  const deliver = (invalidation: RouteInvalidation) => {
    for (const handler of [...watchers]) {
      try {
        handler(invalidation);
      } catch (err) {
        options.logger.error({ err }, 'router: an invalidation watcher threw');
      }
    }
  };

  const flush = () => {
    timer = undefined;
    const everything = all || models.size > maxModels;
    const batch = models;
    all = false;
    models = new Set();
    if (everything) deliver({});
    else for (const model of batch) deliver({ model });
  };

  return {
    emit(invalidation) {
      if (invalidation.model === undefined) all = true;
      else if (!all) models.add(invalidation.model);
      timer ??= setTimeout(flush, coalesceMs);
    },
    watch(handler) {
      watchers.add(handler);
      return () => {
        watchers.delete(handler);
      };
    },
    close() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      watchers.clear();
      models.clear();
      all = false;
    },
  };
}
