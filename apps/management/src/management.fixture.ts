/**
 * Test harness: a real management server on a real socket, over a real registry (PGlite in memory,
 * or a fresh PostgreSQL database when DATABASE_URL is set), a real artifact store in a temporary
 * directory, and the runtime's real model check (onnxruntime). Requests go through node:http, so
 * paths reach the server exactly as written (fetch would normalise `%2e%2e`).
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { describe } from 'vitest';
import { createArtifactStore, type ArtifactStore, type ArtifactStoreOptions } from '@sibyl/artifacts';
import { createLogger, type Logger } from '@sibyl/observability';
import { openDb, openRegistry, type OpenedRegistry } from '@sibyl/registry';
import { inspectModel } from '@sibyl/runtime';
import { identityModel } from '@sibyl/testkit';
import { createManagementServer } from './management-server.js';
import type { InspectedModel, ManagementServing } from './server-options.js';

const DATABASE_URL = process.env['DATABASE_URL'] ?? '';

export type BackendName = 'pglite' | 'postgres';

export const BACKENDS: ReadonlyArray<{ name: BackendName; available: boolean }> = [
  { name: 'pglite', available: true },
  { name: 'postgres', available: DATABASE_URL !== '' },
];

/** Declares `suite` once per registry backend; PostgreSQL is reported as skipped without DATABASE_URL. */
export function describeEachBackend(title: string, suite: (backend: BackendName) => void): void {
  for (const backend of BACKENDS) describe.skipIf(!backend.available)(`${title} [${backend.name}]`, () => suite(backend.name));
}



export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON; undefined when empty or not JSON. */
  body: any;
}

export interface CallOptions {
  json?: unknown;
  /** Sent as is; with `json` absent. */
  body?: string | Uint8Array;
  headers?: Record<string, string>;
}

export interface Harness {
  readonly base: string;
  readonly app: FastifyInstance;
  readonly registry: OpenedRegistry;
  readonly store: ArtifactStore;
  readonly storeDir: string;
  /** Log lines written by the server (JSON objects). */
  readonly logs: Array<Record<string, unknown>>;
  call(method: string, path: string, options?: CallOptions): Promise<Reply>;
  /** Every file name in the store's temporary directory (uploads in progress, leftovers). */
  tempFiles(): Promise<string[]>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  backend?: BackendName;
  maxUploadBytes?: number;
  serving?: ManagementServing;
  store?: Omit<ArtifactStoreOptions, 'dir'>;
}

let databases = 0;

async function createDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `sibyl_management_test_${process.pid}_${Date.now().toString(36)}_${databases++}`;
  const admin = await openDb({ databaseUrl: DATABASE_URL, poolSize: 1 });
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.close();
  }
  const url = new URL(DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const db = await openDb({ databaseUrl: DATABASE_URL, poolSize: 1 });
      try {
        await db.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await db.close();
      }
    },
  };
}

function captureLogger(lines: Array<Record<string, unknown>>): Logger {
  const destination = {
    write(chunk: string) {
      for (const line of chunk.split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      return true;
    },
  } as unknown as NodeJS.WritableStream;
  return createLogger({ destination });
}

export async function startManagement(options: HarnessOptions = {}): Promise<Harness> {
  const storeDir = await mkdtemp(path.join(tmpdir(), 'sibyl-management-'));
  const database = options.backend === 'postgres' ? await createDatabase() : undefined;
  const registry = await openRegistry(database === undefined ? {} : { databaseUrl: database.url, poolSize: 4 });
  const store = await createArtifactStore({ dir: storeDir, ...options.store });
  const logs: Array<Record<string, unknown>> = [];
  const app = createManagementServer({
    registry,
    store,
    inspectModel,
    logger: captureLogger(logs),
    ...(options.maxUploadBytes === undefined ? {} : { maxUploadBytes: options.maxUploadBytes }),
    ...(options.serving === undefined ? {} : { serving: options.serving }),
  });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = new URL(base);
  return {
    base,
    app,
    registry,
    store,
    storeDir,
    logs,
    call: (method, p, opts) => call(Number(port), method, p, opts),
    tempFiles: () => readdir(path.join(storeDir, 'tmp')),
    async close() {
      await app.close();
      await registry.close();
      await database?.drop();
      await rm(storeDir, { recursive: true, force: true });
    },
  };
}

export function call(port: number, method: string, p: string, options: CallOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...options.headers };
  let payload: string | Uint8Array | undefined = options.body;
  if (options.json !== undefined) {
    payload = JSON.stringify(options.json);
    headers['content-type'] ??= 'application/json';
  }
  if (payload !== undefined) headers['content-length'] = String(Buffer.byteLength(payload));
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path: p, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = text === '' ? undefined : JSON.parse(text);
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** A real ONNX model: Identity over FP32 [-1, width]; different `name`s give different bytes. */
export function onnxModel(name = 'identity', width = 4): Uint8Array {
  return identityModel(name, [{ name: 'input', datatype: 'FP32', shape: ['batch', width] }]);
}

/** What `onnxModel` serves, as the runtime reports it. */
export function expectedSignature(width = 4): Pick<InspectedModel, 'inputs' | 'outputs'> {
  return {
    inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, width] }],
    outputs: [{ name: 'input_out', datatype: 'FP32', shape: [-1, width] }],
  };
}

export const uploadPath = (model: string, filename: string, sha256?: string) =>
  `/v1/models/${encodeURIComponent(model)}/versions?filename=${encodeURIComponent(filename)}${sha256 === undefined ? '' : `&sha256=${sha256}`}`;

/** Polls `check` until it holds or `timeoutMs` passes (for effects of a request the client abandoned). */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 5000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}
