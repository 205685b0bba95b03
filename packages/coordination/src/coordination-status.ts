import type { Logger } from '@sibyl/observability';
import type { CoordinationStatus } from './instance.js';

/** One line for logs and health output: `connected since <iso>` or `disconnected since <iso>: <reason>`. */
export function describeStatus(status: CoordinationStatus): string {
  const since = new Date(status.since).toISOString();
  if (status.connected) return `connected since ${since}`;
  return `disconnected since ${since}${status.reason === undefined ? '' : `: ${status.reason}`}`;
}

/** Holds `status()` and calls the `onStatus` handlers on every change of `connected`. */
export class StatusTracker {
  #status: CoordinationStatus;
  readonly #handlers = new Set<(status: CoordinationStatus) => void>();
  readonly #clock: () => number;
  readonly #logger: Logger | undefined;

  constructor(initial: { connected: boolean; reason?: string }, clock: () => number, logger?: Logger) {
    this.#clock = clock;
    this.#logger = logger;
    this.#status = freeze(initial.connected, clock(), initial.reason);
  }

  get(): CoordinationStatus {
    return this.#status;
  }

  /** Records the new state; returns true when `connected` changed (and the handlers ran). */
  set(connected: boolean, reason?: string): boolean {
    if (connected === this.#status.connected) {
      // Still down: the latest reason is the useful one (`since` stays the start of the outage).
      if (!connected && reason !== undefined && reason !== this.#status.reason) {
        this.#status = freeze(false, this.#status.since, reason);
      }
      return false;
    }
    this.#status = freeze(connected, this.#clock(), connected ? undefined : reason);
    for (const handler of [...this.#handlers]) {
      try {
        handler(this.#status);
      } catch (err) {
        this.#logger?.error({ err }, 'coordination: status handler threw');
      }
    }
    return true;
  }

  on(handler: (status: CoordinationStatus) => void): () => void {
    const entry = (status: CoordinationStatus) => handler(status);
    this.#handlers.add(entry);
    return () => {
      this.#handlers.delete(entry);
    };
  }
}

function freeze(connected: boolean, since: number, reason?: string): CoordinationStatus {
  return Object.freeze(reason === undefined ? { connected, since } : { connected, since, reason });
}
