/**
 * The split topology, from the built apps: management (imports the bench's model repository into a
 * scratch registry database and deploys it), router, `splitWorkers` ONNX workers and the gateway,
 * every listener on 127.0.0.1 port 0. The gateway serves the same requests as the all-in-one, with
 * one hop more: gateway → worker over HTTP with the binary extension (the router's default).
 *
 * Start order as scripts/cluster: management, then router and workers together, then the gateway.
 * Each must print its ready line and then pass its probe (HTTP ready endpoint; for the router, its
 * gRPC port accepting a connection). Then the gateway is warmed up: the first request for a model
 * is what loads it on a worker.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { encodeBinaryRequest } from './binary-extension.js';
import type { BenchModels } from './models.js';
import { IRIS_MODEL, IRIS_SAMPLE } from './payloads.js';
import { SERVER_NODE_FLAGS, SPLIT_MAIN } from './paths.js';
import { startServer, type RunningServer } from './processes.js';
import { createScratchDatabase, pickEmptyRedisDb, redactUrl, redisDbSize, type ScratchDatabase } from './split-state.js';

const HOST = '127.0.0.1';
const PROBE_INTERVAL_MS = 100;
/** Requests through the gateway after the first success, per workload: worker and gateway JIT warm-up before any cell. */
const WARM_REQUESTS = 200;

export interface SplitOptions {
  databaseUrl: string;
  redisUrl: string;
  workers: number;
  timeoutMs: number;
  /** When set, gateway and workers run under `node --cpu-prof` and write their profiles here on exit. */
  cpuProfileDir: string | null;
  models: BenchModels;
  /** Starts one app, recording it under `name` in the run's server notes. */
  start: (name: string, start: () => Promise<RunningServer>) => Promise<RunningServer | null>;
  log: (line: string) => void;
}

export interface SplitTopology {
  gateway: RunningServer;
  workers: RunningServer[];
  /** Processes a request passes through: their CPU is the server CPU of a split row (gateway first). */
  servingPids: number[];
  /** What ran, for the report. */
  description: string;
  /** Stops every app (reverse start order), drops the database, removes the data directory. Idempotent. */
  stop(): Promise<void>;
}

/** Why the split topology cannot run from this build, or null when every app is built. */
export function missingApps(): string | null {
  const missing = Object.values(SPLIT_MAIN).filter((p) => !existsSync(p));
  return missing.length === 0 ? null : `${missing.join(', ')} missing (run \`npx turbo run build\`)`;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function httpOk(url: string): Promise<string | null> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    const text = await res.text();
    return res.status === 200 ? null : `HTTP ${res.status} ${text.slice(0, 200)}`;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

function tcpOk(port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = connect({ host: HOST, port });
    const done = (why: string | null) => {
      socket.destroy();
      resolve(why);
    };
    socket.setTimeout(2000, () => done('connect timed out'));
    socket.once('connect', () => done(null));
    socket.once('error', (err) => done(err.message));
  });
}

/** Polls `probe` (null: ready) until it passes; throws with its last answer after `timeoutMs`. */
async function until(what: string, server: RunningServer, probe: () => Promise<string | null>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const why = await probe();
    if (why === null) return;
    if (!server.alive()) throw new Error(`${server.name} exited before ${what}; its last output:\n${server.lastOutput()}`);
    if (Date.now() > deadline) throw new Error(`${what}: not ready within ${timeoutMs / 1000} s (last answer: ${why})`);
    await sleep(PROBE_INTERVAL_MS);
  }
}

/** Sends the iris request (JSON, then binary) through the gateway until it answers 200, then WARM_REQUESTS more of each. */
async function warmUp(gatewayPort: number, timeoutMs: number): Promise<{ firstMs: number }> {
  const url = `http://${HOST}:${gatewayPort}/v2/models/${IRIS_MODEL}/infer`;
  const json = { body: JSON.stringify({ inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: IRIS_SAMPLE }] }), headers: { 'content-type': 'application/json' } };
  const binary = encodeBinaryRequest([{ name: 'input', datatype: 'FP32', shape: [1, 4], bytes: new Uint8Array(Float32Array.from(IRIS_SAMPLE).buffer) }]);
  const send = async (r: { body: string | Buffer; headers: Record<string, string> }) => {
    const res = await fetch(url, { method: 'POST', body: r.body, headers: r.headers, signal: AbortSignal.timeout(30_000) });
    const text = await res.text();
    return res.status === 200 ? null : `HTTP ${res.status} ${text.slice(0, 300)}`;
  };
  const started = Date.now();
  for (;;) {
    const why = await send(json).catch((err: unknown) => String(err));
    if (why === null) break;
    // The router learns of the workers from Redis and the registry; a 503 at first is expected.
    if (Date.now() - started > timeoutMs) throw new Error(`the split gateway did not serve ${IRIS_MODEL} within ${timeoutMs / 1000} s: ${why}`);
    await sleep(PROBE_INTERVAL_MS);
  }
  const firstMs = Date.now() - started;
  for (const r of [json, binary]) {
    for (let i = 0; i < WARM_REQUESTS; i++) {
      const why = await send(r);
      if (why !== null) throw new Error(`warm-up request through the split gateway failed: ${why}`);
    }
  }
  return { firstMs };
}

/** Starts the split topology; null when an app did not start (the reason is in the server notes). Throws on state it cannot create. */
export async function startSplit(o: SplitOptions): Promise<SplitTopology | null> {
  const database: ScratchDatabase = await createScratchDatabase(o.databaseUrl);
  const redis = await pickEmptyRedisDb(o.redisUrl).catch(async (err: unknown) => {
    await database.drop();
    throw err;
  });
  const dataDir = mkdtempSync(join(tmpdir(), 'sibyl-bench-split-'));
  const started: RunningServer[] = [];
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      for (const s of [...started].reverse()) await s.stop();
      await database.drop().catch((err: unknown) => o.log(`split: could not drop database ${database.name}: ${String(err)}`));
      rmSync(dataDir, { recursive: true, force: true });
      const left = await redisDbSize(o.redisUrl, redis.db).catch(() => null);
      if (left !== null && left > 0) o.log(`split: ${left} key(s) left in Redis database ${redis.db} (instance records expire on their own)`);
    })());
  // Nothing but the flags decides where the apps keep state: not the DATABASE_URL and REDIS_URL the bench was given.
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const v of ['DATABASE_URL', 'REDIS_URL', 'SIBYL_DATABASE_URL', 'SIBYL_REDIS_URL', 'SIBYL_HTTP_ADDRESS', 'SIBYL_GRPC_ADDRESS', 'SIBYL_METRICS_ADDRESS']) delete env[v];
  const app = async (name: string, main: string, args: string[], listeners: string[]): Promise<RunningServer | null> => {
    const profile = o.cpuProfileDir !== null && (main === SPLIT_MAIN.gateway || main === SPLIT_MAIN.worker) ? ['--cpu-prof', '--cpu-prof-dir', resolve(o.cpuProfileDir), '--cpu-prof-name', `${name}.cpuprofile`] : [];
    const server = await o.start(name, () =>
      startServer({ name, command: process.execPath, args: [...SERVER_NODE_FLAGS, ...profile, main, ...args, '--log-format', 'json'], listeners, timeoutMs: o.timeoutMs, env }),
    );
    if (server !== null) started.push(server);
    return server;
  };
  const abandon = async (): Promise<null> => {
    await stop();
    return null;
  };
  const common = ['--database-url', database.url, '--metrics-address', HOST, '--metrics-port', '0'];

  try {
    o.log(`split: database ${database.name}, Redis database ${redis.db} on ${redactUrl(o.redisUrl)}`);
    const management = await app(
      'split-management',
      SPLIT_MAIN.management,
      ['--management-address', HOST, '--management-port', '0', ...common, '--data-dir', join(dataDir, 'management'), '--model-repository', o.models.repository],
      ['management'],
    );
    if (management === null) return abandon();
    await until('management /v1/health/ready', management, () => httpOk(`http://${HOST}:${management.ports.management}/v1/health/ready`), o.timeoutMs);

    const [router, ...workers] = await Promise.all([
      app('split-router', SPLIT_MAIN.router, ['--grpc-address', HOST, '--grpc-port', '0', ...common, '--redis-url', redis.url], ['grpc']),
      ...Array.from({ length: o.workers }, (_, i) =>
        app(
          `split-worker-${i + 1}`,
          SPLIT_MAIN.worker,
          [
            '--http-address', HOST, '--http-port', '0', '--grpc-address', HOST, '--grpc-port', '0', ...common,
            '--advertise-host', HOST, '--artifact-url', `http://${HOST}:${management.ports.management}`,
            '--data-dir', join(dataDir, `worker-${i + 1}`), '--redis-url', redis.url,
          ],
          ['http', 'grpc'],
        ),
      ),
    ]);
    if (router === null || router === undefined || workers.some((w) => w === null)) return abandon();
    const live = workers as RunningServer[];
    await until('router gRPC port', router, () => tcpOk(router.ports.grpc!), o.timeoutMs);
    for (const w of live) await until(`${w.name} /v2/health/ready`, w, () => httpOk(`http://${HOST}:${w.ports.http}/v2/health/ready`), o.timeoutMs);

    const gateway = await app(
      'split-gateway',
      SPLIT_MAIN.gateway,
      ['--http-address', HOST, '--http-port', '0', '--grpc-address', HOST, '--grpc-port', '0', '--metrics-address', HOST, '--metrics-port', '0', '--router-address', `${HOST}:${router.ports.grpc}`],
      ['http', 'grpc'],
    );
    if (gateway === null) return abandon();
    await until('gateway /v2/health/ready', gateway, () => httpOk(`http://${HOST}:${gateway.ports.http}/v2/health/ready`), o.timeoutMs);
    const { firstMs } = await warmUp(gateway.ports.http!, o.timeoutMs);
    o.log(`split: first ${IRIS_MODEL} request through the gateway answered after ${firstMs} ms; ${WARM_REQUESTS} JSON and ${WARM_REQUESTS} binary warm-up requests done`);
    return {
      gateway,
      workers: live,
      servingPids: [gateway.pid, ...live.map((w) => w.pid)],
      description:
        `management, router, ${live.length} ONNX worker${live.length > 1 ? 's' : ''} and the gateway, each its own process; ` +
        `registry in a scratch PostgreSQL database, coordination in Redis database ${redis.db}; the gateway reaches the worker over HTTP with the binary extension`,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
