/**
 * Reading a settings table: flags (node:util parseArgs, strict), then `SIBYL_*` variables (then a
 * fallback variable such as DATABASE_URL), then the default. A flag wins over its variable; an empty
 * variable counts as unset. The result is validated whole and frozen.
 */
import { parseArgs } from 'node:util';
import { configInvalid } from './errors.js';
import { parseValue } from './parse-value.js';
import type { Settings, SettingsTable } from './setting.js';

/**
 * Declares an app's settings. Checks the table itself (a flag or variable used twice, an enum
 * without choices, a default of the wrong kind is a bug, thrown at import) and freezes it.
 */
export function defineSettings<const T extends SettingsTable>(table: T): T {
  const flags = new Set<string>(['help']);
  const envs = new Set<string>();
  for (const [name, s] of Object.entries(table)) {
    if (flags.has(s.flag)) throw new Error(`settings: flag --${s.flag} (${name}) is declared twice`);
    if (envs.has(s.env)) throw new Error(`settings: variable ${s.env} (${name}) is declared twice`);
    flags.add(s.flag);
    envs.add(s.env);
    if (s.kind === 'enum' && (s.choices === undefined || s.choices.length === 0)) throw new Error(`settings: enum ${name} has no choices`);
    // A default that cannot parse would stop every start-up: refuse it now. Directories are not checked here.
    if (s.kind !== 'paths' && s.kind !== 'path' && !(s.required === true && s.default === '')) parseValue(name, s, s.default);
  }
  return Object.freeze(table);
}

/** True when the command line asks for `--help` (checked before reading, so help works whatever else is wrong). */
export function helpRequested(argv: readonly string[]): boolean {
  return argv.includes('--help');
}

/**
 * Reads every setting of `table` from `argv` (without the node and script paths) and `env`.
 * Throws SIBYL_CONFIG_FLAG_INVALID naming the setting for an unknown flag, a missing value or a
 * value of the wrong kind. `--help` is accepted and ignored (see `helpRequested`).
 */
export function readSettings<T extends SettingsTable>(table: T, argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Settings<T> {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = { help: { type: 'boolean' } };
  for (const s of Object.values(table)) options[s.flag] = { type: 'string', multiple: s.kind === 'paths' || s.kind === 'names' };
  let values: Record<string, string | boolean | Array<string | boolean> | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }));
  } catch (err) {
    throw configInvalid('command line', (err as Error).message);
  }
  const given = (name: string | undefined) => (name === undefined || env[name] === undefined || env[name] === '' ? undefined : env[name]);
  const out: Record<string, unknown> = {};
  for (const [name, setting] of Object.entries(table)) {
    const fromFlag = values[setting.flag] as string | string[] | undefined;
    const fromEnv = given(setting.env) ?? given(setting.fallbackEnv);
    out[name] = parseValue(name, setting, fromFlag ?? fromEnv ?? setting.default);
  }
  return Object.freeze(out) as Settings<T>;
}
