import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { helpText, loadConfig, SETTINGS } from './config.js';

describe('loadConfig', () => {
  it("uses tritonserver's defaults and serves the examples when nothing is given", () => {
    const { config, help } = loadConfig([], {});
    expect(help).toBe(false);
    expect(config.httpPort).toBe(8000);
    expect(config.grpcPort).toBe(8001);
    expect(config.metricsPort).toBe(8002);
    expect(config.managementPort).toBe(8003);
    expect(config.modelRepositories).toHaveLength(1);
    expect(config.modelRepositories[0]).toMatch(/examples\/models$/);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('takes repeatable --model-repository flags, replacing the examples', () => {
    const a = mkdtempSync(join(tmpdir(), 'sibyl-config-'));
    const b = mkdtempSync(join(tmpdir(), 'sibyl-config-'));
    const { config } = loadConfig(['--model-repository', relative(process.cwd(), a), `--model-repository=${b}`], {});
    expect(config.modelRepositories).toEqual([a, b]);
  });

  it('refuses a model repository that is missing or not a directory, naming the setting', () => {
    expect(() => loadConfig(['--model-repository', '/no/such/dir'], {})).toThrow(
      /invalid setting modelRepositories \(--model-repository \/ SIBYL_MODEL_REPOSITORY\): cannot read \/no\/such\/dir: ENOENT/,
    );
    const file = join(mkdtempSync(join(tmpdir(), 'sibyl-config-')), 'model.onnx');
    writeFileSync(file, '');
    expect(() => loadConfig([], { SIBYL_MODEL_REPOSITORY: file })).toThrow(/is not a directory/);
  });

  it('reads SIBYL_* variables, and a flag wins over its variable', () => {
    const x = mkdtempSync(join(tmpdir(), 'sibyl-config-'));
    const y = mkdtempSync(join(tmpdir(), 'sibyl-config-'));
    const env = { SIBYL_HTTP_PORT: '9000', SIBYL_GRPC_PORT: '0', SIBYL_MODEL_REPOSITORY: `${x}:${y}`, SIBYL_LOG_FORMAT: 'json' };
    const { config } = loadConfig(['--http-port', '9100'], env);
    expect(config.httpPort).toBe(9100);
    expect(config.grpcPort).toBe(0);
    expect(config.modelRepositories).toEqual([x, y]);
    expect(config.logFormat).toBe('json');
  });

  it.each([
    [['--http-port', '70000'], /httpPort \(--http-port \/ SIBYL_HTTP_PORT\): port 70000 is above 65535/],
    [['--grpc-port', 'abc'], /grpcPort .*expected a non-negative integer, got 'abc'/],
    [['--log-verbose=-1'], /logVerbose .*expected a non-negative integer/],
    [['--strict-readiness', 'maybe'], /strictReadiness .*expected true or false, got 'maybe'/],
    [['--log-format', 'xml'], /logFormat .*expected one of text, json, got 'xml'/],
    [['--no-such-flag'], /invalid setting command line: .*no-such-flag/],
    [['--http-port'], /invalid setting command line/],
  ])('refuses %j naming the setting', (argv, message) => {
    expect(() => loadConfig(argv, {})).toThrow(message);
  });

  it('refuses a bad variable naming it', () => {
    expect(() => loadConfig([], { SIBYL_METRICS_PORT: '80x' })).toThrow(/SIBYL_METRICS_PORT/);
  });

  it('keeps its state in ./.sibyl/data and the registry in PGlite by default; the management API on 127.0.0.1', () => {
    const { config } = loadConfig([], {});
    expect(config.dataDir).toBe(join(process.cwd(), '.sibyl', 'data'));
    expect(config.databaseUrl).toBeUndefined();
    expect(config.managementAddress).toBe('127.0.0.1');
    expect(config.modelControlMode).toBe('none');
    expect(config.repositoryPollSecs).toBe(15);
  });

  it('reads the database from --database-url, SIBYL_DATABASE_URL, then DATABASE_URL; an empty flag means PGlite', () => {
    const a = 'postgres://a@127.0.0.1:5432/a';
    const b = 'postgresql://b@127.0.0.1/b';
    expect(loadConfig([], { DATABASE_URL: a }).config.databaseUrl).toBe(a);
    expect(loadConfig([], { DATABASE_URL: a, SIBYL_DATABASE_URL: b }).config.databaseUrl).toBe(b);
    expect(loadConfig(['--database-url', b], { DATABASE_URL: a }).config.databaseUrl).toBe(b);
    expect(loadConfig(['--database-url', ''], { DATABASE_URL: a }).config.databaseUrl).toBeUndefined();
  });

  it('takes a model control mode, a poll interval and a data directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sibyl-config-'));
    const { config } = loadConfig(['--model-control-mode', 'poll', '--repository-poll-secs', '2', '--data-dir', relative(process.cwd(), dir)], {
      SIBYL_MANAGEMENT_ADDRESS: '0.0.0.0',
    });
    expect(config).toMatchObject({ modelControlMode: 'poll', repositoryPollSecs: 2, dataDir: dir, managementAddress: '0.0.0.0' });
    expect(loadConfig([], { SIBYL_MODEL_CONTROL_MODE: 'explicit' }).config.modelControlMode).toBe('explicit');
  });

  it.each([
    [['--model-control-mode', 'always'], /modelControlMode .*expected one of none, poll, explicit, got 'always'/],
    [['--repository-poll-secs', '0'], /repositoryPollSecs .*expected at least 1, got 0/],
    [['--database-url', 'mysql://x@y/z'], /databaseUrl \(--database-url \/ SIBYL_DATABASE_URL\): expected a postgres:\/\/ or postgresql:\/\/ URL, got a mysql URL/],
    [['--database-url', 'not a url'], /databaseUrl .*expected a URL/],
    [['--data-dir', ''], /dataDir .*must not be empty/],
  ])('refuses %j naming the setting', (argv, message) => {
    expect(() => loadConfig(argv, {})).toThrow(message);
  });

  it('refuses a data directory that is a file', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sibyl-config-')), 'data');
    writeFileSync(file, '');
    expect(() => loadConfig(['--data-dir', file], {})).toThrow(/dataDir .*exists and is not a directory/);
  });

  it('refuses a bad DATABASE_URL naming the setting', () => {
    expect(() => loadConfig([], { DATABASE_URL: 'http://example.com' })).toThrow(/databaseUrl/);
  });

  it('documents every setting in --help', () => {
    const text = helpText();
    for (const s of Object.values(SETTINGS)) {
      expect(text).toContain(`--${s.flag}`);
      expect(text).toContain(s.env);
    }
  });
});
