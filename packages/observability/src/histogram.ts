/**
 * A histogram without labels, observed off the hot path (a model load, a resolution): prom-client's
 * own, behind a one-method interface so that the code observing it never imports prom-client.
 */
import { Histogram, type Registry } from 'prom-client';

export interface PlainHistogram {
  /** Adds one observation, in the histogram's unit. */
  observe(value: number): void;
}

export interface PlainHistogramSpec {
  name: string;
  help: string;
  /** Upper bounds, ascending; +Inf is added. */
  buckets: readonly number[];
}

export function addHistogram(registry: Registry, spec: PlainHistogramSpec): PlainHistogram {
  const histogram = new Histogram({ name: spec.name, help: spec.help, buckets: [...spec.buckets], registers: [registry] });
  return { observe: (value) => histogram.observe(value) };
}
