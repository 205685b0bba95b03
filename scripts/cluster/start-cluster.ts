/**
 * `npm run start:cluster`: the split topology on this machine, from sources. Management (importing
 * examples/models), one router, two ONNX workers, one TF worker and one gateway, each its own
 * process on the usual ports, their log lines prefixed with their names. Ctrl-C stops them all in
 * reverse order and exits 0.
 *
 * Needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL): the split apps share state through them.
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { startCluster, type Cluster, type WorkerSpec } from './cluster.js';
import { REPO_ROOT } from './managed-process.js';

const HELP = `Usage: npm run start:cluster [-- options]

Starts Sibyl's split topology locally: management, router, ONNX and TF workers, gateway.
Reads DATABASE_URL (PostgreSQL) and REDIS_URL (Redis) from the environment; both are required.

Options:
  --model-repository <dir>  Repository management imports at start (repeatable; default examples/models)
  --onnx-workers <n>        ONNX workers (default 2)
  --tf-workers <n>          TensorFlow.js workers (default 1)
  --free-ports              Pick free ports instead of the usual ones
  --data-dir <dir>          Where the apps keep their files (default .sibyl/cluster)
  --help                    This text
`;

function count(flag: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) fail(`--${flag} must be a non-negative integer, got '${raw}'`);
  return Number(raw);
}

function fail(message: string): never {
  process.stderr.write(`start:cluster: ${message}\n`);
  process.exit(2);
}

function table(cluster: Cluster): string {
  const e = cluster.endpoints;
  const rows: string[][] = [
    ['gateway', `REST ${e.gateway.httpUrl}`, `gRPC ${e.gateway.grpcAddress}`, `metrics ${e.gateway.metricsUrl}/metrics`],
    ['management', `REST ${e.management.url}`, '', `metrics ${e.management.metricsUrl}/metrics`],
    ['router', '', `gRPC ${e.router.grpcAddress}`, `metrics ${e.router.metricsUrl}/metrics`],
    ...e.workers.map((w) => [`${w.name} (${w.kind})`, `REST ${w.httpUrl}`, `gRPC ${w.grpcAddress}`, `metrics ${w.metricsUrl}/metrics`]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        'model-repository': { type: 'string', multiple: true },
        'onnx-workers': { type: 'string' },
        'tf-workers': { type: 'string' },
        'free-ports': { type: 'boolean', default: false },
        'data-dir': { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    fail(`${(err as Error).message}\n${HELP}`);
  }
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const databaseUrl = process.env['DATABASE_URL'] ?? '';
  const redisUrl = process.env['REDIS_URL'] ?? '';
  const missing = [databaseUrl === '' ? 'DATABASE_URL (PostgreSQL)' : '', redisUrl === '' ? 'REDIS_URL (Redis)' : ''].filter((m) => m !== '');
  if (missing.length > 0) {
    fail(
      `${missing.join(' and ')} not set. The split topology keeps its registry in PostgreSQL and its live ` +
        `instances in Redis, so it needs both, e.g.\n  DATABASE_URL=postgres://postgres@127.0.0.1:5432/sibyl REDIS_URL=redis://127.0.0.1:6379 npm run start:cluster\n` +
        `(npm start runs the all-in-one server, which needs neither.)`,
    );
  }
  const workers: WorkerSpec[] = [
    ...Array.from({ length: count('onnx-workers', values['onnx-workers'], 2) }, () => ({ kind: 'onnx' as const })),
    ...Array.from({ length: count('tf-workers', values['tf-workers'], 1) }, () => ({ kind: 'tf' as const })),
  ];

  process.stdout.write('starting the split topology (management, router, workers, gateway) from sources...\n');
  // Ctrl-C during start-up: the children run in their own process group, so stop them here.
  let cluster: Cluster | undefined;
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal}: stopping gateway, workers, router, management...\n`);
    if (cluster === undefined) {
      // startCluster's failure path stops what it started; the exit hook kills the rest.
      process.exit(0);
    }
    void cluster.stop().then((exits) => {
      for (const [name, r] of exits) process.stdout.write(`${name.padEnd(12)} exited ${r.signal ?? `code ${r.code}`}\n`);
      process.exit(0);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    cluster = await startCluster({
      databaseUrl,
      redisUrl,
      modelRepositories: values['model-repository'] ?? [join(REPO_ROOT, 'examples/models')],
      workers,
      ports: values['free-ports'] ? 'free' : 'default',
      dataDir: values['data-dir'] ?? join(REPO_ROOT, '.sibyl/cluster'),
      log: 'inherit',
      exitTimeoutSecs: 30,
      heartbeatMs: 1000,
      instanceTtlMs: 3000,
    });
  } catch (err) {
    if (stopping) return;
    process.stderr.write(`start:cluster: ${(err as Error).message}\n`);
    process.exit(1);
  }
  if (stopping) return;
  process.stdout.write(`\nSibyl split topology is up:\n${table(cluster)}\n\nTry: curl -s -X POST ${cluster.endpoints.gateway.httpUrl}/v2/models/iris/infer -H 'content-type: application/json' -d @examples/requests/iris.json\nCtrl-C stops everything.\n`);
  for (const [name, proc] of cluster.processes) {
    void proc.exited.then((r) => {
      if (!stopping) process.stderr.write(`start:cluster: ${name} exited unexpectedly (${r.signal ?? `code ${r.code}`}); the others keep running\n`);
    });
  }
}

void main();
