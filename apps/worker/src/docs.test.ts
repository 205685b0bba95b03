import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { SettingDeclaration } from '@sibyl/settings';
import { workerSettings } from './config.js';

// The Worker section of the configuration reference lists every setting the worker reads, with its variable and
// default, and no other.
describe('docs/configuration.md: Worker', () => {
  const doc = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
  const start = doc.indexOf('\n## Worker');
  const end = doc.indexOf('\n## ', start + 1);
  const section = start < 0 ? '' : doc.slice(start, end < 0 ? undefined : end);
  const rows = section.split('\n').filter((line) => line.startsWith('| `--'));
  const table = workerSettings('onnx') as Record<string, SettingDeclaration>;

  it('has a Worker section', () => {
    expect(section).not.toBe('');
  });

  it.each(Object.entries(table))('documents %s', (_name, setting) => {
    const row = rows.find((line) => line.startsWith(`| \`--${setting.flag} `) || line.startsWith(`| \`--${setting.flag}\``));
    expect(row, `no row for --${setting.flag} in the Worker section`).toBeDefined();
    expect(row).toContain(`\`${setting.env}\``);
    const shown: string = setting.shownDefault ?? setting.default;
    if (setting.flag !== 'pool') expect(row).toContain(`\`${shown}\``);
    if (setting.fallbackEnv !== undefined) expect(row).toContain(`\`${setting.fallbackEnv}\``);
  });

  it('documents no flag the worker does not read', () => {
    const flags = new Set(['help', ...Object.values(table).map((s) => s.flag)]);
    const documented = rows.map((line) => /^\| `--([a-z-]+)/.exec(line)![1]!);
    expect(documented.filter((flag) => !flags.has(flag))).toEqual([]);
  });
});
