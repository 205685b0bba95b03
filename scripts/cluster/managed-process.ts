/**
 * One app of the split topology as a child process, run from sources: `node --import tsx <entry>`,
 * with tests/e2e/tsconfig.server.json mapping every `@sibyl/*` import to its `src/index.ts` (the
 * resolution tests/e2e/src/harness/server.ts uses for the all-in-one), so nothing needs a build.
 *
 * Every line the process writes is kept (bounded) and handed to the cluster's log sink with the
 * process's name. Children run in their own process group, so a Ctrl-C in the terminal reaches only
 * the launcher, which then stops them in order; they are SIGKILLed when the launcher's process exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root (scripts/cluster → two levels up). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The tsconfig whose `paths` send workspace imports to sources (read by tsx through TSX_TSCONFIG_PATH). */
export const SOURCES_TSCONFIG = fileURLToPath(new URL('../../tests/e2e/tsconfig.server.json', import.meta.url));

/** Lines kept per process (stdout and stderr interleaved); older ones are dropped. */
const KEPT_LINES = 20_000;

export interface ExitResult {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export type LogStream = 'stdout' | 'stderr';

/** Where log lines go: each line of each process, with the process's name. */
export type LogSink = (name: string, line: string, stream: LogStream) => void;

export interface ProcessSpec {
  /** Unique in the cluster: `management`, `router`, `onnx-1`, `gateway`, ... */
  name: string;
  /** Entry file relative to the repository root, e.g. `apps/gateway/src/main.ts`; `.js`/`.mjs` run without tsx. */
  entry: string;
  args: readonly string[];
  /** Added to the launcher's environment. */
  env?: Record<string, string>;
}

export interface ManagedProcess {
  readonly spec: ProcessSpec;
  readonly pid: number;
  /** Resolves when the process has exited (and its output has been read to the end). */
  readonly exited: Promise<ExitResult>;
  /** The exit once it happened; undefined while running. */
  exitResult(): ExitResult | undefined;
  /** Every kept line so far. */
  lines(): readonly string[];
  /** The last `n` lines, joined. */
  tail(n?: number): string;
  /** Sends a signal (no-op once exited). */
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM (or `signal`), then SIGKILL after `timeoutMs`; resolves with the exit. Idempotent per call. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<ExitResult>;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Whatever happens to the launcher, no app outlives it. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

export function spawnProcess(spec: ProcessSpec, sink: LogSink): ManagedProcess {
  installExitHook();
  const runsTs = spec.entry.endsWith('.ts');
  const child = spawn(process.execPath, [...(runsTs ? ['--import', 'tsx'] : []), spec.entry, ...spec.args], {
    cwd: REPO_ROOT,
    env: { ...process.env, TSX_TSCONFIG_PATH: SOURCES_TSCONFIG, ...spec.env, FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  running.add(child);
  const kept: string[] = [];
  const keep = (line: string, stream: LogStream) => {
    kept.push(line);
    if (kept.length > KEPT_LINES) kept.splice(0, kept.length - KEPT_LINES);
    sink(spec.name, line, stream);
  };
  const reading: Array<Promise<void>> = [];
  for (const [stream, name] of [
    [child.stdout!, 'stdout'],
    [child.stderr!, 'stderr'],
  ] as const) {
    reading.push(
      new Promise((resolve) => {
        let pending = '';
        stream.setEncoding('utf8');
        stream.on('data', (chunk: string) => {
          pending += chunk;
          let nl: number;
          while ((nl = pending.indexOf('\n')) >= 0) {
            keep(pending.slice(0, nl), name);
            pending = pending.slice(nl + 1);
          }
        });
        stream.on('close', () => {
          if (pending !== '') keep(pending, name);
          pending = '';
          resolve();
        });
      }),
    );
  }

  let result: ExitResult | undefined;
  const exited = new Promise<ExitResult>((resolve) => {
    child.once('error', (err) => {
      keep(`launcher: cannot run ${spec.entry}: ${err.message}`, 'stderr');
      running.delete(child);
      result ??= { code: null, signal: null };
      resolve(result);
    });
    child.once('exit', (code, signal) => {
      running.delete(child);
      result = { code, signal };
      // The output may still be in the pipes: wait for both to close, but not forever (a grandchild
      // holding the pipe open must not hang the launcher).
      void Promise.race([Promise.all(reading), new Promise((r) => setTimeout(r, 2000))]).then(() => resolve(result!));
    });
  });

  const signal = (sig: NodeJS.Signals) => {
    if (result === undefined && child.exitCode === null && child.signalCode === null) child.kill(sig);
  };

  return {
    spec,
    pid: child.pid ?? -1,
    exited,
    exitResult: () => result,
    lines: () => kept,
    tail: (n = 40) => kept.slice(-n).join('\n'),
    signal,
    stop: async (sig: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000) => {
      signal(sig);
      const timer = setTimeout(() => signal('SIGKILL'), timeoutMs);
      const r = await exited;
      clearTimeout(timer);
      return r;
    },
  };
}
