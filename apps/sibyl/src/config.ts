/**
 * The all-in-one server's settings: declared once with defaults and units, read from command-line
 * flags (tritonserver's names) and `SIBYL_*` environment variables, validated, then frozen.
 * A flag wins over its variable. Bad configuration stops start-up with a message naming the setting.
 */
import { statSync } from 'node:fs';
import { delimiter, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { defineError } from '@sibyl/protocol';

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

export const configInvalid = defineError(
  'SIBYL_CONFIG_FLAG_INVALID',
  'INVALID_ARGUMENT',
  'A command-line flag or SIBYL_* environment variable has a value the server cannot use.',
  (setting: string, why: string) => `invalid setting ${setting}: ${why}`,
);

interface Setting {
  flag: string;
  env: string;
  /** A second variable read when `env` is unset (DATABASE_URL, DESIGN.md §4). */
  fallbackEnv?: string;
  kind: 'port' | 'int' | 'bool' | 'string' | 'paths' | 'enum' | 'path' | 'url';
  choices?: readonly string[];
  /** Smallest value of an `int`. */
  min?: number;
  help: string;
  /** The raw default, parsed like any value; '' for none. */
  default: string;
  /** How --help and docs/configuration.md show the default, when not the raw value. */
  shownDefault?: string;
}

// apps/sibyl/{src,dist}/config.* -> the repository root.
const EXAMPLES = resolve(fileURLToPath(new URL('../../..', import.meta.url)), 'examples/models');

/** Every setting, in the order `--help` prints them. */
export const SETTINGS = {
  modelRepositories: { flag: 'model-repository', env: 'SIBYL_MODEL_REPOSITORY', kind: 'paths', help: `Model repository directory (repeatable; the variable takes a '${delimiter}'-separated list)`, default: EXAMPLES },
  httpAddress: { flag: 'http-address', env: 'SIBYL_HTTP_ADDRESS', kind: 'string', help: 'Address of the HTTP (REST) listener', default: '0.0.0.0' },
  httpPort: { flag: 'http-port', env: 'SIBYL_HTTP_PORT', kind: 'port', help: 'HTTP (REST) port; 0 picks a free port', default: '8000' },
  grpcAddress: { flag: 'grpc-address', env: 'SIBYL_GRPC_ADDRESS', kind: 'string', help: 'Address of the gRPC listener', default: '0.0.0.0' },
  grpcPort: { flag: 'grpc-port', env: 'SIBYL_GRPC_PORT', kind: 'port', help: 'gRPC port; 0 picks a free port', default: '8001' },
  metricsAddress: { flag: 'metrics-address', env: 'SIBYL_METRICS_ADDRESS', kind: 'string', help: 'Address of the Prometheus metrics listener', default: '0.0.0.0' },
  metricsPort: { flag: 'metrics-port', env: 'SIBYL_METRICS_PORT', kind: 'port', help: 'Prometheus metrics port (GET /metrics); 0 picks a free port', default: '8002' },
  managementAddress: { flag: 'management-address', env: 'SIBYL_MANAGEMENT_ADDRESS', kind: 'string', help: 'Address of the management API listener', default: '127.0.0.1' },
  managementPort: { flag: 'management-port', env: 'SIBYL_MANAGEMENT_PORT', kind: 'port', help: 'Management API port (registry, uploads, releases, repository load/unload); 0 picks a free port', default: '8003' },
  dataDir: { flag: 'data-dir', env: 'SIBYL_DATA_DIR', kind: 'path', help: 'Directory of the embedded registry database and the artifact store', default: './.sibyl/data' },
  databaseUrl: { flag: 'database-url', env: 'SIBYL_DATABASE_URL', fallbackEnv: 'DATABASE_URL', kind: 'url', help: 'PostgreSQL URL of the registry (also read from DATABASE_URL); unset: embedded PGlite in --data-dir', default: '', shownDefault: 'unset' },
  modelControlMode: { flag: 'model-control-mode', env: 'SIBYL_MODEL_CONTROL_MODE', kind: 'enum', choices: ['none', 'poll', 'explicit'], help: 'none: import the repositories at start; poll: also every --repository-poll-secs; explicit: serve only models loaded through the repository API', default: 'none' },
  repositoryPollSecs: { flag: 'repository-poll-secs', env: 'SIBYL_REPOSITORY_POLL_SECS', kind: 'int', min: 1, help: 'Seconds between two imports of the repositories in poll mode', default: '15' },
  allowHttp: { flag: 'allow-http', env: 'SIBYL_ALLOW_HTTP', kind: 'bool', help: 'Serve the REST API', default: 'true' },
  allowGrpc: { flag: 'allow-grpc', env: 'SIBYL_ALLOW_GRPC', kind: 'bool', help: 'Serve the gRPC API', default: 'true' },
  allowMetrics: { flag: 'allow-metrics', env: 'SIBYL_ALLOW_METRICS', kind: 'bool', help: 'Serve Prometheus metrics', default: 'true' },
  logVerbose: { flag: 'log-verbose', env: 'SIBYL_LOG_VERBOSE', kind: 'int', help: 'Verbose logging level; 0 is off', default: '0' },
  logFormat: { flag: 'log-format', env: 'SIBYL_LOG_FORMAT', kind: 'enum', choices: ['text', 'json'], help: 'Log line format: text or json', default: 'text' },
  strictReadiness: { flag: 'strict-readiness', env: 'SIBYL_STRICT_READINESS', kind: 'bool', help: 'Ready only when every model is ready', default: 'true' },
  exitTimeoutSecs: { flag: 'exit-timeout-secs', env: 'SIBYL_EXIT_TIMEOUT_SECS', kind: 'int', help: 'Seconds to wait for in-flight requests on shutdown', default: '30' },
  maxRequestBytes: { flag: 'max-request-bytes', env: 'SIBYL_MAX_REQUEST_BYTES', kind: 'int', help: 'Largest request body or gRPC message, bytes', default: String(64 * 1024 * 1024) },
} as const satisfies Record<keyof SibylConfig, Setting>;

function parseValue(name: string, setting: Setting, raw: string | string[]): unknown {
  const where = `${name} (--${setting.flag} / ${setting.env})`;
  const one = Array.isArray(raw) ? raw[raw.length - 1]! : raw;
  switch (setting.kind) {
    case 'paths': {
      const list = Array.isArray(raw) ? raw : raw.split(delimiter);
      const paths = list.map((p) => p.trim()).filter((p) => p.length > 0);
      if (paths.length === 0) throw configInvalid(where, 'expected at least one directory');
      const resolved = paths.map((p) => resolve(p));
      for (const dir of resolved) {
        let isDirectory = false;
        try {
          isDirectory = statSync(dir).isDirectory();
        } catch (err) {
          throw configInvalid(where, `cannot read ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        }
        if (!isDirectory) throw configInvalid(where, `${dir} is not a directory`);
      }
      return Object.freeze(resolved);
    }
    case 'port':
    case 'int': {
      if (!/^\d+$/.test(one.trim())) throw configInvalid(where, `expected a non-negative integer, got '${one}'`);
      const n = Number(one.trim());
      if (setting.kind === 'port' && n > 65535) throw configInvalid(where, `port ${n} is above 65535`);
      if (!Number.isSafeInteger(n)) throw configInvalid(where, `${one} is too large`);
      if (setting.min !== undefined && n < setting.min) throw configInvalid(where, `expected at least ${setting.min}, got ${n}`);
      return n;
    }
    case 'path': {
      if (one.trim() === '') throw configInvalid(where, 'must not be empty');
      const dir = resolve(one.trim());
      let isDirectory = true;
      try {
        isDirectory = statSync(dir).isDirectory();
      } catch {
        // Created at start-up.
      }
      if (!isDirectory) throw configInvalid(where, `${dir} exists and is not a directory`);
      return dir;
    }
    case 'url': {
      const text = one.trim();
      if (text === '') return undefined;
      let url: URL;
      try {
        url = new URL(text);
      } catch {
        throw configInvalid(where, 'expected a URL such as postgres://user@host:5432/database');
      }
      if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
        throw configInvalid(where, `expected a postgres:// or postgresql:// URL, got a ${url.protocol.replace(/:$/, '')} URL`);
      }
      return text;
    }
    case 'bool': {
      const v = one.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(v)) return true;
      if (['false', '0', 'no', 'off'].includes(v)) return false;
      throw configInvalid(where, `expected true or false, got '${one}'`);
    }
    case 'enum': {
      if (!setting.choices!.includes(one)) throw configInvalid(where, `expected one of ${setting.choices!.join(', ')}, got '${one}'`);
      return one;
    }
    case 'string':
      if (one.trim() === '') throw configInvalid(where, 'must not be empty');
      return one.trim();
  }
}

export interface ParsedCommandLine {
  config: SibylConfig;
  help: boolean;
}

/**
 * Reads flags then environment then defaults. Throws SIBYL_CONFIG_FLAG_INVALID naming the setting
 * for an unknown flag, a missing value or a value of the wrong kind.
 */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ParsedCommandLine {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = { help: { type: 'boolean' } };
  for (const s of Object.values(SETTINGS) as Setting[]) {
    options[s.flag] = { type: 'string', multiple: s.kind === 'paths' };
  }
  let values: Record<string, string | boolean | Array<string | boolean> | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }));
  } catch (err) {
    throw configInvalid('command line', (err as Error).message);
  }
  const out: Record<string, unknown> = {};
  for (const [name, setting] of Object.entries(SETTINGS) as Array<[string, Setting]>) {
    const fromFlag = values[setting.flag] as string | string[] | undefined;
    const given = (name: string | undefined) => (name === undefined || env[name] === undefined || env[name] === '' ? undefined : env[name]);
    const fromEnv = given(setting.env) ?? given(setting.fallbackEnv);
    const raw = fromFlag ?? fromEnv ?? setting.default;
    out[name] = parseValue(name, setting, raw);
  }
  return { config: Object.freeze(out) as unknown as SibylConfig, help: values.help === true };
}

export function helpText(): string {
  const lines = ['Usage: npm start -- [flags]   (or: sibyl-server [flags])', '', 'Flags (each also read from its environment variable):'];
  for (const s of Object.values(SETTINGS) as Setting[]) {
    lines.push(`  --${s.flag} <value>`.padEnd(34) + `${s.help}`);
    const envs = s.fallbackEnv === undefined ? s.env : `${s.env} or ${s.fallbackEnv}`;
    lines.push(' '.repeat(34) + `env ${envs}, default ${s.shownDefault ?? s.default}`);
  }
  lines.push('  --help'.padEnd(34) + 'Print this text');
  return lines.join('\n');
}
