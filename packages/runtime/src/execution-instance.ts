/**
 * One execution instance of a model version: a session that runs one request at a time.
 *
 * Two implementations: inline (the session lives on the main thread; cheapest for tiny models, but
 * its compute blocks the event loop, because onnxruntime-node runs `session.run` on the calling
 * thread) and thread (a worker_threads Worker with its own session; the event loop stays free).
 * The instance pool hands each instance one request at a time.
 */
import type { RunResult, SessionInfo, WireTensor } from './wire.js';

export type ExecutionKind = 'inline' | 'thread';

export interface ExecutionInstance {
  readonly kind: ExecutionKind;
  /** What the model file declares, read from this instance's session. */
  readonly info: SessionInfo;
  /**
   * Runs the model once. Rejects with a plain Error carrying onnxruntime's message (the caller wraps
   * it with the model's name). Thread instances take ownership of the feeds' ArrayBuffers.
   */
  run(feeds: readonly WireTensor[], fetches: readonly string[]): Promise<RunResult>;
  /** Releases the session (and ends the thread); pending runs are rejected. Idempotent. */
  close(): Promise<void>;
}

/** Told once when an instance stops on its own (its worker exited or threw), with why. */
export type InstanceFailureListener = (instance: ExecutionInstance, reason: string) => void;
