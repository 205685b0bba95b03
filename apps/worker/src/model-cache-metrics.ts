/**
 * The model cache's series on the worker's metrics registry: gauges and counters read from the
 * cache's accounting at scrape time, and the load duration histogram, observed once per load.
 */
import { addCollectedCounter, addCollectedGauge, addHistogram, type PlainHistogram, type SibylMetrics } from '@sibyl/observability';
import type { ModelCacheStats } from '@sibyl/runtime';

type Registry = SibylMetrics['registry'];

/** The cache's histograms: observed once per load, and once per request that waited for a load. */
export interface ModelCacheHistograms {
  loadDuration: PlainHistogram;
  missWait: PlainHistogram;
}

/** Registers the cache's series; `stats` is read at each scrape. */
export function exportModelCacheMetrics(registry: Registry, stats: () => ModelCacheStats): ModelCacheHistograms {
  addCollectedGauge(registry, { name: 'sibyl_model_cache_bytes', help: 'Memory charged to the models in the model cache, bytes', read: () => stats().usedBytes });
  addCollectedGauge(registry, {
    name: 'sibyl_model_cache_peak_bytes',
    help: 'The most memory the model cache has charged since the worker started, bytes (at most the budget plus the model loading then)',
    read: () => stats().peakBytes,
  });
  addCollectedGauge(registry, {
    name: 'sibyl_model_cache_peak_load_bytes',
    help: 'The charge of the model whose load set sibyl_model_cache_peak_bytes, bytes: the peak is at most the budget plus it',
    read: () => stats().peakLoadBytes,
  });
  addCollectedGauge(registry, { name: 'sibyl_model_cache_budget_bytes', help: 'The model cache budget (--model-cache-bytes), bytes', read: () => stats().budgetBytes });
  addCollectedGauge(registry, { name: 'sibyl_model_cache_models', help: 'Models in the model cache (loaded, or being evicted)', read: () => stats().models });
  addCollectedCounter(registry, { name: 'sibyl_model_cache_hits_total', help: 'Inference requests whose model was in the model cache', read: () => stats().hits });
  addCollectedCounter(registry, { name: 'sibyl_model_cache_misses_total', help: 'Inference requests whose model was not in the model cache (they waited for a load)', read: () => stats().misses });
  addCollectedCounter(registry, { name: 'sibyl_model_cache_evictions_total', help: 'Models evicted from the model cache to make room', read: () => stats().evictions });
  const buckets = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
  return {
    loadDuration: addHistogram(registry, {
      name: 'sibyl_model_load_duration_seconds',
      help: 'Time a model load took on this worker (file fetch, sessions, warm-up), seconds',
      buckets,
    }),
    missWait: addHistogram(registry, {
      name: 'sibyl_model_cache_miss_wait_seconds',
      help: 'Time a request for a model that was not loaded waited for it (its load, or the loads queued before it), seconds',
      buckets: [0.005, ...buckets],
    }),
  };
}
