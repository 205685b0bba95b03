/**
 * The worker's settings (worker-onnx, worker-tf): declared once with defaults and units, read from
 * flags and `SIBYL_*` variables by @sibyl/settings, validated, frozen. The two workers share the
 * table; only the default pool (and so the default data directory) differs.
 */
import { hostname, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { COMMON_SETTINGS, configInvalid, defineSettings, readSettings, renderHelp, settingLabel, type Settings } from '@sibyl/settings';

/** Which runtime a worker hosts: the ONNX runtime, or TensorFlow.js. */
export type WorkerRuntime = 'onnx' | 'tf';

/** Pool names as the registry's pools: lower case, digits, `-` and `_`. */
const POOL = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** Model names (DESIGN.md §5). */
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** The worker's settings table; `runtime` picks the default pool. In the order `--help` prints them. */
export function workerSettings(runtime: WorkerRuntime) {
  return defineSettings({
    httpAddress: COMMON_SETTINGS.httpAddress,
    httpPort: COMMON_SETTINGS.httpPort,
    grpcAddress: COMMON_SETTINGS.grpcAddress,
    grpcPort: COMMON_SETTINGS.grpcPort,
    metricsAddress: COMMON_SETTINGS.metricsAddress,
    metricsPort: COMMON_SETTINGS.metricsPort,
    pool: { flag: 'pool', env: 'SIBYL_POOL', kind: 'string', pattern: POOL, help: 'Backend pool this worker serves and registers in', default: runtime },
    advertiseHost: {
      flag: 'advertise-host',
      env: 'SIBYL_ADVERTISE_HOST',
      kind: 'string',
      help: 'Host name or address other processes reach this worker at (registered with its ports)',
      default: hostname(),
      shownDefault: 'os.hostname()',
    },
    artifactUrl: {
      flag: 'artifact-url',
      env: 'SIBYL_ARTIFACT_URL',
      kind: 'url',
      schemes: ['http:', 'https:'],
      example: 'http://management:8003',
      help: 'Base URL of the management API to fetch model files from when the local cache lacks them',
      default: '',
      shownDefault: 'unset',
    },
    dataDir: {
      flag: 'data-dir',
      env: 'SIBYL_DATA_DIR',
      kind: 'path',
      optional: true,
      help: 'Local cache of model files (the artifact store of this worker)',
      default: '',
      shownDefault: './.sibyl/worker-<pool>',
    },
    databaseUrl: { ...COMMON_SETTINGS.databaseUrl, required: true, help: 'PostgreSQL URL of the registry (also read from DATABASE_URL); required, a worker never uses PGlite', shownDefault: 'none (required)' },
    redisUrl: COMMON_SETTINGS.redisUrl,
    redisKeyPrefix: COMMON_SETTINGS.redisKeyPrefix,
    modelCacheBytes: {
      flag: 'model-cache-bytes',
      env: 'SIBYL_MODEL_CACHE_BYTES',
      kind: 'bytes',
      min: 1,
      help: 'Memory budget of the model cache: idle models are evicted, least recently used first, to keep the models loaded within it; also reported to placement, bytes (512Mi and 4Gi are accepted)',
      default: String(Math.floor(totalmem() / 4)),
      shownDefault: 'os.totalmem() / 4',
    },
    modelLoadThreadCount: {
      flag: 'model-load-thread-count',
      env: 'SIBYL_MODEL_LOAD_THREAD_COUNT',
      kind: 'int',
      min: 1,
      help: 'Model loads running at the same time; above 1 loads overlap and each is charged the memory the others grew by too',
      default: '1',
    },
    modelLoadTimeoutSecs: {
      flag: 'model-load-timeout-secs',
      env: 'SIBYL_MODEL_LOAD_TIMEOUT_SECS',
      kind: 'int',
      min: 1,
      help: 'Seconds a model load may take before the requests waiting for it fail UNAVAILABLE',
      default: '60',
    },
    pinModels: {
      flag: 'pin-model',
      env: 'SIBYL_PIN_MODELS',
      kind: 'names',
      pattern: MODEL_NAME,
      help: 'A model the model cache never evicts once loaded (repeatable; the variable takes a comma-separated list)',
      default: '',
      shownDefault: 'none',
    },
    heartbeatMs: { flag: 'heartbeat-ms', env: 'SIBYL_HEARTBEAT_MS', kind: 'int', min: 1, help: 'Milliseconds between two heartbeats to the coordination store', default: '1000' },
    instanceTtlMs: {
      flag: 'instance-ttl-ms',
      env: 'SIBYL_INSTANCE_TTL_MS',
      kind: 'int',
      min: 1,
      help: 'Milliseconds the worker stays registered without a heartbeat (at least twice --heartbeat-ms)',
      default: '3000',
    },
    exitTimeoutSecs: COMMON_SETTINGS.exitTimeoutSecs,
    logVerbose: COMMON_SETTINGS.logVerbose,
    logFormat: COMMON_SETTINGS.logFormat,
    maxRequestBytes: COMMON_SETTINGS.maxRequestBytes,
  });
}

export type WorkerSettingsTable = ReturnType<typeof workerSettings>;

/** The worker's configuration: the settings as read, with the data directory's default applied. */
export type WorkerConfig = Omit<Settings<WorkerSettingsTable>, 'dataDir'> & {
  /** Local artifact cache. Default ./.sibyl/worker-<pool>, resolved. */
  readonly dataDir: string;
};

/**
 * Reads the worker's settings. Throws SIBYL_CONFIG_FLAG_INVALID naming the setting: every error
 * `readSettings` finds, and a TTL a heartbeat cannot keep alive.
 */
export function loadWorkerConfig(runtime: WorkerRuntime, argv: readonly string[], env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const table = workerSettings(runtime);
  const read = readSettings(table, argv, env);
  if (read.instanceTtlMs < 2 * read.heartbeatMs) {
    throw configInvalid(settingLabel('instanceTtlMs', table.instanceTtlMs), `must be at least twice --heartbeat-ms (${read.heartbeatMs}), got ${read.instanceTtlMs}`);
  }
  return Object.freeze({ ...read, dataDir: read.dataDir ?? resolve(`.sibyl/worker-${read.pool}`) });
}

export function workerHelpText(runtime: WorkerRuntime): string {
  return renderHelp(workerSettings(runtime), `Usage: sibyl-worker-${runtime} [flags]`);
}
