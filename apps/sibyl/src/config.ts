/**
 * The all-in-one server's settings: declared once with defaults and units, read from command-line
 * flags (tritonserver's names) and `SIBYL_*` environment variables, validated, then frozen
 * (@sibyl/settings does the reading). A flag wins over its variable. Bad configuration stops
 * start-up with a message naming the setting.
 */
import { delimiter, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMMON_SETTINGS, defineSettings, helpRequested, readSettings, renderHelp } from '@sibyl/settings';

export { configInvalid } from '@sibyl/settings';

export interface SibylConfig {
  /** Model repository directories, Triton layout. Default: the repository's examples/models. */
  readonly modelRepositories: readonly string[];
  /** Address the HTTP, gRPC and metrics listeners bind. Default 0.0.0.0 (all interfaces), as tritonserver. */
  readonly httpAddress: string;
  readonly grpcAddress: string;
  readonly metricsAddress: string;
  /** TCP ports; 0 picks a free port. Defaults 8000, 8001, 8002. */
  readonly httpPort: number;
  readonly grpcPort: number;
  readonly metricsPort: number;
  /** Management API (model registry, uploads, releases, Triton's repository extension). Default 8003. */
  readonly managementPort: number;
  /** Address the management API binds. Default 127.0.0.1: only this host, unless told otherwise. */
  readonly managementAddress: string;
  /** Where the embedded registry database (PGlite) and the artifact store live. Default ./.sibyl/data. */
  readonly dataDir: string;
  /** PostgreSQL URL of the registry; undefined: PGlite in dataDir. From --database-url, SIBYL_DATABASE_URL or DATABASE_URL. */
  readonly databaseUrl: string | undefined;
  /** tritonserver's --model-control-mode: none (import the repositories at start), poll (and every repositoryPollSecs), explicit (serve only what is loaded through the repository API). Default none. */
  readonly modelControlMode: 'none' | 'poll' | 'explicit';
  /** In poll mode, seconds between two imports of the repositories. Default 15. */
  readonly repositoryPollSecs: number;
  readonly allowHttp: boolean;
  readonly allowGrpc: boolean;
  readonly allowMetrics: boolean;
  /** Triton's --log-verbose: 0 logs info and up, 1 or more adds debug lines. Default 0. */
  readonly logVerbose: number;
  /** `text` (one readable line per event) or `json` (one JSON object per line, for log collectors). Default text. */
  readonly logFormat: 'text' | 'json';
  /** Server ready only when every model is ready (tritonserver's default). Default true. */
  readonly strictReadiness: boolean;
  /** Longest wait for in-flight requests to finish on shutdown, seconds. Default 30. */
  readonly exitTimeoutSecs: number;
  /** Largest request body or gRPC message accepted, bytes. Default 64 MiB. */
  readonly maxRequestBytes: number;
}

// apps/sibyl/{src,dist}/config.* -> the repository root.
const EXAMPLES = resolve(fileURLToPath(new URL('../../..', import.meta.url)), 'examples/models');

/** Every setting, in the order `--help` prints them. */
export const SETTINGS = defineSettings({
  modelRepositories: { flag: 'model-repository', env: 'SIBYL_MODEL_REPOSITORY', kind: 'paths', help: `Model repository directory (repeatable; the variable takes a '${delimiter}'-separated list)`, default: EXAMPLES },
  httpAddress: COMMON_SETTINGS.httpAddress,
  httpPort: COMMON_SETTINGS.httpPort,
  grpcAddress: COMMON_SETTINGS.grpcAddress,
  grpcPort: COMMON_SETTINGS.grpcPort,
  metricsAddress: COMMON_SETTINGS.metricsAddress,
  metricsPort: COMMON_SETTINGS.metricsPort,
  managementAddress: { flag: 'management-address', env: 'SIBYL_MANAGEMENT_ADDRESS', kind: 'string', help: 'Address of the management API listener', default: '127.0.0.1' },
  managementPort: { flag: 'management-port', env: 'SIBYL_MANAGEMENT_PORT', kind: 'port', help: 'Management API port (registry, uploads, releases, repository load/unload); 0 picks a free port', default: '8003' },
  dataDir: { flag: 'data-dir', env: 'SIBYL_DATA_DIR', kind: 'path', help: 'Directory of the embedded registry database and the artifact store', default: './.sibyl/data' },
  databaseUrl: { ...COMMON_SETTINGS.databaseUrl, help: 'PostgreSQL URL of the registry (also read from DATABASE_URL); unset: embedded PGlite in --data-dir' },
  modelControlMode: { flag: 'model-control-mode', env: 'SIBYL_MODEL_CONTROL_MODE', kind: 'enum', choices: ['none', 'poll', 'explicit'], help: 'none: import the repositories at start; poll: also every --repository-poll-secs; explicit: serve only models loaded through the repository API', default: 'none' },
  repositoryPollSecs: { flag: 'repository-poll-secs', env: 'SIBYL_REPOSITORY_POLL_SECS', kind: 'int', min: 1, help: 'Seconds between two imports of the repositories in poll mode', default: '15' },
  allowHttp: { flag: 'allow-http', env: 'SIBYL_ALLOW_HTTP', kind: 'bool', help: 'Serve the REST API', default: 'true' },
  allowGrpc: { flag: 'allow-grpc', env: 'SIBYL_ALLOW_GRPC', kind: 'bool', help: 'Serve the gRPC API', default: 'true' },
  allowMetrics: { flag: 'allow-metrics', env: 'SIBYL_ALLOW_METRICS', kind: 'bool', help: 'Serve Prometheus metrics', default: 'true' },
  logVerbose: COMMON_SETTINGS.logVerbose,
  logFormat: COMMON_SETTINGS.logFormat,
  strictReadiness: { flag: 'strict-readiness', env: 'SIBYL_STRICT_READINESS', kind: 'bool', help: 'Ready only when every model is ready', default: 'true' },
  exitTimeoutSecs: COMMON_SETTINGS.exitTimeoutSecs,
  maxRequestBytes: COMMON_SETTINGS.maxRequestBytes,
});

export interface ParsedCommandLine {
  config: SibylConfig;
  help: boolean;
}

/**
 * Reads flags then environment then defaults. Throws SIBYL_CONFIG_FLAG_INVALID naming the setting
 * for an unknown flag, a missing value or a value of the wrong kind.
 */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ParsedCommandLine {
  // Typed: the table must read to every field of SibylConfig, with its type.
  const config: SibylConfig = readSettings(SETTINGS, argv, env);
  return { config, help: helpRequested(argv) };
}

export function helpText(): string {
  return renderHelp(SETTINGS, 'Usage: npm start -- [flags]   (or: sibyl-server [flags])');
}
