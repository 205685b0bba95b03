/** The shape of bench/results/<name>.json, and the pass/fail verdicts computed from it. */
import type { BenchConfig, TargetName } from './config.js';
import type { LoadResult } from './load-spec.js';
import type { MachineInfo } from './machine.js';

export type IrisTarget = Exclude<TargetName, 'large'>;

export const TARGET_LABEL: Readonly<Record<TargetName, string>> = Object.freeze({
  'session-run': '(a) in-process session.run',
  baseline: '(b) fastify + ort one-model service',
  'sibyl-json': '(c) Sibyl REST JSON',
  'sibyl-binary': '(d) Sibyl REST binary',
  'sibyl-grpc': '(e) Sibyl gRPC',
  large: '16 MiB round trip',
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
  unit: 'x' | 'us' | 'ms';
  comparison: '>=' | '<=' | '<';
  threshold: number;
  /** null: not measured (a target skipped or failed). */
  pass: boolean | null;
  detail: string;
}

export interface BenchResults {
  name: string;
  machine: MachineInfo;
  config: BenchConfig;
  models: Record<'iris' | 'identity', { source: 'examples' | 'built'; inputs: string[]; outputs: string[] }>;
  servers: Record<string, { pid: number; ports: Record<string, number>; startMs: number; warning?: string } | { skipped: string } | { error: string }>;
  iris: IrisCell[];
  large: LargeCell[];
  wrk: WrkCell[];
  verdicts: Verdict[];
  /** Load averages (1, 5, 15 min) when the run ended; compare with machine.loadAverage at the start. */
  loadAverageEnd: number[];
  totalSeconds: number;
}

const cell = (cells: readonly IrisCell[], target: IrisTarget, concurrency: number) =>
  cells.find((c) => c.target === target && c.concurrency === concurrency && c.error === undefined)?.result ?? null;

/** The targets, from the measured cells. */
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
  return out;
}
