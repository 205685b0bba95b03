import { describe, expect, it } from 'vitest';
import { COMMON_SETTINGS } from './common-settings.js';
import { renderHelp } from './help-text.js';
import { defineSettings, helpRequested, readSettings } from './read-settings.js';

const TABLE = defineSettings({
  port: { flag: 'port', env: 'T_PORT', kind: 'port', help: 'A port', default: '8000' },
  cache: { flag: 'cache-bytes', env: 'T_CACHE_BYTES', kind: 'bytes', min: 1, help: 'Cache size', default: '1Gi' },
  router: { flag: 'router', env: 'T_ROUTER', kind: 'address', help: 'Router host:port', default: '127.0.0.1:8010' },
  artifacts: { flag: 'artifact-url', env: 'T_ARTIFACT_URL', kind: 'url', schemes: ['http:', 'https:'], example: 'http://host:8003', help: 'File server', default: '' },
  db: { ...COMMON_SETTINGS.databaseUrl, required: true, help: 'PostgreSQL (required)' },
  redis: COMMON_SETTINGS.redisUrl,
  pool: { flag: 'pool', env: 'T_POOL', kind: 'string', pattern: /^[a-z][a-z0-9-]*$/, help: 'Pool', default: 'onnx' },
  cacheDir: { flag: 'cache-dir', env: 'T_CACHE_DIR', kind: 'path', optional: true, help: 'Cache dir', default: '' },
  mode: { flag: 'mode', env: 'T_MODE', kind: 'enum', choices: ['a', 'b'], help: 'Mode', default: 'a' },
  on: { flag: 'on', env: 'T_ON', kind: 'bool', help: 'Switch', default: 'false' },
});

const DB = 'postgres://u@127.0.0.1:5432/db';

describe('readSettings', () => {
  it('reads defaults into a frozen object typed by the table', () => {
    const s = readSettings(TABLE, [], { DATABASE_URL: DB });
    expect(s).toEqual({
      port: 8000,
      cache: 2 ** 30,
      router: '127.0.0.1:8010',
      artifacts: undefined,
      db: DB,
      redis: undefined,
      pool: 'onnx',
      cacheDir: undefined,
      mode: 'a',
      on: false,
    });
    expect(Object.isFrozen(s)).toBe(true);
    // Compile-time types: these assignments are checked by tsc.
    const n: number = s.cache;
    const m: 'a' | 'b' = s.mode;
    const r: string | undefined = s.redis;
    const d: string = s.db;
    expect([n, m, r, d]).toHaveLength(4);
  });

  it('a flag wins over its variable, which wins over the fallback variable', () => {
    const env = { DATABASE_URL: DB, SIBYL_DATABASE_URL: 'postgresql://x@h/y', REDIS_URL: 'redis://r:6379', T_PORT: '9000' };
    expect(readSettings(TABLE, [], env)).toMatchObject({ db: 'postgresql://x@h/y', redis: 'redis://r:6379', port: 9000 });
    expect(readSettings(TABLE, ['--port', '9100', '--redis-url=rediss://s:6380'], env)).toMatchObject({ port: 9100, redis: 'rediss://s:6380' });
  });

  it.each([
    ['512Mi', 512 * 2 ** 20],
    ['2Gi', 2 * 2 ** 30],
    ['64M', 64e6],
    ['3 KiB', 3072],
    ['123', 123],
    ['10b', 10],
  ])('reads %s as %i bytes', (raw, bytes) => {
    expect(readSettings(TABLE, ['--cache-bytes', raw], { DATABASE_URL: DB }).cache).toBe(bytes);
  });

  it.each([
    [['--cache-bytes', '1.5Gi'], /cache \(--cache-bytes \/ T_CACHE_BYTES\): expected a number of bytes such as 67108864, 512Mi or 2Gi, got '1.5Gi'/],
    [['--cache-bytes', '2Qi'], /expected a number of bytes/],
    [['--cache-bytes', '0'], /cache .*expected at least 1, got 0/],
    [['--cache-bytes', '99999999Ti'], /too large/],
    [['--router', 'localhost'], /router \(--router \/ T_ROUTER\): expected host:port, got 'localhost'/],
    [['--router', 'h:70000'], /port 70000 is above 65535/],
    [['--artifact-url', 'ftp://h/x'], /artifacts .*expected a http:\/\/ or https:\/\/ URL, got a ftp URL/],
    [['--artifact-url', 'nope'], /artifacts .*expected a URL such as http:\/\/host:8003/],
    [['--redis-url', 'http://h'], /redis \(--redis-url \/ SIBYL_REDIS_URL\): expected a redis:\/\/ or rediss:\/\/ URL, got a http URL/],
    [['--pool', 'Bad Pool'], /pool .*'Bad Pool' does not match/],
    [['--mode', 'c'], /mode .*expected one of a, b, got 'c'/],
    [['--on', 'perhaps'], /on .*expected true or false/],
    [['--port', '-1'], /invalid setting command line/],
    [['--nope'], /invalid setting command line: .*nope/],
  ])('refuses %j naming the setting', (argv, message) => {
    expect(() => readSettings(TABLE, argv, { DATABASE_URL: DB })).toThrow(message);
  });

  it('accepts address forms: a name, an IPv4 and a bracketed IPv6 host', () => {
    expect(readSettings(TABLE, ['--router', 'router.svc:8010'], { DATABASE_URL: DB }).router).toBe('router.svc:8010');
    expect(readSettings(TABLE, ['--router', '[::1]:0'], { DATABASE_URL: DB }).router).toBe('[::1]:0');
  });

  it('a required setting left unset stops start-up, naming it and both variables', () => {
    expect(() => readSettings(TABLE, [], {})).toThrow(/invalid setting db \(--database-url \/ SIBYL_DATABASE_URL\): a value is required/);
    expect(() => readSettings(TABLE, ['--database-url', ''], { DATABASE_URL: DB })).toThrow(/a value is required/);
  });

  it('an optional setting given empty is unset; an empty variable counts as unset', () => {
    const s = readSettings(TABLE, ['--cache-dir', ''], { DATABASE_URL: DB, T_PORT: '' });
    expect(s.cacheDir).toBeUndefined();
    expect(s.port).toBe(8000);
  });

  it('accepts --help without reading it as a setting', () => {
    expect(helpRequested(['--port', '1', '--help'])).toBe(true);
    expect(helpRequested(['--port', '1'])).toBe(false);
    expect(readSettings(TABLE, ['--help'], { DATABASE_URL: DB }).port).toBe(8000);
  });
});

describe('defineSettings', () => {
  it('refuses a flag or a variable declared twice, and a default of the wrong kind', () => {
    expect(() => defineSettings({ a: COMMON_SETTINGS.httpPort, b: { ...COMMON_SETTINGS.grpcPort, flag: 'http-port' } })).toThrow(/--http-port \(b\) is declared twice/);
    expect(() => defineSettings({ a: COMMON_SETTINGS.httpPort, b: { ...COMMON_SETTINGS.grpcPort, env: 'SIBYL_HTTP_PORT' } })).toThrow(/SIBYL_HTTP_PORT \(b\) is declared twice/);
    expect(() => defineSettings({ a: { ...COMMON_SETTINGS.httpPort, default: 'eighty' } })).toThrow(/expected a non-negative integer/);
    expect(() => defineSettings({ help: { ...COMMON_SETTINGS.httpPort, flag: 'help' } })).toThrow(/--help/);
  });
});

describe('renderHelp', () => {
  it('lists every flag with its variables and shown default', () => {
    const text = renderHelp(TABLE, 'Usage: test [flags]');
    expect(text.split('\n')[0]).toBe('Usage: test [flags]');
    for (const s of Object.values(TABLE)) {
      expect(text).toContain(`--${s.flag} <value>`);
      expect(text).toContain(s.env);
    }
    expect(text).toContain('env SIBYL_DATABASE_URL or DATABASE_URL, default unset');
    expect(text).toContain('env T_CACHE_BYTES, default 1Gi');
    expect(text).toContain('--help');
  });
});
