/**
 * The worker as placement sees it: registered in coordination with its pool, addresses and memory
 * budget, then kept current: `load` on every change (sent with the next heartbeat), `warmModels`
 * (the `model/version` pairs READY) whenever they change, checked after each load and every heartbeat.
 */
import type { Coordination, InstanceInfo, InstanceRegistration } from '@sibyl/coordination';
import type { Logger } from '@sibyl/observability';
import type { InferenceService } from '@sibyl/protocol';

export interface PlacementOptions {
  coordination: Coordination;
  instance: Omit<InstanceInfo, 'updatedAt' | 'warmModels' | 'load' | 'draining'>;
  /** Where the READY versions are read from. */
  service: Pick<InferenceService, 'repositoryIndex'>;
  heartbeatMs: number;
  ttlMs: number;
  logger: Logger;
}

export interface Placement {
  readonly id: string;
  /** Requests in flight now. */
  setLoad(inflight: number): void;
  /** Re-reads the READY versions and reports them if they changed. Never throws. */
  refreshWarmModels(): Promise<void>;
  /** Announces at once that no new work should come here. */
  drain(): void;
  /** Stops heartbeating and removes the instance. Idempotent. */
  deregister(): Promise<void>;
}

async function readyVersions(service: Pick<InferenceService, 'repositoryIndex'>): Promise<string[]> {
  const index = await service.repositoryIndex();
  return index
    .filter((e) => e.state === 'READY' && e.version !== undefined)
    .map((e) => `${e.name}/${e.version}`)
    .sort();
}

export async function registerForPlacement(options: PlacementOptions): Promise<Placement> {
  const { coordination, service, logger } = options;
  let warm = await readyVersions(service);
  const registration: InstanceRegistration = await coordination.register(
    { ...options.instance, warmModels: warm, load: 0, draining: false },
    { heartbeatMs: options.heartbeatMs, ttlMs: options.ttlMs },
  );
  let refreshing: Promise<void> | undefined;
  let again = false;
  const refresh = async () => {
    do {
      again = false;
      const now = await readyVersions(service);
      if (now.join('\n') !== warm.join('\n')) {
        warm = now;
        registration.update({ warmModels: now });
        logger.debug({ event: 'warm-models', warmModels: now }, `placement: warm models now ${now.join(', ') || 'none'}`);
      }
    } while (again);
  };
  // Checked every heartbeat too: versions also come and go with registry changes (deploy, retire).
  const timer = setInterval(() => void placement.refreshWarmModels(), options.heartbeatMs);
  timer.unref();

  const placement: Placement = {
    id: registration.id,
    setLoad(inflight) {
      registration.update({ load: inflight });
    },
    refreshWarmModels() {
      if (refreshing !== undefined) {
        again = true;
        return refreshing;
      }
      refreshing = refresh()
        .catch((err: unknown) => logger.warn({ err }, 'placement: could not read the warm models'))
        .finally(() => (refreshing = undefined));
      return refreshing;
    },
    drain() {
      clearInterval(timer);
      registration.update({ draining: true });
    },
    async deregister() {
      clearInterval(timer);
      await registration.deregister();
    },
  };
  return placement;
}
