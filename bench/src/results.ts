/** The shape of bench/results/<name>.json, and the pass/fail verdicts computed from it. */
import type { BenchConfig, TargetName } from './config.js';
import type { LoadResult } from './load-spec.js';
import type { MachineInfo } from './machine.js';
import type { BatchingSection, ChurnSection, TfSection } from './sections.js';

export type IrisTarget = Exclude<TargetName, 'large' | 'batching' | 'tf' | 'churn'>;

/** The targets of the iris table, in its order. */
export const isIrisTarget = (t: TargetName): t is IrisTarget => t !== 'large' && t !== 'batching' && t !== 'tf' && t !== 'churn';

export const TARGET_LABEL: Readonly<Record<TargetName, string>> = Object.freeze({
  'session-run': '(a) in-process session.run',
  baseline: '(b) fastify + ort one-model service',
  'sibyl-json': '(c) Sibyl REST JSON',
  'sibyl-binary': '(d) Sibyl REST binary',
  'sibyl-grpc': '(e) Sibyl gRPC',
  'split-json': '(f) Sibyl split, REST JSON',
  'split-binary': '(g) Sibyl split, REST binary',
  'proxy-json': '(h) node:http proxy in front of (b), REST JSON',
  large: '16 MiB round trip',
  batching: 'dynamic batching (MLP, c=64)',
  tf: 'TensorFlow.js worker and runtime vs raw predict (c=16)',
  churn: 'cache churn (200 models, budget for 20, Zipf)',
});

export interface IrisCell {
  target: IrisTarget;
  concurrency: number;
  /** Every round's result; `result` is the median round by req/s. */
  rounds: LoadResult[];
  result: LoadResult | null;
  /** Why the cell has no result, or why it is not to be trusted (errors during the run). */
  error?: string;
  skipped?: string;
}

export type LargeTarget = 'session-run' | 'echo' | 'baseline-binary' | 'sibyl-binary' | 'sibyl-grpc';

export const LARGE_LABEL: Readonly<Record<LargeTarget, string>> = Object.freeze({
  'session-run': 'in-process session.run (compute floor)',
  echo: 'node:http echo, no model (transport floor)',
  'baseline-binary': 'fastify + ort one-model service, REST binary',
  'sibyl-binary': 'Sibyl REST binary extension',
  'sibyl-grpc': 'Sibyl gRPC raw contents',
});

export interface LargeCell {
  target: LargeTarget;
  result: LoadResult | null;
  error?: string;
  skipped?: string;
}

export interface WrkCell {
  target: 'baseline' | 'sibyl-json';
  connections: number;
  threads: number;
  requestsPerSecond: number;
  p50Us: number | null;
  p99Us: number | null;
  non2xx: number;
  socketErrors: number;
  error?: string;
}

export interface Verdict {
  id: string;
  description: string;
  /** Measured value in `unit`; null when a figure it needs is missing. */
  value: number | null;
  unit: 'x' | 'us' | 'ms' | 'bytes';
  /** null: a figure the issue asks to report, with no target. */
  comparison: '>=' | '<=' | '<' | null;
  threshold: number | null;
  /** null: not measured (a target skipped or failed), or reported only (no threshold). */
  pass: boolean | null;
  detail: string;
}

export interface BenchResults {
  name: string;
  machine: MachineInfo;
  config: BenchConfig;
  /** The Node.js flags every Sibyl process ran with (those of `npm start`); absent in results older than the field. */
  serverNodeFlags?: string[];
  models: Record<'iris' | 'identity', { source: 'examples' | 'built'; inputs: string[]; outputs: string[] }>;
  servers: Record<string, { pid: number; ports: Record<string, number>; startMs: number; warning?: string } | { skipped: string } | { error: string }>;
  /** What the split rows ran, or why they did not run. */
  split?: { ran: string } | { skipped: string } | { error: string };
  iris: IrisCell[];
  large: LargeCell[];
  wrk: WrkCell[];
  /** The dynamic batching section, when asked for (ran, skipped or failed). */
  batching?: BatchingSection;
  /** The TensorFlow.js section, when asked for. */
  tf?: TfSection;
  /** The TF section on the bench's TF.js MLP (tf_mlp), where the worker target is measured. */
  tfMlp?: TfSection;
  /** The cache churn section, when asked for. */
  churn?: ChurnSection;
  verdicts: Verdict[];
  /** Load averages (1, 5, 15 min) when the run ended; compare with machine.loadAverage at the start. */
  loadAverageEnd: number[];
  totalSeconds: number;
}

/** The issue's budget for the split topology's extra hop (gateway → worker), REST JSON p50 at concurrency 1, us. */
export const SPLIT_HOP_BUDGET_US = 250;

const cell = (cells: readonly IrisCell[], target: IrisTarget, concurrency: number) =>
  cells.find((c) => c.target === target && c.concurrency === concurrency && c.error === undefined)?.result ?? null;

/** The issue's targets, from the measured cells. */
export function verdicts(iris: readonly IrisCell[], large: readonly LargeCell[], concurrency: readonly number[]): Verdict[] {
  const out: Verdict[] = [];
  for (const c of concurrency) {
    const json = cell(iris, 'sibyl-json', c);
    const base = cell(iris, 'baseline', c);
    const ratio = json !== null && base !== null && base.requestsPerSecond > 0 ? json.requestsPerSecond / base.requestsPerSecond : null;
    out.push({
      id: `rest-json-throughput-c${c}`,
      description: `REST JSON throughput vs one-model service, c=${c}`,
      value: ratio === null ? null : Math.round(ratio * 1000) / 1000,
      unit: 'x',
      comparison: '>=',
      threshold: 0.9,
      pass: ratio === null ? null : ratio >= 0.9,
      detail:
        json !== null && base !== null
          ? `${Math.round(json.requestsPerSecond)} vs ${Math.round(base.requestsPerSecond)} req/s` +
            (json.cpu?.serverUsPerRequest != null && base.cpu?.serverUsPerRequest != null
              ? `; server CPU ${json.cpu.serverUsPerRequest} vs ${base.cpu.serverUsPerRequest} us/req`
              : '')
          : 'not measured',
    });
  }
  if (concurrency.includes(1)) {
    const json = cell(iris, 'sibyl-json', 1);
    const floor = cell(iris, 'session-run', 1);
    const added = json !== null && floor !== null ? Math.round((json.latency.p50Us - floor.latency.p50Us) * 10) / 10 : null;
    out.push({
      id: 'rest-json-added-p50-c1',
      description: 'p50 added over in-process session.run, c=1 (REST JSON p50 - session.run p50)',
      value: added,
      unit: 'us',
      comparison: '<=',
      threshold: 150,
      pass: added === null ? null : added <= 150,
      detail: json !== null && floor !== null ? `${json.latency.p50Us} - ${floor.latency.p50Us} us` : 'not measured',
    });
  }
  const rest = large.find((l) => l.target === 'sibyl-binary');
  const r = rest?.error === undefined ? (rest?.result ?? null) : null;
  const exact = r !== null && r.errors === 0 && r.checked > 0 && r.checkedOk === r.checked;
  const p50Ms = r === null ? null : Math.round(r.latency.p50Us / 10) / 100;
  out.push({
    id: 'large-rest-binary-p50',
    description: '16 MiB FP32 REST binary round trip, p50, bytes returned equal bytes sent',
    value: p50Ms,
    unit: 'ms',
    comparison: '<',
    threshold: 30,
    pass: r === null ? null : exact && p50Ms! < 30,
    detail: r === null ? (rest?.error ?? rest?.skipped ?? 'not measured') : `p99 ${Math.round(r.latency.p99Us / 10) / 100} ms; ${r.checkedOk}/${r.checked} responses byte-exact`,
  });
  out.push(...splitVerdicts(iris, concurrency));
  return out;
}

const round1 = (x: number) => Math.round(x * 10) / 10;

/** `60.2 (gateway 35.1 + worker 25.1)` from a split row's CPU; the workers after the gateway. */
export function splitCpuText(r: LoadResult, front = 'gateway', back = 'worker'): string | null {
  const total = r.cpu?.serverUsPerRequest;
  if (total == null) return null;
  const each = r.cpu?.serverUsPerRequestEach;
  if (each === undefined || each.some((x) => x === null)) return `${total}`;
  const parts = each.map((x, i) => `${i === 0 ? front : each.length > 2 ? `${back} ${i}` : back} ${x}`);
  return `${total} (${parts.join(' + ')})`;
}

function addedP50(cells: readonly IrisCell[], target: IrisTarget, floor: IrisTarget): number | null {
  const a = cell(cells, target, 1);
  const b = cell(cells, floor, 1);
  return a !== null && b !== null ? round1(a.latency.p50Us - b.latency.p50Us) : null;
}

function why(cells: readonly IrisCell[], target: IrisTarget, concurrency: number): string {
  const c = cells.find((x) => x.target === target && x.concurrency === concurrency);
  return `${TARGET_LABEL[target]}: ${(c?.skipped ?? c?.error ?? 'not run').split('\n')[0]}`;
}

/**
 * The split topology against the all-in-one, same request, same generator: p50 added by the extra hop
 * at concurrency 1 (REST JSON has the issue's budget; REST binary is reported), and the throughput
 * ratio at the highest concurrency (reported). None when no split row was asked for.
 */
export function splitVerdicts(iris: readonly IrisCell[], concurrency: readonly number[]): Verdict[] {
  const out: Verdict[] = [];
  if (!iris.some((c) => c.target === 'split-json' || c.target === 'split-binary' || c.target === 'proxy-json')) return out;
  const hop = concurrency.includes(1) ? addedP50(iris, 'proxy-json', 'baseline') : null;
  const pairs = [
    { split: 'split-json', aio: 'sibyl-json', what: 'REST JSON', id: 'json', budget: true },
    { split: 'split-binary', aio: 'sibyl-binary', what: 'REST binary', id: 'binary', budget: false },
  ] as const;
  if (concurrency.includes(1)) {
    for (const p of pairs) {
      if (!iris.some((c) => c.target === p.split)) continue;
      const split = cell(iris, p.split, 1);
      const aio = cell(iris, p.aio, 1);
      const added = split !== null && aio !== null ? round1(split.latency.p50Us - aio.latency.p50Us) : null;
      const cpu = split !== null && aio !== null ? splitCpuText(split) : null;
      out.push({
        id: `split-rest-${p.id}-added-p50-c1`,
        description: `p50 added per hop by the split topology, ${p.what}, c=1 (split p50 - all-in-one p50)`,
        value: added,
        unit: 'us',
        comparison: p.budget ? '<=' : null,
        threshold: p.budget ? SPLIT_HOP_BUDGET_US : null,
        pass: added === null || !p.budget ? null : added <= SPLIT_HOP_BUDGET_US,
        detail:
          split !== null && aio !== null
            ? `${split.latency.p50Us} - ${aio.latency.p50Us} us; p99 ${split.latency.p99Us} vs ${aio.latency.p99Us} us` +
              (cpu !== null && aio.cpu?.serverUsPerRequest != null ? `; server CPU ${cpu} vs ${aio.cpu.serverUsPerRequest} us/req` : '') +
              (hop !== null ? `; a bare node:http hop adds ${hop} us (h)` : '')
            : split === null
              ? why(iris, p.split, 1)
              : why(iris, p.aio, 1),
      });
    }
  }
  if (concurrency.includes(1) && iris.some((c) => c.target === 'proxy-json')) {
    const proxy = cell(iris, 'proxy-json', 1);
    const base = cell(iris, 'baseline', 1);
    const cpu = proxy !== null ? splitCpuText(proxy, 'proxy', 'service') : null;
    out.push({
      id: 'proxy-hop-added-p50-c1',
      description: 'p50 added by a bare node:http proxy hop, c=1 ((h) p50 - one-model service p50): the floor of the split hop',
      value: hop,
      unit: 'us',
      comparison: null,
      threshold: null,
      pass: null,
      detail:
        proxy !== null && base !== null
          ? `${proxy.latency.p50Us} - ${base.latency.p50Us} us` + (cpu !== null && base.cpu?.serverUsPerRequest != null ? `; server CPU ${cpu} vs ${base.cpu.serverUsPerRequest} us/req` : '')
          : proxy === null
            ? why(iris, 'proxy-json', 1)
            : why(iris, 'baseline', 1),
    });
  }
  const top = Math.max(...concurrency);
  if (top > 1 && iris.some((c) => c.target === 'split-json')) {
    const split = cell(iris, 'split-json', top);
    const aio = cell(iris, 'sibyl-json', top);
    const ratio = split !== null && aio !== null && aio.requestsPerSecond > 0 ? Math.round((split.requestsPerSecond / aio.requestsPerSecond) * 1000) / 1000 : null;
    const cpu = split !== null ? splitCpuText(split) : null;
    out.push({
      id: `split-rest-json-throughput-c${top}`,
      description: `REST JSON throughput, split vs all-in-one, c=${top}`,
      value: ratio,
      unit: 'x',
      comparison: null,
      threshold: null,
      pass: null,
      detail:
        split !== null && aio !== null
          ? `${Math.round(split.requestsPerSecond)} vs ${Math.round(aio.requestsPerSecond)} req/s` +
            (cpu !== null && aio.cpu?.serverUsPerRequest != null ? `; server CPU ${cpu} vs ${aio.cpu.serverUsPerRequest} us/req` : '')
          : split === null
            ? why(iris, 'split-json', top)
            : why(iris, 'sibyl-json', top),
    });
  }
  return out;
}
