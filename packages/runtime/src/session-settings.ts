/**
 * onnxruntime session options per execution instance.
 *
 * These machines have 2 cores. A thread instance gets 1 intra-op thread: parallelism comes from
 * instance_group.count (one request per instance), and more intra-op threads per instance would
 * oversubscribe the cores. An inline instance also gets 1: it runs only models too small to gain
 * from a thread pool (execution-mode.ts), and its pool threads would spin beside the event loop.
 * Config parameters `intra_op_thread_count` and `inter_op_thread_count` (Triton's onnxruntime backend
 * names) override both. Graph optimisation is always `all`; operators run sequentially.
 */
import type { ExecutionKind } from './execution-instance.js';
import type { SessionSettings } from './wire.js';

export interface SessionThreads {
  /** onnxruntime intra-op threads per session; default 1. */
  intraOpThreadCount?: number;
  /** onnxruntime inter-op threads per session (used only with parallel execution); default 1. */
  interOpThreadCount?: number;
}

export function defaultSessionSettings(_kind: ExecutionKind, threads: SessionThreads = {}): SessionSettings {
  return {
    intraOpNumThreads: threads.intraOpThreadCount ?? 1,
    interOpNumThreads: threads.interOpThreadCount ?? 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    // Warnings (unused initializers, ...) are noise on every load; errors still reach stderr.
    logSeverityLevel: 3,
  };
}
