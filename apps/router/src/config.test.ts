import { describe, expect, it } from 'vitest';
import { loadRouterConfig, ROUTER_SETTINGS, routerHelp } from './config.js';

const DB = 'postgres://postgres@127.0.0.1:5432/sibyl';

describe('loadRouterConfig', () => {
  it('listens for gateways on 8004 and reaches workers over HTTP by default', () => {
    const config = loadRouterConfig([], { DATABASE_URL: DB });
    expect(config).toEqual({
      grpcAddress: '0.0.0.0',
      grpcPort: 8004,
      metricsAddress: '0.0.0.0',
      metricsPort: 8002,
      allowMetrics: true,
      databaseUrl: DB,
      redisUrl: undefined,
      redisKeyPrefix: 'sibyl:',
      transport: 'http',
      logVerbose: 0,
      logFormat: 'text',
      exitTimeoutSecs: 30,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads SIBYL_* variables and the DATABASE_URL and REDIS_URL fallbacks; a flag wins over its variable', () => {
    const env = { DATABASE_URL: DB, REDIS_URL: 'redis://127.0.0.1:6379', SIBYL_WORKER_TRANSPORT: 'grpc', SIBYL_GRPC_PORT: '9004' };
    expect(loadRouterConfig([], env)).toMatchObject({ databaseUrl: DB, redisUrl: 'redis://127.0.0.1:6379', transport: 'grpc', grpcPort: 9004 });
    expect(loadRouterConfig(['--worker-transport', 'http', '--redis-url', 'rediss://r:6380'], { ...env, SIBYL_REDIS_URL: 'redis://x:1' })).toMatchObject({
      transport: 'http',
      redisUrl: 'rediss://r:6380',
    });
  });

  it.each([
    [[], {}, /databaseUrl \(--database-url \/ SIBYL_DATABASE_URL\): a value is required/],
    [['--database-url', 'mysql://h/d'], {}, /databaseUrl .*expected a postgres:\/\/ or postgresql:\/\/ URL/],
    [['--worker-transport', 'tcp'], { DATABASE_URL: DB }, /transport \(--worker-transport \/ SIBYL_WORKER_TRANSPORT\): expected one of http, grpc, got 'tcp'/],
    [[], { DATABASE_URL: DB, SIBYL_WORKER_TRANSPORT: 'GRPC' }, /transport .*expected one of http, grpc/],
    [['--redis-url', 'http://h'], { DATABASE_URL: DB }, /redisUrl .*expected a redis:\/\/ or rediss:\/\/ URL/],
    [['--grpc-port', '65536'], { DATABASE_URL: DB }, /grpcPort .*port 65536 is above 65535/],
    [['--http-port', '8000'], { DATABASE_URL: DB }, /invalid setting command line: .*http-port/],
  ])('refuses %j %j naming the setting', (argv, env, message) => {
    expect(() => loadRouterConfig(argv, env)).toThrow(message);
  });

  it('documents every setting in --help', () => {
    const text = routerHelp();
    expect(text).toMatch(/^Usage: sibyl router \[flags\]/);
    for (const s of Object.values(ROUTER_SETTINGS)) {
      expect(text).toContain(`--${s.flag} <value>`);
      expect(text).toContain(s.env);
    }
  });
});
