import { hostname, totalmem } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadWorkerConfig, workerHelpText, workerSettings } from './config.js';

const DB = 'postgres://postgres@127.0.0.1:5432/sibyl';

describe('loadWorkerConfig', () => {
  it("uses tritonserver's ports, the runtime's pool, and the documented computed defaults", () => {
    const onnx = loadWorkerConfig('onnx', [], { DATABASE_URL: DB });
    expect(onnx).toMatchObject({ httpPort: 8000, grpcPort: 8001, metricsPort: 8002, pool: 'onnx', heartbeatMs: 1000, instanceTtlMs: 3000, exitTimeoutSecs: 30 });
    expect(onnx.advertiseHost).toBe(hostname());
    expect(onnx.modelCacheBytes).toBe(Math.floor(totalmem() / 4));
    expect(onnx.dataDir).toBe(join(process.cwd(), '.sibyl', 'worker-onnx'));
    expect(onnx.redisUrl).toBeUndefined();
    expect(onnx.artifactUrl).toBeUndefined();
    expect(onnx.databaseUrl).toBe(DB);
    expect(Object.isFrozen(onnx)).toBe(true);
    const tf = loadWorkerConfig('tf', [], { DATABASE_URL: DB });
    expect(tf.pool).toBe('tf');
    expect(tf.dataDir).toBe(join(process.cwd(), '.sibyl', 'worker-tf'));
  });

  it('reads the model cache settings: load threads, load timeout, pinned models (repeatable flag, comma-separated variable)', () => {
    expect(loadWorkerConfig('onnx', [], { DATABASE_URL: DB })).toMatchObject({ modelLoadThreadCount: 1, modelLoadTimeoutSecs: 60, pinModels: [] });
    const flags = loadWorkerConfig('onnx', ['--pin-model', 'iris', '--pin-model', 'text.v2', '--model-load-thread-count', '2', '--model-load-timeout-secs', '5'], { DATABASE_URL: DB });
    expect(flags).toMatchObject({ modelLoadThreadCount: 2, modelLoadTimeoutSecs: 5, pinModels: ['iris', 'text.v2'] });
    expect(loadWorkerConfig('onnx', [], { DATABASE_URL: DB, SIBYL_PIN_MODELS: 'a, b,,a' }).pinModels).toEqual(['a', 'b']);
    expect(() => loadWorkerConfig('onnx', ['--pin-model', '../etc'], { DATABASE_URL: DB })).toThrow(/--pin-model.*'\.\.\/etc' does not match/);
    expect(() => loadWorkerConfig('onnx', ['--model-load-thread-count', '0'], { DATABASE_URL: DB })).toThrow(/--model-load-thread-count/);
    expect(() => loadWorkerConfig('onnx', ['--model-cache-bytes', '0'], { DATABASE_URL: DB })).toThrow(/--model-cache-bytes/);
  });

  it('has no --model-repository: both workers serve the registry\'s models', () => {
    expect(() => loadWorkerConfig('tf', ['--model-repository', '/tmp'], { DATABASE_URL: DB })).toThrow(/model-repository/);
  });

  it('derives the data directory from the pool given; reads flags, SIBYL_* and the REDIS_URL fallback', () => {
    const config = loadWorkerConfig('onnx', ['--pool', 'onnx-gpu', '--model-cache-bytes', '2Gi', '--advertise-host', '127.0.0.1', '--artifact-url', 'http://127.0.0.1:8003'], {
      SIBYL_DATABASE_URL: DB,
      REDIS_URL: 'redis://127.0.0.1:6379',
      SIBYL_HTTP_PORT: '0',
    });
    expect(config).toMatchObject({
      pool: 'onnx-gpu',
      dataDir: join(process.cwd(), '.sibyl', 'worker-onnx-gpu'),
      modelCacheBytes: 2 * 2 ** 30,
      advertiseHost: '127.0.0.1',
      artifactUrl: 'http://127.0.0.1:8003',
      redisUrl: 'redis://127.0.0.1:6379',
      httpPort: 0,
    });
  });

  it.each([
    [[], {}, /databaseUrl \(--database-url \/ SIBYL_DATABASE_URL\): a value is required/],
    [['--database-url', 'mysql://h/d'], {}, /expected a postgres:\/\/ or postgresql:\/\/ URL/],
    [['--redis-url', 'http://h'], { DATABASE_URL: DB }, /redisUrl .*expected a redis:\/\/ or rediss:\/\/ URL/],
    [['--artifact-url', 'file:///tmp'], { DATABASE_URL: DB }, /artifactUrl .*expected a http:\/\/ or https:\/\/ URL, got a file URL/],
    [['--pool', 'ONNX'], { DATABASE_URL: DB }, /pool .*does not match/],
    [['--model-cache-bytes', 'lots'], { DATABASE_URL: DB }, /modelCacheBytes .*expected a number of bytes/],
    [['--heartbeat-ms', '2000'], { DATABASE_URL: DB }, /instanceTtlMs \(--instance-ttl-ms \/ SIBYL_INSTANCE_TTL_MS\): must be at least twice --heartbeat-ms \(2000\), got 3000/],
    [['--http-port', '99999'], { DATABASE_URL: DB }, /port 99999 is above 65535/],
  ])('refuses %j naming the setting', (argv, env, message) => {
    expect(() => loadWorkerConfig('onnx', argv, env)).toThrow(message);
  });

  it('documents every setting in --help, with the runtime in the usage line', () => {
    const text = workerHelpText('tf');
    expect(text).toContain('Usage: sibyl-worker-tf');
    for (const s of Object.values(workerSettings('tf'))) {
      expect(text).toContain(`--${s.flag}`);
      expect(text).toContain(s.env);
    }
    expect(text).toContain('default os.totalmem() / 4');
  });
});
