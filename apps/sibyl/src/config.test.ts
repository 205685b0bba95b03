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

  it('documents every setting in --help', () => {
    const text = helpText();
    for (const s of Object.values(SETTINGS)) {
      expect(text).toContain(`--${s.flag}`);
      expect(text).toContain(s.env);
    }
  });
});
