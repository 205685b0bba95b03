/**
 * What an app's start-up opened, to be closed the other way round: each step runs once, in reverse
 * order of `add`, and a failing step is logged without stopping the ones after it. Apps keep two of
 * these: listeners (stopped first, within the grace period) and resources (released after).
 */
export interface ShutdownSteps {
  add(step: () => Promise<void>): void;
  /** Runs the steps added so far, newest first, one at a time; later `add`s start a new list. */
  run(): Promise<void>;
  /** Runs them all at once (listeners stop together). */
  runTogether(): Promise<void>;
}

export function createShutdownSteps(log: { error(obj: object, msg: string): void }): ShutdownSteps {
  const steps: Array<() => Promise<void>> = [];
  const guarded = (step: () => Promise<void>) => step().catch((err: unknown) => log.error({ err }, 'shutdown step failed'));
  return {
    add: (step) => void steps.push(step),
    async run() {
      for (const step of steps.splice(0).reverse()) await guarded(step);
    },
    async runTogether() {
      await Promise.all(steps.splice(0).reverse().map(guarded));
    },
  };
}
