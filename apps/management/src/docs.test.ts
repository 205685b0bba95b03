import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { SettingDeclaration } from '@sibyl/settings';
import { MANAGEMENT_SETTINGS } from './management-config.js';

// The Management section of the configuration reference lists every setting the management app reads, with its variable and
// default, and no other. Scoped to the section: other apps' tables have many of the same flags.
describe('docs/configuration.md: Management', () => {
  const doc = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
  const start = doc.indexOf('\n## Management\n');
  const end = doc.indexOf('\n## ', start + 1);
  const section = start < 0 ? '' : doc.slice(start, end < 0 ? undefined : end);
  const rows = section.split('\n').filter((line) => line.startsWith('| `--'));
  const table = MANAGEMENT_SETTINGS as Record<string, SettingDeclaration>;

  /** The default as the table shows it: a required setting without one is `none (required)`. */
  const shownDefault = (setting: SettingDeclaration): string =>
    setting.required === true && setting.default === '' ? 'none (required)' : (setting.shownDefault ?? setting.default);

  it('has a Management section', () => {
    expect(section).not.toBe('');
  });

  it.each(Object.entries(table))('documents %s', (_name, setting) => {
    const row = rows.find((line) => line.startsWith(`| \`--${setting.flag} `) || line.startsWith(`| \`--${setting.flag}\``));
    expect(row, `no row for --${setting.flag} in the Management section`).toBeDefined();
    expect(row).toContain(`\`${setting.env}\``);
    const shown = shownDefault(setting);
    if (!shown.includes('/')) expect(row).toContain(`\`${shown}\``);
    if (setting.fallbackEnv !== undefined) expect(row).toContain(`\`${setting.fallbackEnv}\``);
  });

  it('documents no flag the management app does not read', () => {
    const flags = new Set(['help', ...Object.values(table).map((s) => s.flag)]);
    const documented = rows.map((line) => /^\| `--([a-z-]+)/.exec(line)![1]!);
    expect(documented.filter((flag) => !flags.has(flag))).toEqual([]);
  });
});
