/**
 * The routed data plane's counters (plain numbers in the hot path) as Prometheus metrics, read at
 * scrape time. The models' own nv_inference_* metrics are counted where they run (the workers).
 */
import { addCollectedCounter, addCollectedGauge, type SibylMetrics } from '@sibyl/observability';
import type { RoutedInferenceService, ShadowResult } from '@sibyl/routing';
import { Counter, Histogram } from 'prom-client';

/**
 * Records each shadow call's answer (then discarded): outcome and latency per model and shadow
 * version, to compare a shadow version with the live one before releasing it.
 */
export function shadowRecorder(metrics: SibylMetrics): (result: ShadowResult) => void {
  const calls = new Counter({
    name: 'sibyl_shadow_requests_total',
    help: 'Shadow copies by model, shadow version and outcome (success, failure); their answers are discarded',
    labelNames: ['model', 'version', 'outcome'],
    registers: [metrics.registry],
  });
  const latency = new Histogram({
    name: 'sibyl_shadow_request_duration_seconds',
    help: 'Shadow calls from dispatch to answer, by model and shadow version',
    labelNames: ['model', 'version'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [metrics.registry],
  });
  return (result) => {
    const version = String(result.version);
    calls.inc({ model: result.model, version, outcome: result.ok ? 'success' : 'failure' });
    latency.observe({ model: result.model, version }, result.latencyMs / 1000);
  };
}

/** `serving()`: false once the process drains (`sibyl_gateway_up`). */
export function exportRoutedMetrics(metrics: SibylMetrics, service: RoutedInferenceService, serving: () => boolean): void {
  const { registry } = metrics;
  addCollectedCounter(registry, {
    name: 'sibyl_gateway_forwarded_total',
    help: 'Calls the gateway sent to a backend instance (infer, model metadata and readiness), retries included',
    read: () => service.stats().forwarded,
  });
  addCollectedCounter(registry, {
    name: 'sibyl_gateway_retried_total',
    help: 'Calls retried once on another instance because the first one never received them',
    read: () => service.stats().retried,
  });
  addCollectedCounter(registry, {
    name: 'sibyl_gateway_passed_through_total',
    help: 'REST inference requests sent on to a Sibyl worker undecoded, and answered undecoded (also in sibyl_gateway_forwarded_total)',
    read: () => service.stats().passedThrough,
  });
  addCollectedCounter(registry, {
    name: 'sibyl_gateway_no_instance_total',
    help: 'Calls refused because the pool of their route had no live instance (SIBYL_POOL_NO_INSTANCE)',
    read: () => service.stats().noInstance,
  });
  addCollectedCounter(registry, {
    name: 'sibyl_route_cache_lookups_total',
    help: 'Route lookups by outcome: hit (cached), miss (asked the router), stale (router down: a stale route served)',
    labelNames: ['outcome'],
    read: () => {
      const { hits, misses, staleServes } = service.stats().cache;
      return [
        { labels: { outcome: 'hit' }, value: hits },
        { labels: { outcome: 'miss' }, value: misses },
        { labels: { outcome: 'stale' }, value: staleServes },
      ];
    },
  });
  addCollectedCounter(registry, {
    name: 'sibyl_route_cache_invalidations_total',
    help: 'Invalidations received from the router (registry or placement changes)',
    read: () => service.stats().cache.invalidations,
  });
  addCollectedCounter(registry, {
    name: 'sibyl_shadow_dropped_total',
    help: 'Shadow copies not sent because too many were in flight (--shadow-max-inflight)',
    read: () => service.stats().shadow.dropped,
  });
  addCollectedGauge(registry, {
    name: 'sibyl_gateway_up',
    help: '1 while the gateway serves (0 once it drains)',
    read: () => (serving() ? 1 : 0),
  });
}
