/**
 * Where a model version runs when its config says `execution_mode: auto` (the default).
 *
 * The rule: at load, the model runs on a worker thread with zero-filled inputs (the batch dimension
 * at max_batch_size, the largest request it will see; other variable dims at 1): WARMUP_DISCARD runs
 * that pay first-use costs, then up to WARMUP_MEASURED runs, stopping once WARMUP_BUDGET_MS is spent
 * (a heavy model is plainly heavy after one run). If the typical session.run time exceeds the
 * threshold (DEFAULT_THREAD_THRESHOLD_US, option `autoThreadThresholdUs`), the model stays on
 * threads, otherwise it moves inline. Typical is the median, not the mean: on 2 shared cores a run
 * is now and then descheduled for far longer than it computes, and one such run must not decide.
 * A fresh worker still overstates tiny models (an Identity that runs in 7 µs warm measures 25-200 µs
 * per run, median ~50 µs), which errs towards threads, the side that never blocks the event loop.
 * A model whose warm-up fails (zeros are not valid input for it) stays on threads for that reason.
 *
 * The line was measured with scripts/measure-thread-line.ts: MatMul [n,n]x[n,n], one instance,
 * requests back to back; Node 20.20, onnxruntime-node 1.30, 2 cores shared with other jobs (load
 * average ~3), so figures vary ±30% between runs; microseconds, ranges over three runs:
 *
 * ```
 *     n | compute  | latency inline | latency thread | loop p99 inline | loop p99 thread
 *     8 |        7 |              8 |          35-64 |           16-33 |             1-9
 *    64 |       11 |          13-17 |          37-66 |           24-42 |            1-21
 *   128 |    27-43 |          31-58 |         80-130 |          80-212 |            2-40
 *   192 |    78-110|         90-157 |        150-315 |         270-571 |             1-3
 *   256 |   162-189|        179-303 |        217-532 |         545-871 |             1-2
 *   384 |   505-815|        557-877 |       647-1583 |      1339-6363 |             1-2
 *   512 | 1150-2670|      1471-2020 |      1376-6182 |     2120-12870 |               1
 * ```
 *
 * The hop to a thread costs ~25-70 µs per request (postMessage both ways, buffers transferred) and
 * caps one instance of a tiny model at ~15-28k req/s against ~55-130k inline; on a thread the event
 * loop never waits more than a few µs. Inline, every request holds the loop for its whole compute,
 * so every other request of the process (HTTP parsing, other models) waits behind it: past ~200 µs
 * that is twice a loopback HTTP round trip (~100 µs, DESIGN.md §6), while the hop has shrunk to a
 * quarter of the request or less. Hence 200 µs.
 */
import type { TensorMetadata } from '@sibyl/protocol';
import { ORT_TYPE, TYPED_ARRAY } from './datatype-mapping.js';
import type { ExecutionInstance, ExecutionKind } from './execution-instance.js';
import type { ExecutionModeSetting } from './model-config.js';
import type { WireTensor } from './wire.js';

/** Typical warm-up run time above which `auto` keeps a model on worker threads, microseconds. */
export const DEFAULT_THREAD_THRESHOLD_US = 200;
/** Warm-up runs not measured: the first runs of a fresh session pay one-time allocations and JIT. */
export const WARMUP_DISCARD = 5;
/** Measured warm-up runs, at most. */
export const WARMUP_MEASURED = 15;
/** Warm-up stops once it has spent this long, milliseconds. */
export const WARMUP_BUDGET_MS = 200;

/** Zero-filled inputs for a warm-up run (fresh arrays each call: a thread instance takes them). */
export function warmupFeeds(inputs: readonly TensorMetadata[], maxBatchSize: number): WireTensor[] {
  return inputs.map((input) => {
    const dims = input.shape.map((d, i) => (d >= 0 ? d : i === 0 && maxBatchSize > 0 ? maxBatchSize : 1));
    const count = dims.reduce((n, d) => n * d, 1);
    const type = ORT_TYPE[input.datatype];
    if (type === undefined) throw new TypeError(`datatype ${input.datatype} has no onnxruntime-node type`);
    const data = type === 'string' ? new Array<string>(count).fill('') : new TYPED_ARRAY[type](count);
    return { name: input.name, type, dims, data };
  });
}

/** The median session.run time of the measured warm-up runs (see the rule above), microseconds. */
export async function measureRunUs(
  instance: ExecutionInstance,
  inputs: readonly TensorMetadata[],
  outputs: readonly string[],
  maxBatchSize: number,
): Promise<number> {
  const started = performance.now();
  const measured: number[] = [];
  let last = 0;
  for (let i = 0; i < WARMUP_DISCARD + WARMUP_MEASURED; i++) {
    last = (await instance.run(warmupFeeds(inputs, maxBatchSize), outputs)).computeUs;
    if (i >= WARMUP_DISCARD) measured.push(last);
    if (performance.now() - started > WARMUP_BUDGET_MS) break;
  }
  // A model past the budget before any measured run is heavy: its last run tells enough.
  if (measured.length === 0) return last;
  measured.sort((a, b) => a - b);
  const mid = measured.length >> 1;
  return measured.length % 2 === 1 ? measured[mid]! : (measured[mid - 1]! + measured[mid]!) / 2;
}

/** The mode for a measured model: inline only when its runs are short enough to hold the loop. */
export function chooseExecution(setting: ExecutionModeSetting, typicalRunUs: number | undefined, thresholdUs: number): ExecutionKind {
  if (setting !== 'auto') return setting;
  return typicalRunUs !== undefined && typicalRunUs <= thresholdUs ? 'inline' : 'thread';
}
