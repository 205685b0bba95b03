import { describe, expect, it } from 'vitest';
import type { LoadResult } from './load-spec.js';
import { verdicts, type IrisCell, type LargeCell } from './results.js';

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
