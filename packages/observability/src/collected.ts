/**
 * Metrics whose value lives elsewhere (a plain counter in a hot path, a connection's state): read
 * when Prometheus scrapes, so the code that owns the number never calls into prom-client.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export interface CollectedMetric {
  name: string;
  help: string;
  /** Label names, when `read` returns one value per label set. */
  labelNames?: readonly string[];
  /** The value now; or one value per label set. */
  read: () => number | ReadonlyArray<{ labels: Record<string, string>; value: number }>;
}

function fill(metric: Gauge | Counter, read: CollectedMetric['read']): void {
  const value = read();
  metric.reset();
  if (typeof value === 'number') {
    if (metric instanceof Gauge) metric.set(value);
    else metric.inc(value);
    return;
  }
  for (const { labels, value: v } of value) {
    if (metric instanceof Gauge) metric.set(labels, v);
    else metric.inc(labels, v);
  }
}

/** A gauge read at scrape time (`sibyl_coordination_up`, `sibyl_route_cache_entries`). */
export function addCollectedGauge(registry: Registry, spec: CollectedMetric): void {
  new Gauge({
    name: spec.name,
    help: spec.help,
    labelNames: [...(spec.labelNames ?? [])],
    registers: [registry],
    collect() {
      fill(this, spec.read);
    },
  });
}

/** A counter whose running total is kept elsewhere as a plain number, read at scrape time. */
export function addCollectedCounter(registry: Registry, spec: CollectedMetric): void {
  new Counter({
    name: spec.name,
    help: spec.help,
    labelNames: [...(spec.labelNames ?? [])],
    registers: [registry],
    collect() {
      fill(this, spec.read);
    },
  });
}
