import type { Logger } from '@sibyl/observability';
import type { Redis } from 'ioredis';
import type { InstanceInfo, InstanceRegistration, InstanceUpdate } from './instance.js';
import { encodeInstance } from './instance-json.js';
import { errorMessage } from './redis-connection.js';
import type { PlacementMessage, RedisKeys } from './redis-keys.js';
import { checkUpdate, type RegistrationTiming } from './registration-options.js';

export interface RegistrationContext {
  readonly command: Redis;
  readonly keys: RedisKeys;
  readonly clock: () => number;
  readonly logger: Logger;
  /** Called once the registration has stopped, whether or not Redis heard of it. */
  readonly onGone: (id: string) => void;
}

type WriteEvent = Exclude<PlacementMessage['event'], 'leave'>;

/**
 * One registered instance of this process: its heartbeat timer and its writes. Writes never throw:
 * while Redis is unreachable each heartbeat fails fast and the next one retries; a placement
 * announcement that failed is sent with the next write that succeeds. Writes of one instance never
 * overlap, so a heartbeat cannot land after the deregistration that follows it.
 */
export class RedisRegistration {
  readonly id: string;
  #info: Omit<InstanceInfo, 'updatedAt'>;
  readonly #timing: RegistrationTiming;
  readonly #ctx: RegistrationContext;
  #timer: NodeJS.Timeout | undefined;
  #active = true;
  #writing: Promise<void> | undefined;
  /** A write was asked for while one was in flight; it runs next, announcing this event if set. */
  #queued: { event: WriteEvent | undefined } | undefined;
  /** An announcement whose write failed, sent again with the next write. */
  #unannounced: WriteEvent | undefined;
  #flushScheduled = false;
  #failures = 0;
  #stopped: Promise<void> | undefined;

  constructor(info: Omit<InstanceInfo, 'updatedAt'>, timing: RegistrationTiming, ctx: RegistrationContext) {
    this.id = info.id;
    this.#info = Object.freeze({ ...info, warmModels: Object.freeze([...info.warmModels]) });
    this.#timing = timing;
    this.#ctx = ctx;
  }

  get active(): boolean {
    return this.#active;
  }

  /** Starts the heartbeat. */
  start(): void {
    if (!this.#active || this.#timer !== undefined) return;
    this.#timer = setInterval(() => void this.write(), this.#timing.heartbeatMs);
    this.#timer.unref();
  }

  /** Load is written by the next heartbeat; warm models and draining are written and announced now. */
  update(patch: InstanceUpdate): void {
    if (!this.#active) return;
    checkUpdate(patch);
    const before = this.#info;
    this.#info = Object.freeze({
      ...before,
      ...patch,
      ...(patch.warmModels === undefined ? {} : { warmModels: Object.freeze([...patch.warmModels]) }),
    });
    const placementChanged =
      (patch.draining !== undefined && patch.draining !== before.draining) ||
      (patch.warmModels !== undefined && !sameList(patch.warmModels, before.warmModels));
    if (!placementChanged || this.#flushScheduled) return;
    // Several updates in one turn (a batch of loads finishing) make one write.
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      void this.write('update');
    });
  }

  /** Writes the key with a fresh TTL (and announces `event`). Resolves when done; never rejects. */
  write(event?: WriteEvent): Promise<void> {
    if (!this.#active) return Promise.resolve();
    if (this.#writing !== undefined) {
      this.#queued = { event: strongest(this.#queued?.event, event) };
      return this.#writing;
    }
    const writing = this.#writeOnce(event).finally(() => {
      this.#writing = undefined;
      const queued = this.#queued;
      this.#queued = undefined;
      if (queued !== undefined) void this.write(queued.event);
    });
    this.#writing = writing;
    return writing;
  }

  /** Stops the heartbeat, then deletes the key and announces the leave. Idempotent; never rejects. */
  deregister(): Promise<void> {
    if (this.#stopped !== undefined) return this.#stopped;
    this.#active = false;
    clearInterval(this.#timer);
    this.#queued = undefined;
    const { command, keys, logger, onGone } = this.#ctx;
    this.#stopped = (async () => {
      await this.#writing;
      try {
        const message: PlacementMessage = { event: 'leave', id: this.id };
        check(await command.multi().del(keys.instance(this.id)).srem(keys.index, this.id).publish(keys.placement, JSON.stringify(message)).exec());
      } catch (err) {
        logger.warn({ instance: this.id, err: errorMessage(err) }, 'coordination: could not deregister the instance from redis; it disappears when its key expires');
      } finally {
        onGone(this.id);
      }
    })();
    return this.#stopped;
  }

  /** What callers hold: the three members of the contract, nothing else. */
  handle(): InstanceRegistration {
    return Object.freeze({
      id: this.id,
      update: (patch: InstanceUpdate) => this.update(patch),
      deregister: () => this.deregister(),
    });
  }

  async #writeOnce(requested: WriteEvent | undefined): Promise<void> {
    if (!this.#active) return;
    const { command, keys, clock, logger } = this.#ctx;
    const event = strongest(requested, this.#unannounced);
    const info: InstanceInfo = { ...this.#info, updatedAt: clock() };
    const multi = command.multi().set(keys.instance(this.id), encodeInstance(info), 'PX', this.#timing.ttlMs).sadd(keys.index, this.id);
    if (event !== undefined) {
      const message: PlacementMessage = { event, id: this.id };
      multi.publish(keys.placement, JSON.stringify(message));
    }
    try {
      check(await multi.exec());
      this.#unannounced = undefined;
      if (this.#failures > 0) logger.debug({ instance: this.id, failures: this.#failures }, 'coordination: heartbeat written again');
      this.#failures = 0;
    } catch (err) {
      this.#unannounced = event;
      // The outage itself is logged once by the coordination; this says which instance it holds up.
      if (this.#failures++ === 0) logger.debug({ instance: this.id, err: errorMessage(err) }, 'coordination: heartbeat failed; retrying');
    }
  }
}

/** Of two pending announcements, `join` wins over `update` (watchers re-read the set for either). */
function strongest(a: WriteEvent | undefined, b: WriteEvent | undefined): WriteEvent | undefined {
  return a === 'join' || b === 'join' ? 'join' : (a ?? b);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

/** A MULTI's replies: null when the transaction was discarded, and one error per failed command. */
function check(results: [Error | null, unknown][] | null): void {
  if (results === null) throw new Error('redis discarded the transaction');
  for (const [err] of results) if (err !== null) throw err;
}
