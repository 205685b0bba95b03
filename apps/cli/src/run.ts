/**
 * One run of the CLI: parse, resolve settings, run the command, report. Returns the exit status and
 * never throws, so tests call it directly and `main.ts` only sets `process.exitCode`.
 */
import { readFileSync } from 'node:fs';
import { createApiClient } from './api-client.js';
import { isCliError } from './cli-error.js';
import { parseCommandLine } from './command-line.js';
import type { CliIo } from './io.js';
import { SETTINGS, resolveSettings } from './settings.js';

/** The package version; package.json is one level above both src/ and dist/. */
export function cliVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const parsed = parseCommandLine(argv);
    if (parsed.kind === 'help') {
      io.stdout.write(parsed.text);
      return 0;
    }
    if (parsed.kind === 'version') {
      io.stdout.write(`sibyl ${cliVersion()}\n`);
      return 0;
    }
    const settings = resolveSettings(parsed.options, io.env, parsed.usage);
    const hint = (s: { flag: string; env: string }) => `--${s.flag} or ${s.env}`;
    await parsed.command.run({
      args: parsed.args,
      options: parsed.options,
      settings,
      io,
      usage: parsed.usage,
      management: createApiClient({
        label: 'management API',
        baseUrl: settings.managementUrl,
        hint: hint(SETTINGS.managementUrl),
        actor: settings.actor,
      }),
      inference: createApiClient({
        label: 'inference API',
        baseUrl: settings.inferenceUrl,
        hint: hint(SETTINGS.inferenceUrl),
      }),
    });
    return 0;
  } catch (err) {
    if (isCliError(err)) {
      io.stderr.write(`sibyl: ${err.message}\n`);
      if (err.usage !== undefined) io.stderr.write(`Usage: ${err.usage}\nRun '${helpCommand(err.usage)}' for more.\n`);
      return err.exitCode;
    }
    // A bug of the CLI's own: say so with the stack, so it can be reported.
    io.stderr.write(`sibyl: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}

/** `sibyl models create NAME ...` -> `sibyl models create --help`. */
function helpCommand(usage: string): string {
  const words = usage.split(' ').filter((w) => /^[a-z]+$/.test(w));
  return `${words.join(' ')} --help`;
}
