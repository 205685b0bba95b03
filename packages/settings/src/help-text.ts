import type { SettingsTable } from './setting.js';

const COLUMN = 34;

/** `--help`: a usage line, then each setting with its help, variables and default, in table order. */
export function renderHelp(table: SettingsTable, usage: string): string {
  const lines = [usage, '', 'Flags (each also read from its environment variable):'];
  for (const s of Object.values(table)) {
    lines.push(`  --${s.flag} <value>`.padEnd(COLUMN) + s.help);
    const envs = s.fallbackEnv === undefined ? s.env : `${s.env} or ${s.fallbackEnv}`;
    const shown = s.shownDefault ?? (s.default === '' ? (s.required === true ? 'none (required)' : 'unset') : s.default);
    lines.push(' '.repeat(COLUMN) + `env ${envs}, default ${shown}`);
  }
  lines.push('  --help'.padEnd(COLUMN) + 'Print this text');
  return lines.join('\n');
}
