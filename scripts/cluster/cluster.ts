/**
 * The split topology on one machine: management, router, workers and gateway, each its own process
 * started from sources, on free ports (tests) or the usual ones (`npm run start:cluster`).
 *
 * Start order: management first (it migrates the registry and imports the repositories), then the
 * router and the workers together, then the gateway. Each must pass its readiness probe within
 * `startTimeoutMs`; when one does not, everything started so far is stopped and the error carries
 * the tail of its output. `stop()` goes in reverse order: SIGTERM, SIGKILL after `stopTimeoutMs`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from './free-port.js';
import { spawnProcess, type ExitResult, type LogSink, type ManagedProcess, type ProcessSpec } from './managed-process.js';
import { waitReady, type Probe } from './readiness.js';

export type WorkerKind = 'onnx' | 'tf';
export type Role = 'management' | 'router' | 'worker' | 'gateway';

export interface WorkerSpec {
  /** Runtime: `apps/worker/src/main-onnx.ts` or `main-tf.ts`. */
  kind: WorkerKind;
  /** Pool it registers in (`--pool`). Default: the kind (`onnx`, `tf`). */
  pool?: string;
  /** Process name. Default `<pool>-<n>`, n counting from 1 per pool. */
  name?: string;
  /** More flags for this worker only. */
  args?: readonly string[];
}

export interface ClusterOptions {
  /** PostgreSQL URL of the registry (every app that reads it gets this one). */
  databaseUrl: string;
  /** Redis URL of coordination (router and workers). */
  redisUrl: string;
  /** Repositories management imports at start (`--model-repository`, repeated). Default none. */
  modelRepositories?: readonly string[];
  /** Default: two ONNX workers and one TF worker. */
  workers?: readonly WorkerSpec[];
  /** `free`: every port picked free (tests). `default`: the usual ports (see DEFAULT_PORTS). Default `free`. */
  ports?: 'free' | 'default';
  /** Where each app keeps its files (`<dataDir>/<name>`). Default: a fresh temporary directory, removed by stop(). */
  dataDir?: string;
  /** `inherit`: prefixed lines on this process's stdout; `silent`: kept only (see ManagedProcess.lines). Default `silent`. */
  log?: 'inherit' | 'silent' | LogSink;
  /** Worker heartbeat period and instance TTL, milliseconds. Defaults 500 and 1500 (the apps' own defaults are longer). */
  heartbeatMs?: number;
  instanceTtlMs?: number;
  /** Longest drain of gateway and workers on SIGTERM, seconds (`--exit-timeout-secs`). Default 5. */
  exitTimeoutSecs?: number;
  /** Bound on each app's start, milliseconds. Default 120000 (tsx compiles the sources on a 2-core machine). */
  startTimeoutMs?: number;
  /** How long stop() waits after SIGTERM before SIGKILL, milliseconds. Default 15000. */
  stopTimeoutMs?: number;
  /** More flags per role. */
  args?: Partial<Record<Role, readonly string[]>>;
  /** More environment for every app. */
  env?: Record<string, string>;
}

export interface HttpEndpoints {
  httpUrl: string;
  /** host:port */
  grpcAddress: string;
  metricsUrl: string;
}

export interface WorkerEndpoints extends HttpEndpoints {
  name: string;
  kind: WorkerKind;
  pool: string;
}

export interface ClusterEndpoints {
  management: { url: string; metricsUrl: string };
  router: { grpcAddress: string; metricsUrl: string };
  gateway: HttpEndpoints;
  workers: WorkerEndpoints[];
}

export interface Cluster {
  readonly endpoints: ClusterEndpoints;
  /** The current process of each app, by name, in start order (a snapshot). */
  readonly processes: ReadonlyMap<string, ManagedProcess>;
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly dataDir: string;
  /** Sends `signal` (default SIGKILL) to one app and resolves with its exit (SIGKILL after stopTimeoutMs). */
  kill(name: string, signal?: NodeJS.Signals): Promise<ExitResult>;
  /** Starts an app that exited again, with the same flags and ports; resolves once it is ready. */
  restart(name: string): Promise<ManagedProcess>;
  /** Starts one more worker; resolves with its endpoints once it is ready. */
  addWorker(spec: WorkerSpec): Promise<WorkerEndpoints>;
  /** Stops every app in reverse start order; resolves with each exit. Idempotent. */
  stop(): Promise<Map<string, ExitResult>>;
}

/** The usual ports: gateway as tritonserver, management 8003, router 8004, workers from 8100 in steps of 10. */
export const DEFAULT_PORTS = {
  gateway: { http: 8000, grpc: 8001, metrics: 8002 },
  management: { http: 8003, metrics: 8013 },
  router: { grpc: 8004, metrics: 8014 },
  /** Worker i (0-based, in start order): http 8100+10i, grpc 8101+10i, metrics 8102+10i. */
  workerBase: 8100,
} as const;

export const ENTRY = {
  management: 'apps/management/src/main.ts',
  router: 'apps/router/src/main.ts',
  gateway: 'apps/gateway/src/main.ts',
  worker: { onnx: 'apps/worker/src/main-onnx.ts', tf: 'apps/worker/src/main-tf.ts' },
} as const;

const HOST = '127.0.0.1';

interface Member {
  role: Role;
  spec: ProcessSpec;
  probe: Probe;
  proc: ManagedProcess;
}

/** Prefixed lines on stdout: `gateway    | <line>`. */
export function prefixedSink(write: (text: string) => void = (t) => process.stdout.write(t)): LogSink {
  return (name, line) => write(`${name.padEnd(12)} | ${line}\n`);
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const sink: LogSink =
    options.log === 'inherit' ? prefixedSink() : typeof options.log === 'function' ? options.log : () => {};
  const ownDataDir = options.dataDir === undefined ? mkdtempSync(join(tmpdir(), 'sibyl-cluster-')) : undefined;
  const dataDir = resolve(options.dataDir ?? ownDataDir!);
  const startTimeoutMs = options.startTimeoutMs ?? 120_000;
  const stopTimeoutMs = options.stopTimeoutMs ?? 15_000;
  const exitTimeoutSecs = String(options.exitTimeoutSecs ?? 5);
  const fixed = options.ports === 'default';
  const extra = (role: Role) => options.args?.[role] ?? [];
  const env = options.env ?? {};

  const members = new Map<string, Member>();
  let stopping: Promise<Map<string, ExitResult>> | undefined;

  const launch = async (role: Role, spec: ProcessSpec, probe: Probe): Promise<Member> => {
    if (members.has(spec.name)) throw new Error(`a process named ${spec.name} is already in the cluster`);
    const member: Member = { role, spec, probe, proc: spawnProcess(spec, sink) };
    members.set(spec.name, member);
    await waitReady(member.proc, probe, startTimeoutMs);
    return member;
  };

  const stopAll = (): Promise<Map<string, ExitResult>> => {
    stopping ??= (async () => {
      const results = new Map<string, ExitResult>();
      // Reverse start order: nothing is left calling an app that is already gone.
      for (const [name, member] of [...members].reverse()) {
        results.set(name, await member.proc.stop('SIGTERM', stopTimeoutMs));
      }
      if (ownDataDir !== undefined) rmSync(ownDataDir, { recursive: true, force: true });
      return results;
    })();
    return stopping;
  };

  // ---- ports ----
  const port = async (fixedPort: number) => (fixed ? fixedPort : freePort(HOST));
  const managementPort = await port(DEFAULT_PORTS.management.http);
  const managementMetrics = await port(DEFAULT_PORTS.management.metrics);
  const routerPort = await port(DEFAULT_PORTS.router.grpc);
  const routerMetrics = await port(DEFAULT_PORTS.router.metrics);
  const gatewayHttp = await port(DEFAULT_PORTS.gateway.http);
  const gatewayGrpc = await port(DEFAULT_PORTS.gateway.grpc);
  const gatewayMetrics = await port(DEFAULT_PORTS.gateway.metrics);
  const managementUrl = `http://${HOST}:${managementPort}`;

  let workerIndex = 0;
  const perPool = new Map<string, number>();
  const workerEndpoints: WorkerEndpoints[] = [];
  const common = { database: ['--database-url', options.databaseUrl], redis: ['--redis-url', options.redisUrl] };

  const workerPlan = async (w: WorkerSpec) => {
    const pool = w.pool ?? w.kind;
    const n = (perPool.get(pool) ?? 0) + 1;
    perPool.set(pool, n);
    const name = w.name ?? `${pool}-${n}`;
    const base = DEFAULT_PORTS.workerBase + 10 * workerIndex++;
    const http = await port(base);
    const grpcPort = await port(base + 1);
    const metrics = await port(base + 2);
    const endpoints: WorkerEndpoints = {
      name,
      kind: w.kind,
      pool,
      httpUrl: `http://${HOST}:${http}`,
      grpcAddress: `${HOST}:${grpcPort}`,
      metricsUrl: `http://${HOST}:${metrics}`,
    };
    const spec: ProcessSpec = {
      name,
      entry: ENTRY.worker[w.kind],
      args: [
        '--http-address', HOST,
        '--http-port', String(http),
        '--grpc-address', HOST,
        '--grpc-port', String(grpcPort),
        '--metrics-address', HOST,
        '--metrics-port', String(metrics),
        '--pool', pool,
        '--advertise-host', HOST,
        '--artifact-url', managementUrl,
        '--data-dir', join(dataDir, name),
        ...common.database,
        ...common.redis,
        '--heartbeat-ms', String(options.heartbeatMs ?? 500),
        '--instance-ttl-ms', String(options.instanceTtlMs ?? 1500),
        '--exit-timeout-secs', exitTimeoutSecs,
        ...extra('worker'),
        ...(w.args ?? []),
      ],
      env,
    };
    return { spec, endpoints, probe: { kind: 'http', url: `${endpoints.httpUrl}/v2/health/ready` } as Probe };
  };

  const startWorker = async (w: WorkerSpec): Promise<WorkerEndpoints> => {
    const plan = await workerPlan(w);
    await launch('worker', plan.spec, plan.probe);
    workerEndpoints.push(plan.endpoints);
    return plan.endpoints;
  };

  try {
    await launch(
      'management',
      {
        name: 'management',
        entry: ENTRY.management,
        args: [
          '--management-address', HOST,
          '--management-port', String(managementPort),
          '--metrics-address', HOST,
          '--metrics-port', String(managementMetrics),
          ...common.database,
          '--data-dir', join(dataDir, 'management'),
          ...(options.modelRepositories ?? []).flatMap((dir) => ['--model-repository', resolve(dir)]),
          ...extra('management'),
        ],
        env,
      },
      { kind: 'http', url: `${managementUrl}/v1/health/ready` },
    );

    const workers = options.workers ?? [{ kind: 'onnx' }, { kind: 'onnx' }, { kind: 'tf' }];
    // Plans first (names and ports in a fixed order), then every start at once.
    const plans: Array<Awaited<ReturnType<typeof workerPlan>>> = [];
    for (const w of workers) plans.push(await workerPlan(w));
    await Promise.all([
      launch(
        'router',
        {
          name: 'router',
          entry: ENTRY.router,
          args: [
            '--grpc-address', HOST,
            '--grpc-port', String(routerPort),
            '--metrics-address', HOST,
            '--metrics-port', String(routerMetrics),
            ...common.database,
            ...common.redis,
            ...extra('router'),
          ],
          env,
        },
        { kind: 'grpc-health', address: `${HOST}:${routerPort}` },
      ),
      ...plans.map(async (plan) => {
        await launch('worker', plan.spec, plan.probe);
        workerEndpoints.push(plan.endpoints);
      }),
    ]);
    // In start order, whatever order they became ready in.
    workerEndpoints.sort((a, b) => plans.findIndex((p) => p.endpoints.name === a.name) - plans.findIndex((p) => p.endpoints.name === b.name));

    await launch(
      'gateway',
      {
        name: 'gateway',
        entry: ENTRY.gateway,
        args: [
          '--http-address', HOST,
          '--http-port', String(gatewayHttp),
          '--grpc-address', HOST,
          '--grpc-port', String(gatewayGrpc),
          '--metrics-address', HOST,
          '--metrics-port', String(gatewayMetrics),
          '--router-address', `${HOST}:${routerPort}`,
          '--exit-timeout-secs', exitTimeoutSecs,
          ...extra('gateway'),
        ],
        env,
      },
      { kind: 'http', url: `http://${HOST}:${gatewayHttp}/v2/health/ready` },
    );
  } catch (err) {
    await stopAll();
    throw err;
  }

  const member = (name: string): Member => {
    const m = members.get(name);
    if (m === undefined) throw new Error(`no process named ${name} in the cluster (have ${[...members.keys()].join(', ')})`);
    return m;
  };


  return {
    endpoints: {
      management: { url: managementUrl, metricsUrl: `http://${HOST}:${managementMetrics}` },
      router: { grpcAddress: `${HOST}:${routerPort}`, metricsUrl: `http://${HOST}:${routerMetrics}` },
      gateway: { httpUrl: `http://${HOST}:${gatewayHttp}`, grpcAddress: `${HOST}:${gatewayGrpc}`, metricsUrl: `http://${HOST}:${gatewayMetrics}` },
      workers: workerEndpoints,
    },
    get processes() {
      return new Map([...members].map(([name, m]) => [name, m.proc]));
    },
    databaseUrl: options.databaseUrl,
    redisUrl: options.redisUrl,
    dataDir,
    kill: (name, signal = 'SIGKILL') => member(name).proc.stop(signal, stopTimeoutMs),
    restart: async (name) => {
      const m = member(name);
      if (m.proc.exitResult() === undefined) throw new Error(`${name} is still running (pid ${m.proc.pid}); kill it first`);
      m.proc = spawnProcess(m.spec, sink);
      await waitReady(m.proc, m.probe, startTimeoutMs);
      return m.proc;
    },
    addWorker: startWorker,
    stop: stopAll,
  };
}
