/**
 * CPU accounting over a measured span. On a shared 2-core machine throughput moves with whatever
 * else runs; CPU time the server spends per request barely does, and the CPU the rest of the
 * machine used in the span says how far to trust the cell. Server CPU is read from
 * /proc/<pid>/stat, so it is null off Linux.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** Linux reports /proc/<pid>/stat times in USER_HZ ticks, 100 per second on every mainstream ABI. */
const TICKS_PER_SECOND = 100;

export interface CpuSample {
  /** performance.now() when taken, ms. */
  at: number;
  /** Summed over all CPUs, ms (os.cpus()). */
  machineBusyMs: number;
  /** The server processes' user + system CPU, ms, all threads, summed; null when any is unreadable. */
  serverMs: number | null;
  /** The same per server process, in the order given (one entry per pid). */
  serverMsEach: Array<number | null>;
  /** This process's user + system CPU, ms. */
  selfMs: number;
}

function processCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; fields after its closing parenthesis are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return Number.isFinite(utime + stime) ? ((utime + stime) * 1000) / TICKS_PER_SECOND : null;
  } catch {
    return null;
  }
}

/** `serverPids`: every process that serves the request (gateway and workers of the split topology); none for in-process runs. */
export function sampleCpu(now: number, serverPids: readonly number[] = []): CpuSample {
  let busy = 0;
  for (const cpu of os.cpus()) busy += cpu.times.user + cpu.times.nice + cpu.times.sys + cpu.times.irq;
  const self = process.cpuUsage();
  const each = serverPids.map(processCpuMs);
  return {
    at: now,
    machineBusyMs: busy,
    serverMs: each.length === 0 || each.includes(null) ? null : each.reduce<number>((a, b) => a + b!, 0),
    serverMsEach: each,
    selfMs: (self.user + self.system) / 1000,
  };
}

export interface CpuReport {
  /** Server CPU per completed request, us, summed over the server processes (the generator's own when the workload is in-process). */
  serverUsPerRequest: number | null;
  /** The same per server process, in the order of LoadSpec.serverPids; only when there is more than one. */
  serverUsPerRequestEach?: Array<number | null>;
  /** Load generator CPU per completed request, us. */
  clientUsPerRequest: number;
  /** Share of all cores the server used over the span, 0..1 (1 = every core). */
  serverShare: number | null;
  /** Share of all cores used by everything except the server and this generator, 0..1. */
  otherShare: number;
}

export function cpuReport(a: CpuSample, b: CpuSample, completed: number, inProcess: boolean): CpuReport {
  const spanMs = Math.max(1, b.at - a.at);
  const capacityMs = spanMs * os.cpus().length;
  const selfMs = b.selfMs - a.selfMs;
  const serverMs = inProcess ? selfMs : a.serverMs === null || b.serverMs === null ? null : b.serverMs - a.serverMs;
  const clientMs = inProcess ? 0 : selfMs;
  const otherMs = b.machineBusyMs - a.machineBusyMs - (serverMs ?? 0) - clientMs;
  const round = (x: number, places: number) => Math.round(x * 10 ** places) / 10 ** places;
  const perRequest = (ms: number) => (completed > 0 ? round((ms * 1000) / completed, 1) : 0);
  const each = a.serverMsEach.map((start, i) => {
    const end = b.serverMsEach[i];
    return start === null || end === null || end === undefined ? null : perRequest(end - start);
  });
  return {
    serverUsPerRequest: serverMs === null ? null : perRequest(serverMs),
    ...(each.length > 1 && !inProcess ? { serverUsPerRequestEach: each } : {}),
    clientUsPerRequest: perRequest(clientMs),
    serverShare: serverMs === null ? null : round(serverMs / capacityMs, 3),
    otherShare: round(Math.max(0, otherMs) / capacityMs, 3),
  };
}
