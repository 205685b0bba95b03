import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { cpuReport, type CpuSample } from './cpu-usage.js';

const cores = os.cpus().length;
const sample = (at: number, machineBusyMs: number, serverMs: number | null, selfMs: number, serverMsEach: Array<number | null> = [serverMs]): CpuSample => ({
  at,
  machineBusyMs,
  serverMs,
  serverMsEach,
  selfMs,
});

describe('cpuReport', () => {
  it('splits the span between server, client and everything else', () => {
    // 1 s span; server 500 ms, client 300 ms, machine busy 1000 ms in all: 200 ms was someone else's.
    const r = cpuReport(sample(0, 0, 0, 0), sample(1000, 1000, 500, 300), 10_000, false);
    expect(r).toEqual({ serverUsPerRequest: 50, clientUsPerRequest: 30, serverShare: 0.5 / cores, otherShare: Math.round((0.2 / cores) * 1000) / 1000 });
  });

  it('counts the generator as the server for in-process runs', () => {
    const r = cpuReport(sample(0, 0, null, 0), sample(1000, 400, null, 400), 40_000, true);
    expect(r).toMatchObject({ serverUsPerRequest: 10, clientUsPerRequest: 0, otherShare: 0 });
  });

  it('sums the server processes and keeps the share of each (gateway and worker of the split topology)', () => {
    const r = cpuReport(sample(0, 0, 100, 0, [40, 60]), sample(1000, 1000, 700, 200, [240, 560]), 10_000, false);
    expect(r).toMatchObject({ serverUsPerRequest: 60, serverUsPerRequestEach: [20, 50], clientUsPerRequest: 20 });
    expect(cpuReport(sample(0, 0, 0, 0), sample(1000, 1000, 500, 300), 10_000, false)).not.toHaveProperty('serverUsPerRequestEach');
  });

  it('has no server figure when the server could not be read', () => {
    expect(cpuReport(sample(0, 0, null, 0), sample(1000, 100, null, 50), 100, false).serverUsPerRequest).toBeNull();
  });
});
