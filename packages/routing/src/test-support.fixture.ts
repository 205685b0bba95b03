/**
 * What the routing tests share: a real registry (PGlite in a temporary directory, and PostgreSQL when
 * DATABASE_URL is set, a fresh database per test file), version uploads, worker instances, a logger
 * whose lines can be read back, and polling.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { InstanceInfo } from '@sibyl/coordination';
import { createLogger, type Logger } from '@sibyl/observability';
import { openDb, openRegistry, type OpenedRegistry, type RegisterVersionInput } from '@sibyl/registry';

export const DATABASE_URL = process.env.DATABASE_URL ?? '';
export const REDIS_URL = process.env.REDIS_URL ?? '';

export interface DbBackend {
  name: 'pglite' | 'postgres';
  available: boolean;
}

export const DB_BACKENDS: readonly DbBackend[] = [
  { name: 'pglite', available: true },
  { name: 'postgres', available: DATABASE_URL !== '' },
];

export interface TestRegistry {
  registry: OpenedRegistry;
  cleanup(): Promise<void>;
}

let counter = 0;

async function admin(sql: string): Promise<void> {
  const db = await openDb({ databaseUrl: DATABASE_URL, poolSize: 1 });
  try {
    await db.exec(sql);
  } finally {
    await db.close();
  }
}

export async function openTestRegistry(backend: DbBackend): Promise<TestRegistry> {
  if (backend.name === 'postgres') {
    const name = `sibyl_routing_test_${process.pid}_${Date.now().toString(36)}_${counter++}`;
    await admin(`CREATE DATABASE "${name}"`);
    const url = new URL(DATABASE_URL);
    url.pathname = `/${name}`;
    const registry = await openRegistry({ databaseUrl: url.toString(), actor: 'test' });
    return {
      registry,
      async cleanup() {
        await registry.close().catch(() => {});
        await admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      },
    };
  }
  const dir = await mkdtemp(join(tmpdir(), 'sibyl-routing-test-'));
  const registry = await openRegistry({ dataDir: join(dir, 'data'), actor: 'test' });
  return {
    registry,
    async cleanup() {
      await registry.close().catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface UploadOptions {
  platform?: string;
  config?: Record<string, unknown> | null;
}

export function upload(model: string, content: string, options: UploadOptions = {}): RegisterVersionInput {
  return {
    model,
    sha256: createHash('sha256').update(content).digest('hex'),
    size: content.length,
    filename: 'model.onnx',
    format: 'onnx-file',
    signature: {
      platform: options.platform ?? 'onnxruntime_onnx',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }],
      outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 2] }],
    },
    config: options.config === undefined ? null : options.config,
    createdBy: 'test',
  };
}

/** Registers a model (when new) and a version of it, marked ready; returns the version number. */
export async function readyVersion(registry: OpenedRegistry, model: string, options: UploadOptions = {}): Promise<number> {
  if ((await registry.listModels()).every((m) => m.name !== model)) await registry.createModel({ name: model });
  const version = await registry.registerVersion(upload(model, `${model}-${Math.random()}`, options));
  await registry.setVersionState(model, version.version, 'ready');
  return version.version;
}

/** A worker instance as it registers itself. */
export function instance(id: string, pool: string, extra: Partial<Omit<InstanceInfo, 'updatedAt'>> = {}): Omit<InstanceInfo, 'updatedAt'> {
  return {
    id,
    pool,
    kind: pool === 'tf' ? 'sibyl-tf' : 'sibyl-onnx',
    httpAddress: `${id}.test:8000`,
    grpcAddress: `${id}.test:8001`,
    memoryBudgetBytes: 1 << 30,
    warmModels: [],
    load: 0,
    draining: false,
    startedAt: Date.now(),
    ...extra,
  };
}

export interface CapturedLogger {
  logger: Logger;
  /** Every line logged so far, parsed. */
  lines: Array<Record<string, unknown> & { level: string; msg: string }>;
}

export function captureLogger(): CapturedLogger {
  const lines: CapturedLogger['lines'] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line));
      callback();
    },
  });
  return { logger: createLogger({ destination, verbose: 1 }), lines };
}

/** Resolves when `predicate` holds, polling every 5 ms; rejects after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Waits until no invalidation arrived for `quietMs`: the registry's notifications of setup are done. */
export async function settle(received: () => number, quietMs = 150): Promise<void> {
  let last = received();
  let since = Date.now();
  while (Date.now() - since < quietMs) {
    await new Promise((r) => setTimeout(r, 10));
    if (received() !== last) {
      last = received();
      since = Date.now();
    }
  }
}
