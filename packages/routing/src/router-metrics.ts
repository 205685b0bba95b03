/**
 * The router's Prometheus series, registered on the process's metrics registry. Resolutions are not
 * on the request path (the gateway caches routes), so prom-client's own counter and histogram do.
 */
import type { SibylMetrics } from '@sibyl/observability';
import { Counter, Histogram } from 'prom-client';

/** `model`: resolveModel; `version`: resolveVersion. */
export type ResolutionKind = 'model' | 'version';
/** `ok`: fresh; `stale`: served from cache while the registry was unreachable; `error`: failed. */
export type ResolutionOutcome = 'ok' | 'stale' | 'error';

export interface RouterMetrics {
  resolved(kind: ResolutionKind, outcome: ResolutionOutcome, seconds: number): void;
}

const RESOLUTIONS = 'sibyl_route_resolutions_total';
const DURATION = 'sibyl_route_resolution_duration_seconds';

export function createRouterMetrics(metrics: SibylMetrics): RouterMetrics {
  const registry = metrics.registry;
  // Two routers in one process (tests, or a reopened router) share the series.
  const counter =
    (registry.getSingleMetric(RESOLUTIONS) as Counter<'kind' | 'outcome'> | undefined) ??
    new Counter({
      name: RESOLUTIONS,
      help: 'Routes resolved by the router, by kind (model, version) and outcome (ok, stale, error)',
      labelNames: ['kind', 'outcome'] as const,
      registers: [registry],
    });
  const histogram =
    (registry.getSingleMetric(DURATION) as Histogram<'kind'> | undefined) ??
    new Histogram({
      name: DURATION,
      help: 'Time the router took to resolve a route, seconds',
      labelNames: ['kind'] as const,
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    });
  return {
    resolved(kind, outcome, seconds) {
      counter.inc({ kind, outcome });
      histogram.observe({ kind }, seconds);
    },
  };
}
