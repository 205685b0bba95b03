import { describe, expect, it } from 'vitest';
import type { LoadResult } from './load-spec.js';
import { splitCpuText, splitVerdicts, verdicts, type IrisCell, type LargeCell } from './results.js';

function result(rps: number, p50Us: number, extra: Partial<LoadResult> = {}): LoadResult {
  return {
    workload: 'iris-json',
    plan: { kind: 'duration', concurrency: 1, warmupSeconds: 0, seconds: 1 },
    completed: rps,
    measuredSeconds: 1,
    requestsPerSecond: rps,
    latency: { samples: rps, meanUs: p50Us, minUs: p50Us, p50Us, p90Us: p50Us, p99Us: p50Us * 2, p999Us: p50Us * 3, maxUs: p50Us * 4 },
    errors: 0,
    checked: 2,
    checkedOk: 2,
    droppedSamples: 0,
    ...extra,
  };
}

const iris = (target: IrisCell['target'], r: LoadResult): IrisCell => ({ target, concurrency: 1, rounds: [r], result: r });

describe('verdicts', () => {
  it('passes at exactly 0.9x and 150 us, fails just past them', () => {
    const pass = verdicts([iris('baseline', result(1000, 100)), iris('sibyl-json', result(900, 158)), iris('session-run', result(100_000, 8))], [], [1]);
    expect(pass.find((v) => v.id === 'rest-json-throughput-c1')).toMatchObject({ value: 0.9, pass: true });
    expect(pass.find((v) => v.id === 'rest-json-added-p50-c1')).toMatchObject({ value: 150, pass: true });
    const fail = verdicts([iris('baseline', result(1000, 100)), iris('sibyl-json', result(899, 158.1)), iris('session-run', result(100_000, 8))], [], [1]);
    expect(fail.filter((v) => v.unit !== 'ms').map((v) => v.pass)).toEqual([false, false]);
  });

  it('is not measured when a figure is missing or its cell had errors', () => {
    const cells = [iris('baseline', result(1000, 100)), { ...iris('sibyl-json', result(2000, 50)), error: '3 failed requests' }];
    expect(verdicts(cells, [], [1]).map((v) => v.pass)).toEqual([null, null, null]);
  });

  it('fails the 16 MiB case when a response was not byte-exact, however fast', () => {
    const large: LargeCell[] = [{ target: 'sibyl-binary', result: result(50, 10_000, { checked: 20, checkedOk: 19, errors: 1 }) }];
    expect(verdicts([], large, []).at(-1)).toMatchObject({ value: 10, pass: false });
    const ok: LargeCell[] = [{ target: 'sibyl-binary', result: result(50, 29_990, { checked: 20, checkedOk: 20 }) }];
    expect(verdicts([], ok, []).at(-1)).toMatchObject({ value: 29.99, pass: true });
  });
});

describe('splitVerdicts', () => {
  const at = (target: IrisCell['target'], concurrency: number, r: LoadResult): IrisCell => ({ target, concurrency, rounds: [r], result: r });
  const cpu = (sum: number, each?: number[]) => ({ cpu: { serverUsPerRequest: sum, clientUsPerRequest: 30, serverShare: 0.4, otherShare: 0, ...(each ? { serverUsPerRequestEach: each } : {}) } });

  it('holds the extra hop of REST JSON to 250 us at c=1 and only reports REST binary and throughput', () => {
    const cells = [
      at('sibyl-json', 1, result(7000, 130, cpu(90))),
      at('split-json', 1, result(3000, 380, cpu(150, [80, 70]))),
      at('sibyl-binary', 1, result(6000, 150)),
      at('split-binary', 1, result(2500, 500)),
      at('sibyl-json', 64, result(26_000, 2000)),
      at('split-json', 64, result(13_000, 4000)),
    ];
    const v = splitVerdicts(cells, [1, 64]);
    expect(v.map((x) => [x.id, x.value, x.pass])).toEqual([
      ['split-rest-json-added-p50-c1', 250, true],
      ['split-rest-binary-added-p50-c1', 350, null],
      ['split-rest-json-throughput-c64', 0.5, null],
    ]);
    expect(v[0]!.detail).toContain('server CPU 150 (gateway 80 + worker 70) vs 90 us/req');
    expect(v[1]).toMatchObject({ threshold: null, comparison: null });
    const over = splitVerdicts([at('sibyl-json', 1, result(7000, 130)), at('split-json', 1, result(3000, 380.1))], [1]);
    expect(over[0]).toMatchObject({ value: 250.1, pass: false });
  });

  it('reports the p50 a bare proxy hop adds, and quotes it beside the split hop', () => {
    const cells = [
      at('baseline', 1, result(9000, 90, cpu(60))),
      at('proxy-json', 1, result(3000, 320, cpu(300, [150, 150]))),
      at('sibyl-json', 1, result(7000, 130)),
      at('split-json', 1, result(1500, 630)),
    ];
    const v = splitVerdicts(cells, [1]);
    expect(v.map((x) => [x.id, x.value, x.pass])).toEqual([
      ['split-rest-json-added-p50-c1', 500, false],
      ['proxy-hop-added-p50-c1', 230, null],
    ]);
    expect(v[0]!.detail).toContain('a bare node:http hop adds 230 us');
    expect(v[1]!.detail).toContain('server CPU 300 (proxy 150 + service 150) vs 60 us/req');
  });

  it('says why a split row is missing, and has nothing to say when none was asked for', () => {
    const skipped: IrisCell = { target: 'split-json', concurrency: 1, rounds: [], result: null, skipped: 'split topology not running: REDIS_URL is unset' };
    const v = splitVerdicts([at('sibyl-json', 1, result(7000, 130)), skipped], [1]);
    expect(v).toEqual([expect.objectContaining({ value: null, pass: null, detail: expect.stringContaining('REDIS_URL is unset') })]);
    expect(splitVerdicts([at('sibyl-json', 1, result(7000, 130))], [1, 64])).toEqual([]);
  });

  it('names each process in the CPU split, numbering workers when there are several', () => {
    expect(splitCpuText(result(1, 1, cpu(150, [80, 40, 30])))).toBe('150 (gateway 80 + worker 1 40 + worker 2 30)');
    expect(splitCpuText(result(1, 1, cpu(150)))).toBe('150');
    expect(splitCpuText(result(1, 1))).toBeNull();
  });
});
