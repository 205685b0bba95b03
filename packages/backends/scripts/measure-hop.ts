/**
 * Measures the gateway → worker hop for each transport: a worker (the gateway's REST and gRPC servers
 * over the local data plane, serving examples/models/iris) runs in a child process, and this process
 * calls it through createHttpBackend and createGrpcBackend:
 *
 * - latency: 2000 sequential infer calls (after a warm-up), p50 and p99;
 * - throughput: infer calls at concurrency 16 for a fixed time.
 *
 * Run from the repository root:
 *   npx tsx --tsconfig packages/backends/scripts/tsconfig.json packages/backends/scripts/measure-hop.ts
 */
import { spawn } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { InferRequest } from '@sibyl/protocol';
import { createGrpcBackend, createHttpBackend, type Backend } from '../src/index.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SEQUENTIAL_CALLS = 2000;
const WARMUP_CALLS = 300;
const CONCURRENCY = 16;
const THROUGHPUT_MS = 5000;

if (process.argv.includes('--serve')) await serve();
else await measure();

/** The child: a worker on ephemeral ports; prints `{"rest": port, "grpc": port}` once serving. */
async function serve(): Promise<void> {
  // The servers' own modules rather than @sibyl/gateway's index, which also pulls in the whole gateway app.
  const { createRestServer } = await import('../../../apps/gateway/src/rest-server.js');
  const { createGrpcServer } = await import('../../../apps/gateway/src/grpc-server.js');
  const { SERVER_EXTENSIONS } = await import('../../../apps/gateway/src/server-extensions.js');
  const { createLogger, createMetrics } = await import('@sibyl/observability');
  const { createLocalInferenceService } = await import('@sibyl/runtime');
  const dir = await mkdtemp(join(tmpdir(), 'sibyl-hop-'));
  await cp(join(ROOT, 'examples/models/iris'), join(dir, 'iris'), { recursive: true });
  const logger = createLogger({ destination: new Writable({ write: (_c, _e, cb) => cb() }) });
  const metrics = createMetrics({ processMetrics: false });
  const service = createLocalInferenceService({ repositories: [dir], logger, metrics, serverVersion: 'hop', extensions: SERVER_EXTENSIONS });
  await service.load();
  const rest = createRestServer({ service, logger, metrics });
  await rest.listen({ host: '127.0.0.1', port: 0 });
  const grpc = createGrpcServer({ service, logger, metrics });
  const grpcPort = await grpc.bind('127.0.0.1', 0);
  const address = rest.server.address();
  process.stdout.write(`${JSON.stringify({ rest: typeof address === 'object' && address !== null ? address.port : 0, grpc: grpcPort })}\n`);
  process.stdin.resume();
  process.stdin.on('end', async () => {
    await Promise.all([grpc.close(100), rest.close()]);
    await service.close();
    await rm(dir, { recursive: true, force: true });
    process.exit(0);
  });
}

async function measure(): Promise<void> {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--serve'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
  });
  const ports = JSON.parse(line) as { rest: number; grpc: number };
  const backends: Backend[] = [
    createHttpBackend({ url: `http://127.0.0.1:${ports.rest}` }),
    createGrpcBackend({ address: `127.0.0.1:${ports.grpc}` }),
  ];
  const request: InferRequest = {
    modelName: 'iris',
    inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: new Float32Array([5.1, 3.5, 1.4, 0.2]) }],
  };
  const rows: string[][] = [];
  for (const backend of backends) {
    for (let i = 0; i < WARMUP_CALLS; i++) await backend.infer(request);
    const latencies = new Float64Array(SEQUENTIAL_CALLS);
    for (let i = 0; i < SEQUENTIAL_CALLS; i++) {
      const started = performance.now();
      await backend.infer(request);
      latencies[i] = performance.now() - started;
    }
    latencies.sort();
    const quantile = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]! * 1000;
    let done = 0;
    const until = performance.now() + THROUGHPUT_MS;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (performance.now() < until) {
          await backend.infer(request);
          done++;
        }
      }),
    );
    const rate = done / ((performance.now() - started) / 1000);
    rows.push([backend.transport, quantile(0.5).toFixed(0), quantile(0.99).toFixed(0), rate.toFixed(0)]);
    await backend.close();
  }
  child.stdin!.end();
  const header = ['transport', 'p50 us (sequential)', 'p99 us (sequential)', `req/s (concurrency ${CONCURRENCY})`];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const format = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(`iris FP32 [1,4] → probabilities FP32 [1,3] + label INT64 [1]; ${SEQUENTIAL_CALLS} sequential calls, then ${THROUGHPUT_MS / 1000} s at concurrency ${CONCURRENCY}`);
  console.log(format(header));
  console.log(format(widths.map((w) => '-'.repeat(w))));
  for (const row of rows) console.log(format(row));
  await new Promise((resolve) => child.once('exit', resolve));
}
