/**
 * One execution instance of a model version: a session that runs one request at a time.
 *
 * Two implementations: inline (the session lives on the main thread; cheapest for tiny models, but
 * its compute blocks the event loop, because onnxruntime-node runs `session.run` on the calling
 * thread) and thread (a worker_threads Worker with its own session; the event loop stays free).
 * The instance pool hands an inline instance one request at a time, and a thread instance the one it
 * computes plus the next (instance-pool.ts): a run posted behind another still honours its deadline
 * and its client's cancel, checked by the thread just before the run starts (RunControl).
 */
import type { RunResult, SessionInfo, WireTensor } from './wire.js';

/** What may still stop a run that waits in a thread's own queue. */
export interface RunControl {
  /** Absolute deadline, Date.now() milliseconds: a run not started by then is skipped. */
  deadlineMs?: number;
  /** Aborted: the run is skipped if it has not started. */
  signal?: AbortSignal;
}

/** Why a thread skipped a run without starting it. */
export type SkipReason = 'deadline' | 'cancelled';

/** The rejection of a run its thread skipped (RunControl): the model never saw the request. */
export class RunSkipped extends Error {
  constructor(
    readonly reason: SkipReason,
    /** For `deadline`: how far past the deadline the thread was when it came to the run, milliseconds. */
    readonly lateMs: number,
  ) {
    super(reason === 'deadline' ? `the deadline passed ${lateMs} ms before the run could start` : 'the request was cancelled before the run started');
    this.name = 'RunSkipped';
  }
}

export type ExecutionKind = 'inline' | 'thread';

export interface ExecutionInstance {
  readonly kind: ExecutionKind;
  /** What the model file declares, read from this instance's session. */
  readonly info: SessionInfo;
  /**
   * Runs the model once. Rejects with a plain Error carrying onnxruntime's message (the caller wraps
   * it with the model's name), or with RunSkipped when a thread skipped it under `control`. Thread
   * instances take ownership of the feeds' ArrayBuffers. Inline instances ignore `control`: they
   * start at once, after the pool has checked it.
   */
  run(feeds: readonly WireTensor[], fetches: readonly string[], control?: RunControl): Promise<RunResult>;
  /** Releases the session (and ends the thread); pending runs are rejected. Idempotent. */
  close(): Promise<void>;
}

/** Told once when an instance stops on its own (its worker exited or threw), with why. */
export type InstanceFailureListener = (instance: ExecutionInstance, reason: string) => void;
