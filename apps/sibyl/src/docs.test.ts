import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SETTINGS } from './config.js';

// The all-in-one server's table of the configuration reference (its "Settings" section) lists every setting the
// code reads, with its variable and default, and no other. Scoped to the section: the apps of the split topology
// have tables of their own further down, with many of the same flags.
describe('docs/configuration.md: Settings (all-in-one)', () => {
  const doc = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
  const start = doc.indexOf('\n## Settings\n');
  const end = doc.indexOf('\n## ', start + 1);
  const section = start < 0 ? '' : doc.slice(start, end < 0 ? undefined : end);
  const rows = section.split('\n').filter((line) => line.startsWith('| `--'));

  it('has a Settings section', () => {
    expect(section).not.toBe('');
  });

  it.each(Object.entries(SETTINGS))('documents %s', (_name, setting) => {
    const row = rows.find((line) => line.startsWith(`| \`--${setting.flag} `) || line.startsWith(`| \`--${setting.flag}\``));
    expect(row, `no table row for --${setting.flag} in the Settings section`).toBeDefined();
    expect(row).toContain(`\`${setting.env}\``);
    const shown: string = 'shownDefault' in setting ? setting.shownDefault : setting.default;
    if (!shown.includes('/')) expect(row).toContain(`\`${shown}\``);
    if ('fallbackEnv' in setting) expect(row).toContain(`\`${setting.fallbackEnv}\``);
  });

  it('documents no flag the server does not read', () => {
    const flags = new Set(['help', ...Object.values(SETTINGS).map((s) => s.flag)]);
    const documented = rows.map((line) => /^\| `--([a-z-]+)/.exec(line)![1]!);
    expect(documented.filter((flag) => !flags.has(flag))).toEqual([]);
  });
});
