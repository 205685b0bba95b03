/**
 * The process shell every app's entry point shares: read the settings (exit 2 naming the bad one),
 * `--help`, start, then stop gracefully on SIGTERM or SIGINT (exit 0; a second signal exits at
 * once with 1). A start-up failure exits 1 (2 for bad configuration) with the reason on stderr.
 */
import { isSibylError } from '@sibyl/protocol';

export interface RunningApp {
  readonly logger: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  /** Drains and stops; resolves once everything is released. */
  close(): Promise<void>;
}

export interface MainOptions<C> {
  /** How the app is called in messages: `sibyl gateway`. */
  name: string;
  help(): string;
  load(argv: readonly string[]): C;
  start(config: C): Promise<RunningApp>;
  argv?: readonly string[];
}

export async function runMain<C>(options: MainOptions<C>): Promise<void> {
  const argv = options.argv ?? process.argv.slice(2);
  if (argv.includes('--help')) {
    process.stdout.write(`${options.help()}\n`);
    return;
  }
  let config: C;
  try {
    config = options.load(argv);
  } catch (err) {
    process.stderr.write(`${options.name}: ${isSibylError(err) ? err.message : String(err)}\nRun with --help for the list of settings.\n`);
    process.exit(2);
  }
  let running: RunningApp;
  try {
    running = await options.start(config);
  } catch (err) {
    // A SibylError already says what is wrong and where; anything else gets its stack for a bug report.
    const detail = isSibylError(err) ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(`${options.name}: failed to start: ${detail}\n`);
    process.exit(isSibylError(err) && err.category === 'INVALID_ARGUMENT' ? 2 : 1);
  }
  let signals = 0;
  const stop = (signal: string) => {
    signals += 1;
    if (signals > 1) {
      running.logger.warn({ signal }, `second ${signal}: exiting now`);
      process.exit(1);
    }
    running.logger.info({ signal }, `received ${signal}`);
    running.close().then(
      () => process.exit(0),
      (err: unknown) => {
        running.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

/**
 * Runs `steps` (a drain) bounded by `graceMs`; resolves 'timeout' when the bound was reached first.
 * The steps keep running in the background: the caller goes on releasing resources.
 */
export async function withinGrace(graceMs: number, steps: Promise<unknown>): Promise<'done' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), graceMs);
    timer.unref();
  });
  try {
    return await Promise.race([steps.then(() => 'done' as const, () => 'done' as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
