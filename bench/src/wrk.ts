/**
 * Optional cross-check with wrk, a C load generator (DESIGN §6 quotes wrk figures). It needs far
 * less CPU per request than the Node generator, so on a 2-core machine it shows what the servers do
 * when the client is not the bottleneck. Informational: the targets use the Node generator.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchConfig } from './config.js';
import { IRIS_MODEL, IRIS_SAMPLE } from './payloads.js';
import type { RunningServer } from './processes.js';
import type { WrkCell } from './results.js';

export function wrkAvailable(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (err) {
    // wrk --version prints its banner and exits 1; only a missing binary is ENOENT.
    return (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

function toUs(value: string, unit: string): number {
  const n = Number(value);
  return unit === 'us' ? n : unit === 'ms' ? n * 1000 : unit === 's' ? n * 1e6 : unit === 'm' ? n * 6e7 : Number.NaN;
}

/** Reads the figures out of `wrk --latency` output. */
export function parseWrk(output: string): Omit<WrkCell, 'target' | 'connections' | 'threads'> {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(output);
  const p = (q: string) => {
    const m = new RegExp(`^\\s+${q}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(output);
    return m === null ? null : Math.round(toUs(m[1]!, m[2]!) * 10) / 10;
  };
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(output);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  return {
    requestsPerSecond: rps === null ? 0 : Number(rps[1]),
    p50Us: p('50'),
    p99Us: p('99'),
    non2xx: non2xx === null ? 0 : Number(non2xx[1]),
    socketErrors: socket === null ? 0 : socket.slice(1).reduce((a, b) => a + Number(b), 0),
    ...(rps === null ? { error: `no Requests/sec in wrk output: ${output.slice(0, 300)}` } : {}),
  };
}

function wrk(args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('wrk', args, { timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`wrk ${args.join(' ')}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

/** wrk at every configured concurrency above 1, one thread (the other core is the server's). */
export async function runWrk(config: BenchConfig, baseline: RunningServer | null, sibyl: RunningServer | null, log: (line: string) => void): Promise<WrkCell[]> {
  const servers = [
    ...(baseline !== null && config.targets.includes('baseline') ? [['baseline', baseline] as const] : []),
    ...(sibyl !== null && config.targets.includes('sibyl-json') ? [['sibyl-json', sibyl] as const] : []),
  ];
  const levels = config.concurrency.filter((c) => c > 1);
  if (servers.length === 0 || levels.length === 0) return [];
  const dir = mkdtempSync(join(tmpdir(), 'sibyl-bench-wrk-'));
  const script = join(dir, 'infer.lua');
  const body = JSON.stringify({ inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: IRIS_SAMPLE }] });
  writeFileSync(script, `wrk.method = "POST"\nwrk.body = '${body}'\nwrk.headers["Content-Type"] = "application/json"\n`);
  const out: WrkCell[] = [];
  try {
    for (const connections of levels) {
      for (const [target, server] of servers) {
        const url = `http://127.0.0.1:${server.ports.http}/v2/models/${IRIS_MODEL}/infer`;
        const common = ['-t', '1', '-c', String(connections), '-s', script];
        const seconds = Math.max(1, Math.round(config.seconds));
        try {
          if (config.warmupSeconds > 0) await wrk([...common, '-d', `${Math.max(1, Math.round(config.warmupSeconds))}s`, url], 60_000);
          const output = await wrk([...common, '-d', `${seconds}s`, '--latency', url], seconds * 1000 + 60_000);
          const cell: WrkCell = { target, connections, threads: 1, ...parseWrk(output) };
          out.push(cell);
          log(`wrk c=${connections} ${target}: ${Math.round(cell.requestsPerSecond).toLocaleString('en-US')} req/s, p50 ${cell.p50Us} us, p99 ${cell.p99Us} us`);
        } catch (err) {
          out.push({ target, connections, threads: 1, requestsPerSecond: 0, p50Us: null, p99Us: null, non2xx: 0, socketErrors: 0, error: (err as Error).message });
          log(`wrk c=${connections} ${target}: ERROR ${(err as Error).message}`);
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
