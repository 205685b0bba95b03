/**
 * Child processes: servers under test and load generators. Every child is tracked and killed when
 * the bench exits, fails or is interrupted; servers announce their ports in JSON log lines, so
 * every listener can take port 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { LoadResult, LoadSpec } from './load-spec.js';
import { BENCH_DIST } from './paths.js';

const live = new Set<ChildProcess>();
let hooked = false;

function killAll(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

/** Kills every child on exit and on SIGINT/SIGTERM/SIGHUP. Idempotent. */
export function installCleanup(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping child processes\n`);
      killAll();
      process.exit(130);
    });
  }
}

function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** Keeps the last `max` lines a child printed, for error messages. */
class Tail {
  private readonly lines: string[] = [];
  constructor(private readonly max = 30) {}
  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.max) this.lines.shift();
  }
  toString(): string {
    return this.lines.length === 0 ? '(no output)' : this.lines.map((l) => `  | ${l}`).join('\n');
  }
}

export interface RunningServer {
  name: string;
  pid: number;
  /** Port per listener name (`http`, `grpc`, `metrics`), from the server's log lines. */
  ports: Readonly<Record<string, number>>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** Whether the process is still running, and its last lines of output (for error messages). */
  alive(): boolean;
  lastOutput(): string;
}

export interface ServerCommand {
  name: string;
  command: string;
  args: string[];
  /** Listeners that must have announced a port before the ready line counts. */
  listeners: string[];
  timeoutMs: number;
  /** The child's environment. Default: this process's. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Starts a server and resolves once it has printed a JSON line with `"event":"ready"` and a
 * `{"listener":..., "port":...}` line for each listener asked for. Rejects with the server's last
 * output if it exits first or is not ready within `timeoutMs`.
 */
export function startServer(cmd: ServerCommand): Promise<RunningServer> {
  const child = track(spawn(cmd.command, cmd.args, { stdio: ['pipe', 'pipe', 'pipe'], env: cmd.env ?? process.env }));
  const tail = new Tail();
  const ports: Record<string, number> = {};
  let ready = false;

  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (graceMs = 5000) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };

  return new Promise((resolve, reject) => {
    const failStart = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${cmd.name} did not start: ${why}\ncommand: ${cmd.command} ${cmd.args.join(' ')}\nlast output:\n${tail.toString()}`));
    };
    const timer = setTimeout(() => failStart(`no ready line within ${cmd.timeoutMs / 1000} s`), cmd.timeoutMs);
    child.once('error', (err) => failStart(err.message));
    // 'close', not 'exit': by then every line the server printed is in the tail.
    child.once('close', (code, signal) => {
      if (!ready) failStart(`exited with ${signal ?? `code ${code}`}`);
    });
    // Both streams are read to the end, so a chatty server never blocks on a full pipe; JSON log
    // lines count from either (the logger's destination is the server's business).
    const onLine = (line: string) => {
      tail.push(line);
      if (ready || !line.startsWith('{')) return;
      let record: { listener?: unknown; port?: unknown; event?: unknown };
      try {
        record = JSON.parse(line) as typeof record;
      } catch {
        return;
      }
      if (typeof record.listener === 'string' && typeof record.port === 'number') ports[record.listener] = record.port;
      if (record.event === 'ready') {
        const missing = cmd.listeners.filter((l) => ports[l] === undefined);
        if (missing.length > 0) return failStart(`ready, but no port announced for ${missing.join(', ')}`);
        ready = true;
        clearTimeout(timer);
        resolve({
          name: cmd.name,
          pid: child.pid!,
          ports: Object.freeze({ ...ports }),
          stop,
          alive: () => child.exitCode === null && child.signalCode === null,
          lastOutput: () => tail.toString(),
        });
      }
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
  });
}

/** Runs one load-generator process and returns its result; rejects with its stderr if it fails or overruns `timeoutMs`. */
export function runLoad(spec: LoadSpec, timeoutMs: number): Promise<LoadResult> {
  const child = track(spawn(process.execPath, [join(BENCH_DIST, 'load-generator.js'), JSON.stringify(spec)], { stdio: ['pipe', 'pipe', 'pipe'] }));
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`load generator for ${spec.workload} ran past ${timeoutMs / 1000} s and was killed`));
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    // 'close' fires once stdout and stderr are drained, so the result line is complete.
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.trim().split('\n').pop() ?? '';
      if (code === 0 && line.startsWith('{')) resolve(JSON.parse(line) as LoadResult);
      else reject(new Error(stderr.trim() || `load generator for ${spec.workload} exited with ${signal ?? `code ${code}`}`));
    });
  });
}
