/**
 * Declarations every app shares, so a flag means the same everywhere (tritonserver's names and
 * ports where it has them). An app composes its table from these, overriding `help` or `default`
 * where its meaning differs: `{ ...COMMON_SETTINGS.databaseUrl, help: '...' }`.
 */
import type { SettingDeclaration } from './setting.js';

const MiB = 1024 * 1024;

export const COMMON_SETTINGS = {
  httpAddress: { flag: 'http-address', env: 'SIBYL_HTTP_ADDRESS', kind: 'string', help: 'Address of the HTTP (REST) listener', default: '0.0.0.0' },
  httpPort: { flag: 'http-port', env: 'SIBYL_HTTP_PORT', kind: 'port', help: 'HTTP (REST) port; 0 picks a free port', default: '8000' },
  grpcAddress: { flag: 'grpc-address', env: 'SIBYL_GRPC_ADDRESS', kind: 'string', help: 'Address of the gRPC listener', default: '0.0.0.0' },
  grpcPort: { flag: 'grpc-port', env: 'SIBYL_GRPC_PORT', kind: 'port', help: 'gRPC port; 0 picks a free port', default: '8001' },
  metricsAddress: { flag: 'metrics-address', env: 'SIBYL_METRICS_ADDRESS', kind: 'string', help: 'Address of the Prometheus metrics listener', default: '0.0.0.0' },
  metricsPort: { flag: 'metrics-port', env: 'SIBYL_METRICS_PORT', kind: 'port', help: 'Prometheus metrics port (GET /metrics); 0 picks a free port', default: '8002' },
  /** PostgreSQL of the registry; DATABASE_URL is read when SIBYL_DATABASE_URL is unset. Unset: the app's embedded default, if it has one. */
  databaseUrl: {
    flag: 'database-url',
    env: 'SIBYL_DATABASE_URL',
    fallbackEnv: 'DATABASE_URL',
    kind: 'url',
    schemes: ['postgres:', 'postgresql:'],
    example: 'postgres://user@host:5432/database',
    help: 'PostgreSQL URL of the registry (also read from DATABASE_URL)',
    default: '',
    shownDefault: 'unset',
  },
  /** Redis of the coordination (live instances, pub/sub); REDIS_URL is read when SIBYL_REDIS_URL is unset. Unset: in-process coordination. */
  redisUrl: {
    flag: 'redis-url',
    env: 'SIBYL_REDIS_URL',
    fallbackEnv: 'REDIS_URL',
    kind: 'url',
    schemes: ['redis:', 'rediss:'],
    example: 'redis://host:6379',
    help: 'Redis URL of the coordination (also read from REDIS_URL); unset: in-process coordination, for one process only',
    default: '',
    shownDefault: 'unset',
  },
  /** Put before every Redis key and channel, so several clusters (or tests) can share one Redis. */
  redisKeyPrefix: { flag: 'redis-key-prefix', env: 'SIBYL_REDIS_KEY_PREFIX', kind: 'string', help: 'Prefix of every Redis key and channel; processes of one cluster must agree on it', default: 'sibyl:' },
  logVerbose: { flag: 'log-verbose', env: 'SIBYL_LOG_VERBOSE', kind: 'int', help: 'Verbose logging level; 0 is off', default: '0' },
  logFormat: { flag: 'log-format', env: 'SIBYL_LOG_FORMAT', kind: 'enum', choices: ['text', 'json'], help: 'Log line format: text or json', default: 'text' },
  exitTimeoutSecs: { flag: 'exit-timeout-secs', env: 'SIBYL_EXIT_TIMEOUT_SECS', kind: 'int', help: 'Seconds to wait for in-flight requests on shutdown', default: '30' },
  maxRequestBytes: { flag: 'max-request-bytes', env: 'SIBYL_MAX_REQUEST_BYTES', kind: 'bytes', help: 'Largest request body or gRPC message, bytes (64Mi and 1Gi are accepted)', default: String(64 * MiB) },
} as const satisfies Record<string, SettingDeclaration>;
