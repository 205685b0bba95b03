/**
 * Runs the all-in-one server (apps/sibyl) as a child process, from sources, on free ports.
 *
 * The server is started with `--log-format json`; its listener lines carry the bound ports and the
 * `"event":"ready"` line says start-up has finished (with `ready` true or false). Every child is
 * killed when the test process exits, whatever happens to the test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (tests/e2e/src/harness → four levels up). */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/**
 * `node --import tsx apps/sibyl/src/main.ts`: runs from sources, so `npm test` needs no build.
 * tests/e2e/tsconfig.server.json maps every `@sibyl/*` import to its `src/index.ts` (tsx reads the
 * paths of the tsconfig TSX_TSCONFIG_PATH names), the same resolution the root vitest config uses.
 */
const SERVER_ARGS = ['--import', 'tsx', 'apps/sibyl/src/main.ts'];
const SERVER_TSCONFIG = fileURLToPath(new URL('../../tsconfig.server.json', import.meta.url));

const STARTUP_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 20_000;

const children = new Set<ChildProcess>();
const killAll = () => {
  for (const child of children) child.kill('SIGKILL');
};
process.once('exit', killAll);
// 'exit' does not run when the test process dies of a signal: kill the servers, then let the signal
// do what it would have done (re-raised only if no one else handles it).
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    killAll();
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  });
}

export interface ServerOptions {
  /** Model repository directories (each passed as --model-repository). */
  repositories: readonly string[];
  /** More flags, e.g. ['--strict-readiness', 'false']. */
  args?: readonly string[];
  env?: Record<string, string>;
}

export interface ExitResult {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface RunningServer {
  httpUrl: string;
  /** host:port for a gRPC client. */
  grpcAddress: string;
  metricsUrl: string;
  /** The management API (registry, uploads, releases); undefined when the server did not start it. */
  managementUrl: string | undefined;
  /** Its data directory (registry database, artifact store): a fresh one unless the test passed --data-dir. */
  dataDir: string;
  /** The `ready` field of the ready event. */
  readyAtStart: boolean;
  /** Every line the process has written so far (stdout and stderr interleaved). */
  output(): string;
  /** Parsed JSON log lines so far. */
  logLines(): Array<Record<string, unknown>>;
  /** Sends `signal` and waits for the exit (SIGKILL after a timeout). Idempotent. */
  stop(signal?: NodeJS.Signals): Promise<ExitResult>;
}

function collect(child: ChildProcess) {
  const lines: string[] = [];
  const json: Array<Record<string, unknown>> = [];
  const listeners = new Set<(line: Record<string, unknown>) => void>();
  for (const stream of [child.stdout!, child.stderr!]) {
    let pending = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        lines.push(line);
        if (!line.startsWith('{')) continue;
        try {
          const parsed = JSON.parse(line) as Record<string, unknown>;
          json.push(parsed);
          for (const l of listeners) l(parsed);
        } catch {
          // not a log line
        }
      }
    });
    stream.on('end', () => {
      if (pending !== '') lines.push(pending);
      pending = '';
    });
  }
  return { lines, json, listeners };
}

function waitExit(child: ChildProcess): Promise<ExitResult> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

function spawnServer(args: readonly string[], env: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, [...SERVER_ARGS, ...args], {
    cwd: REPO_ROOT,
    // The test runner's DATABASE_URL is not the server's: every server gets its own registry (PGlite in
    // its data directory) unless the test passes a database.
    env: { ...process.env, DATABASE_URL: '', SIBYL_DATABASE_URL: '', TSX_TSCONFIG_PATH: SERVER_TSCONFIG, ...env, FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Starts a server and resolves once it has logged its ready event; rejects with its output if not. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const given = options.args ?? [];
  const at = given.findIndex((a) => a === '--data-dir' || a.startsWith('--data-dir='));
  const ownDataDir = at < 0 ? mkdtempSync(join(tmpdir(), 'sibyl-e2e-data-')) : undefined;
  const dataDir = ownDataDir ?? (given[at]!.includes('=') ? given[at]!.slice('--data-dir='.length) : given[at + 1]!);
  const args = [
    ...options.repositories.flatMap((dir) => ['--model-repository', dir]),
    '--http-address', '127.0.0.1', '--http-port', '0',
    '--grpc-address', '127.0.0.1', '--grpc-port', '0',
    '--metrics-address', '127.0.0.1', '--metrics-port', '0',
    '--management-address', '127.0.0.1', '--management-port', '0',
    ...(ownDataDir === undefined ? [] : ['--data-dir', ownDataDir]),
    '--log-format', 'json',
    ...given,
  ];
  const child = spawnServer(args, options.env);
  const out = collect(child);
  const output = () => out.lines.join('\n');
  const exited = waitExit(child);

  const ports: Record<string, number> = {};
  let ready: boolean | undefined;
  const onLine = (line: Record<string, unknown>) => {
    if (typeof line['listener'] === 'string' && typeof line['port'] === 'number') ports[line['listener']] = line['port'];
    if (line['event'] === 'ready') ready = line['ready'] === true;
  };
  out.json.forEach(onLine);
  out.listeners.add(onLine);

  let stopping: Promise<ExitResult> | undefined;
  const stop = (signal: NodeJS.Signals = 'SIGTERM'): Promise<ExitResult> => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      const result = await exited;
      clearTimeout(timer);
      if (ownDataDir !== undefined) rmSync(ownDataDir, { recursive: true, force: true });
      return result;
    })();
    return stopping;
  };

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop('SIGKILL');
      reject(new Error(`server not ready after ${STARTUP_TIMEOUT_MS} ms; its output:\n${output()}`));
    }, STARTUP_TIMEOUT_MS);
    const check = () => {
      if (ready !== undefined) {
        clearTimeout(timer);
        out.listeners.delete(check);
        resolve();
      }
    };
    out.listeners.add(check);
    check();
    void exited.then((r) => {
      clearTimeout(timer);
      reject(new Error(`server exited (code ${r.code}, signal ${r.signal}) before it was ready; its output:\n${output()}`));
    });
  });

  for (const listener of ['http', 'grpc', 'metrics']) {
    if (ports[listener] === undefined) {
      await stop('SIGKILL');
      throw new Error(`no ${listener} listener line in the server output:\n${output()}`);
    }
  }
  return {
    httpUrl: `http://127.0.0.1:${ports['http']}`,
    grpcAddress: `127.0.0.1:${ports['grpc']}`,
    metricsUrl: `http://127.0.0.1:${ports['metrics']}`,
    managementUrl: ports['management'] === undefined ? undefined : `http://127.0.0.1:${ports['management']}`,
    dataDir,
    readyAtStart: ready!,
    output,
    logLines: () => [...out.json],
    stop,
  };
}

/** Runs the server with `args` (no defaults added) and waits for it to exit on its own. */
export async function runToExit(args: readonly string[], timeoutMs = 60_000): Promise<ExitResult & { output: string }> {
  const child = spawnServer(args);
  const out = collect(child);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  // 'close' rather than 'exit': it comes after stdout and stderr have been read to the end.
  const result = await new Promise<ExitResult>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  clearTimeout(timer);
  return { ...result, output: out.lines.join('\n') };
}
