import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SETTINGS } from './config.js';

// The configuration reference must list every setting the code reads, with its variable and default.
describe('docs/configuration.md', () => {
  const doc = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
  it.each(Object.entries(SETTINGS))('documents %s', (_name, setting) => {
    const row = doc.split('\n').find((line) => line.startsWith(`| \`--${setting.flag}`));
    expect(row, `no table row for --${setting.flag}`).toBeDefined();
    expect(row).toContain(`\`${setting.env}\``);
    const shown: string = 'shownDefault' in setting ? setting.shownDefault : setting.default;
    if (!shown.includes('/')) expect(row).toContain(`\`${shown}\``);
    if ('fallbackEnv' in setting) expect(row).toContain(`\`${setting.fallbackEnv}\``);
  });
});
