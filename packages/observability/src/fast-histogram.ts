/**
 * A Prometheus histogram for the hot path: observe() adds to a Float64Array, and the registry reads
 * the buckets at scrape time through prom-client's metric interface (get()).
 *
 * prom-client's own Histogram validates and hashes the label set on every observe(), even through a
 * cached child: on the REST edge that was ~2 us of a ~20 us request. This one is keyed by a fixed
 * label value chosen when the series is created.
 */
import type { Registry } from 'prom-client';

export interface FastHistogramSeries {
  /** Adds one observation, in the histogram's unit. */
  observe(value: number): void;
}

export interface FastHistogram {
  /** The series for one value of the histogram's single label; created on first use. */
  series(labelValue: string): FastHistogramSeries;
}

export interface FastHistogramOptions {
  name: string;
  help: string;
  /** The one label that tells series apart, e.g. `protocol`. */
  labelName: string;
  /** Upper bounds, ascending; +Inf is added. */
  buckets: readonly number[];
  registry: Registry;
}

interface SeriesState {
  readonly label: string;
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

export function createFastHistogram(options: FastHistogramOptions): FastHistogram {
  const buckets = [...options.buckets];
  for (let i = 1; i < buckets.length; i++) {
    if (!(buckets[i]! > buckets[i - 1]!)) throw new RangeError(`${options.name}: buckets must be ascending`);
  }
  const all = new Map<string, SeriesState>();

  const metric = {
    name: options.name,
    help: options.help,
    type: 'histogram' as const,
    aggregator: 'sum' as const,
    collect: () => undefined,
    async get() {
      const values: Array<{ value: number; labels: Record<string, string | number>; metricName: string }> = [];
      for (const s of all.values()) {
        let cumulative = 0;
        for (let i = 0; i < buckets.length; i++) {
          cumulative += s.counts[i]!;
          values.push({ value: cumulative, labels: { le: buckets[i]!, [options.labelName]: s.label }, metricName: `${options.name}_bucket` });
        }
        values.push({ value: s.count, labels: { le: '+Inf', [options.labelName]: s.label }, metricName: `${options.name}_bucket` });
        values.push({ value: s.sum, labels: { [options.labelName]: s.label }, metricName: `${options.name}_sum` });
        values.push({ value: s.count, labels: { [options.labelName]: s.label }, metricName: `${options.name}_count` });
      }
      return { name: options.name, help: options.help, type: 'histogram' as const, aggregator: 'sum' as const, values };
    },
  };
  options.registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);

  return {
    series(label) {
      let s = all.get(label);
      if (s === undefined) {
        s = { label, counts: new Float64Array(buckets.length), sum: 0, count: 0 };
        all.set(label, s);
      }
      const state = s;
      return {
        observe(value) {
          state.sum += value;
          state.count += 1;
          // Few buckets: a linear scan beats a binary search.
          for (let i = 0; i < buckets.length; i++) {
            if (value <= buckets[i]!) {
              state.counts[i]! += 1;
              return;
            }
          }
        },
      };
    },
  };
}
