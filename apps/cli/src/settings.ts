/**
 * The CLI's global settings, declared once: each is a flag accepted by every command and a `SIBYL_*`
 * environment variable, with a default. A flag wins over its variable. Resolved settings are frozen.
 */
import { userInfo } from 'node:os';
import { usageError } from './cli-error.js';
import type { OptionSpecs, OptionValues } from './option-spec.js';
import { stringOption } from './option-spec.js';

export type OutputFormat = 'table' | 'json';

export interface Settings {
  /** Management API base URL. Default http://127.0.0.1:8003 (the server binds it to loopback). */
  readonly managementUrl: string;
  /** Inference (Open Inference Protocol) base URL. Default http://127.0.0.1:8000. */
  readonly inferenceUrl: string;
  /** `table` (aligned, for people) or `json` (the server's answer as received, for scripts). Default table. */
  readonly output: OutputFormat;
  /** Sent as `x-sibyl-actor` on every change, for the audit log. Default $USER. */
  readonly actor: string;
}

interface SettingSpec {
  readonly flag: string;
  readonly env: string;
  readonly valueName: string;
  readonly help: string;
  /** Shown in help; `defaultValue` computes the real one. */
  readonly defaultText: string;
}

export const SETTINGS = {
  managementUrl: { flag: 'url', env: 'SIBYL_URL', valueName: 'URL', help: 'Management API', defaultText: 'http://127.0.0.1:8003' },
  inferenceUrl: { flag: 'infer-url', env: 'SIBYL_INFER_URL', valueName: 'URL', help: 'Inference API (Open Inference Protocol)', defaultText: 'http://127.0.0.1:8000' },
  output: { flag: 'output', env: 'SIBYL_OUTPUT', valueName: 'table|json', help: 'Output format: aligned tables, or the server\'s JSON', defaultText: 'table' },
  actor: { flag: 'actor', env: 'SIBYL_ACTOR', valueName: 'NAME', help: 'Name recorded in the audit log for changes', defaultText: '$USER' },
} as const satisfies Record<keyof Settings, SettingSpec>;

/** Options every command accepts: the settings, plus --help and --version. */
export const GLOBAL_OPTIONS: OptionSpecs = Object.freeze({
  ...Object.fromEntries(
    Object.values(SETTINGS).map((s): [string, OptionSpecs[string]] => [
      s.flag,
      { type: 'string', valueName: s.valueName, help: `${s.help} (env ${s.env}; default ${s.defaultText})`, ...(s.flag === 'output' ? { short: 'o' } : {}) },
    ]),
  ),
  help: { type: 'boolean', short: 'h', help: 'Show help for the command' },
  version: { type: 'boolean', help: 'Print the version of the CLI' },
});

function defaultActor(env: Readonly<Record<string, string | undefined>>): string {
  const fromEnv = env['USER'] ?? env['USERNAME'] ?? env['LOGNAME'];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

function baseUrl(name: string, raw: string, usage: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw usageError(`${name}: '${raw}' is not a URL (expected e.g. http://127.0.0.1:8003)`, usage);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw usageError(`${name}: '${raw}' must be an http:// or https:// URL`, usage);
  }
  if (url.search !== '' || url.hash !== '') throw usageError(`${name}: '${raw}' must not have a query or fragment`, usage);
  // Paths are appended to it, so a base path (a proxy prefix) is kept without its trailing slash.
  return url.href.replace(/\/+$/, '');
}

/**
 * Flags, then environment, then defaults. `usage` is the usage line of the command being run, printed
 * with any error.
 */
export function resolveSettings(values: OptionValues, env: Readonly<Record<string, string | undefined>>, usage: string): Settings {
  const pick = (spec: SettingSpec): { raw: string; name: string } | undefined => {
    const flag = stringOption(values, spec.flag);
    if (flag !== undefined) return { raw: flag, name: `--${spec.flag}` };
    const fromEnv = env[spec.env];
    if (fromEnv !== undefined && fromEnv !== '') return { raw: fromEnv, name: spec.env };
    return undefined;
  };
  const url = (spec: SettingSpec) => {
    const chosen = pick(spec);
    return chosen === undefined ? spec.defaultText : baseUrl(chosen.name, chosen.raw, usage);
  };
  const outputChoice = pick(SETTINGS.output);
  if (outputChoice !== undefined && outputChoice.raw !== 'table' && outputChoice.raw !== 'json') {
    throw usageError(`${outputChoice.name}: expected table or json, got '${outputChoice.raw}'`, usage);
  }
  const actor = pick(SETTINGS.actor)?.raw.trim() ?? defaultActor(env);
  return Object.freeze({
    managementUrl: url(SETTINGS.managementUrl),
    inferenceUrl: url(SETTINGS.inferenceUrl),
    output: (outputChoice?.raw ?? 'table') as OutputFormat,
    actor: actor === '' ? defaultActor(env) : actor,
  });
}
