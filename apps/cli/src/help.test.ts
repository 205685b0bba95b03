import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { APP_USAGE, rootHelp, SERVER_APPS } from './help.js';

/** The app names bin/sibyl.js dispatches (its `APPS` table), read from the file: importing it would run it. */
function dispatchedApps(): string[] {
  const bin = readFileSync(new URL('../bin/sibyl.js', import.meta.url), 'utf8');
  const table = /const APPS = \{([\s\S]*?)\n\};/.exec(bin);
  expect(table, 'no APPS table in bin/sibyl.js').not.toBeNull();
  return [...table![1]!.matchAll(/^\s*'?([a-z][a-z-]*)'?\s*:/gm)].map((m) => m[1]!);
}

describe('rootHelp', () => {
  it('lists the server apps bin/sibyl.js starts, in its order', () => {
    expect(SERVER_APPS.map(([name]) => name)).toEqual(dispatchedApps());
  });

  it('gives the app usage line beside the command one, and one line per app', () => {
    const text = rootHelp();
    expect(text).toContain('Usage: sibyl <command> [options]\n       sibyl all-in-one|gateway|router|worker-onnx|worker-tf|management [flags]\n');
    expect(APP_USAGE).toBe('sibyl all-in-one|gateway|router|worker-onnx|worker-tf|management [flags]');
    for (const [name, summary] of SERVER_APPS) expect(text).toMatch(new RegExp(`^  ${name} +${summary.replace(/[.()]/g, '\\$&')}$`, 'm'));
    expect(text).toContain("Run 'sibyl <app> --help'");
  });

  it('still lists the commands first', () => {
    const text = rootHelp();
    expect(text.indexOf('Commands:')).toBeLessThan(text.indexOf('Server apps'));
    expect(text).toContain('versions upload MODEL FILE');
  });
});
