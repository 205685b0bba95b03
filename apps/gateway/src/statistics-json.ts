/**
 * Triton's `$model_stat` object (protocols.md §D.3), the same for the REST body and the gRPC
 * ModelStatistics message (proto-loader takes these snake_case keys as they are, and a JS number for
 * a uint64). Counts and nanoseconds are JSON numbers, as Triton writes them; they are exact up to
 * 2^53 (about 104 days of cumulated time in nanoseconds).
 *
 * `response_stats` (decoupled models) and `memory_usage` are always empty: Sibyl has neither.
 */
import type { InferenceService, ModelStatistics, StatisticDuration } from '@sibyl/protocol';
import { statisticsUnsupported } from './errors.js';

const duration = (d: StatisticDuration) => ({ count: d.count, ns: d.ns });

export function modelStatisticsJson(s: ModelStatistics) {
  const i = s.inferenceStats;
  return {
    name: s.name,
    version: s.version,
    last_inference: s.lastInference,
    inference_count: s.inferenceCount,
    execution_count: s.executionCount,
    inference_stats: {
      success: duration(i.success),
      fail: duration(i.fail),
      queue: duration(i.queue),
      compute_input: duration(i.computeInput),
      compute_infer: duration(i.computeInfer),
      compute_output: duration(i.computeOutput),
      cache_hit: duration(i.cacheHit),
      cache_miss: duration(i.cacheMiss),
    },
    response_stats: {},
    batch_stats: s.batchStats.map((b) => ({
      batch_size: b.batchSize,
      compute_input: duration(b.computeInput),
      compute_infer: duration(b.computeInfer),
      compute_output: duration(b.computeOutput),
    })),
    memory_usage: [],
  };
}

/** `{"model_stats": [...]}` from the service, or SIBYL_GATEWAY_STATISTICS_UNSUPPORTED when it keeps none. */
export async function modelStatisticsResponse(service: InferenceService, name: string | undefined, version: string | undefined) {
  if (service.modelStatistics === undefined) throw statisticsUnsupported();
  const stats = await service.modelStatistics(name, version);
  return { model_stats: stats.map(modelStatisticsJson) };
}
