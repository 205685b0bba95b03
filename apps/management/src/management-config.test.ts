import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadManagementConfig, MANAGEMENT_SETTINGS, managementHelp } from './management-config.js';

const DB = 'postgres://postgres@127.0.0.1:5432/sibyl';
const dir = mkdtempSync(join(tmpdir(), 'sibyl-management-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loadManagementConfig', () => {
  it('binds the management API to 127.0.0.1:8003 and imports no repository by default', () => {
    const config = loadManagementConfig([], { DATABASE_URL: DB });
    expect(config).toEqual({
      managementAddress: '127.0.0.1',
      managementPort: 8003,
      metricsAddress: '0.0.0.0',
      metricsPort: 8002,
      allowMetrics: true,
      databaseUrl: DB,
      dataDir: resolve('.sibyl/management'),
      modelRepositories: [],
      logVerbose: 0,
      logFormat: 'text',
      exitTimeoutSecs: 30,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads SIBYL_* variables and the DATABASE_URL fallback; a flag wins over its variable', () => {
    const env = { SIBYL_DATABASE_URL: DB, DATABASE_URL: 'postgres://other@h/d', SIBYL_MANAGEMENT_ADDRESS: '0.0.0.0', SIBYL_DATA_DIR: dir };
    expect(loadManagementConfig([], env)).toMatchObject({ databaseUrl: DB, managementAddress: '0.0.0.0', dataDir: dir });
    expect(loadManagementConfig(['--management-port', '0', '--model-repository', dir], env)).toMatchObject({ managementPort: 0, modelRepositories: [dir] });
  });

  it.each([
    [[], {}, /databaseUrl \(--database-url \/ SIBYL_DATABASE_URL\): a value is required/],
    [['--database-url', 'redis://h:6379'], {}, /databaseUrl .*expected a postgres:\/\/ or postgresql:\/\/ URL, got a redis URL/],
    [['--management-port', 'http'], { DATABASE_URL: DB }, /managementPort \(--management-port \/ SIBYL_MANAGEMENT_PORT\): expected a non-negative integer/],
    [['--model-repository', join(dir, 'missing')], { DATABASE_URL: DB }, /modelRepositories \(--model-repository \/ SIBYL_MODEL_REPOSITORY\): cannot read/],
    [['--allow-metrics', 'maybe'], { DATABASE_URL: DB }, /allowMetrics .*expected true or false/],
  ])('refuses %j %j naming the setting', (argv, env, message) => {
    expect(() => loadManagementConfig(argv, env)).toThrow(message);
  });

  it('refuses a data directory that is a file', () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    expect(() => loadManagementConfig(['--data-dir', file], { DATABASE_URL: DB })).toThrow(/dataDir \(--data-dir \/ SIBYL_DATA_DIR\): .* exists and is not a directory/);
  });

  it('documents every setting in --help', () => {
    const text = managementHelp();
    expect(text).toMatch(/^Usage: sibyl management \[flags\]/);
    for (const s of Object.values(MANAGEMENT_SETTINGS)) {
      expect(text).toContain(`--${s.flag} <value>`);
      expect(text).toContain(s.env);
    }
  });
});
