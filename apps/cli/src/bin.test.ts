/** The `sibyl` command as a process, from the TypeScript sources (no build), as `npx sibyl` runs it in a fresh checkout. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../bin/sibyl.js', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

function sibyl(...args: string[]) {
  const res = spawnSync(process.execPath, [bin, ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, SIBYL_CLI_FROM_SOURCE: '1', SIBYL_URL: 'http://127.0.0.1:9' },
    timeout: 30_000,
  });
  return { code: res.status, out: res.stdout, err: res.stderr };
}

describe('bin/sibyl.js', () => {
  it('prints help and exits 0', () => {
    const res = sibyl('--help');
    expect(res.err).toBe('');
    expect(res.code).toBe(0);
    expect(res.out).toMatch(/^sibyl: manage and call models on a Sibyl server\n\nUsage: sibyl <command> \[options\]\n/);
    expect(res.out).toContain('versions upload MODEL FILE');
  }, 30_000);

  it('exits 2 on a usage error and 1 when the server is unreachable', () => {
    expect(sibyl('models', 'frobnicate')).toMatchObject({ code: 2, out: '', err: expect.stringContaining("sibyl: unknown command 'models frobnicate'") });
    expect(sibyl('status')).toMatchObject({ code: 1, out: '', err: expect.stringContaining('sibyl: cannot reach the management API at http://127.0.0.1:9') });
  }, 30_000);
});
