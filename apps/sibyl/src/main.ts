/** `npm start` / `sibyl-server`: parse settings, start the all-in-one server, stop cleanly on a signal. */
import { isSibylError } from '@sibyl/protocol';
import { helpText, loadConfig } from './config.js';
import { startSibyl } from './server.js';

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = loadConfig(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`sibyl: ${isSibylError(err) ? err.message : String(err)}\nRun with --help for the list of settings.\n`);
    process.exit(2);
  }
  if (parsed.help) {
    process.stdout.write(`${helpText()}\n`);
    return;
  }
  const running = await startSibyl(parsed.config);
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
      (err) => {
        running.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err) => {
  // A SibylError already says what is wrong and where; anything else gets its stack for a bug report.
  const detail = isSibylError(err) ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`sibyl: failed to start: ${detail}\n`);
  process.exit(isSibylError(err) && err.category === 'INVALID_ARGUMENT' ? 2 : 1);
});
