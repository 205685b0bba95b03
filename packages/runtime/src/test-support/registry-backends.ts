/**
 * Test support: a real registry (PGlite in memory, or a fresh PostgreSQL database when DATABASE_URL
 * is set) and a real artifact store in a temporary directory. Without DATABASE_URL the PostgreSQL
 * suites are reported as skipped, never silently absent.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createArtifactStore, type ArtifactStore } from '@sibyl/artifacts';
import { openDb, openRegistry, type OpenedRegistry } from '@sibyl/registry';
import { buildOnnxModel } from '@sibyl/testkit';
import { describe } from 'vitest';

const DATABASE_URL = process.env.DATABASE_URL ?? '';

export type BackendName = 'pglite' | 'postgres';

export const BACKENDS: ReadonlyArray<{ name: BackendName; available: boolean }> = [
  { name: 'pglite', available: true },
  { name: 'postgres', available: DATABASE_URL !== '' },
];

/** Declares `suite` once per backend, skipped where the backend is unavailable. */
export function describeEachBackend(title: string, suite: (backend: BackendName) => void): void {
  for (const b of BACKENDS) describe.skipIf(!b.available)(`${title} [${b.name}]`, () => suite(b.name));
}

export interface TestRegistry {
  registry: OpenedRegistry;
  artifacts: ArtifactStore;
  /** A temporary directory for the test's own files (repositories), removed by cleanup. */
  dir: string;
  /** Another registry on the same database, as another process would open it (PostgreSQL only). */
  another(actor?: string): Promise<OpenedRegistry>;
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

export async function openTestRegistry(backend: BackendName): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'sibyl-runtime-registry-'));
  const opened: OpenedRegistry[] = [];
  let url: string | undefined;
  if (backend === 'postgres') {
    const name = `sibyl_runtime_test_${process.pid}_${Date.now().toString(36)}_${counter++}`;
    await admin(`CREATE DATABASE "${name}"`);
    const u = new URL(DATABASE_URL);
    u.pathname = `/${name}`;
    url = u.toString();
  }
  const open = async (actor: string) => {
    const r = await openRegistry(url === undefined ? { actor } : { databaseUrl: url, actor, poolSize: 4 });
    opened.push(r);
    return r;
  };
  const registry = await open('tester');
  const artifacts = await createArtifactStore({ dir: join(dir, 'artifacts') });
  return {
    registry,
    artifacts,
    dir,
    async another(actor = 'other-process') {
      if (url === undefined) throw new Error('PGlite in memory cannot be shared');
      return open(actor);
    },
    async cleanup() {
      for (const r of opened) await r.close();
      if (url !== undefined) await admin(`DROP DATABASE IF EXISTS "${new URL(url).pathname.slice(1)}" WITH (FORCE)`);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Version k of a model adds k to its input, so a response tells which version ran: y = x + k over FP32 [1]. */
export function addK(name: string, k: number): Uint8Array {
  return buildOnnxModel({
    name,
    inputs: [{ name: 'x', datatype: 'FP32', shape: [1] }],
    outputs: [{ name: 'y', datatype: 'FP32', shape: [1] }],
    initializers: [{ name: 'k', datatype: 'FP32', dims: [1], values: new Float32Array([k]) }],
    nodes: [{ op: 'Add', inputs: ['x', 'k'], outputs: ['y'] }],
  });
}

/**
 * Like addK, but each run also multiplies a 512×512 matrix built from the input six times (tens of
 * milliseconds of compute on one thread), so requests stay in flight long enough to overlap a switch.
 */
export function slowAddK(name: string, k: number): Uint8Array {
  const n = 512;
  const w = new Float32Array(n * n).fill(1 / n);
  const nodes = [{ op: 'Expand', inputs: ['x', 'square'], outputs: ['m0'] }];
  for (let i = 0; i < 6; i++) nodes.push({ op: 'MatMul', inputs: [`m${i}`, 'w'], outputs: [`m${i + 1}`] });
  nodes.push(
    { op: 'ReduceSum', inputs: ['m6'], outputs: ['s'] },
    { op: 'Mul', inputs: ['s', 'zero'], outputs: ['z'] },
    { op: 'Add', inputs: ['x', 'k'], outputs: ['xk'] },
    { op: 'Add', inputs: ['xk', 'z'], outputs: ['y'] },
  );
  return buildOnnxModel({
    name,
    inputs: [{ name: 'x', datatype: 'FP32', shape: [1] }],
    outputs: [{ name: 'y', datatype: 'FP32', shape: [1] }],
    initializers: [
      { name: 'k', datatype: 'FP32', dims: [1], values: new Float32Array([k]) },
      { name: 'zero', datatype: 'FP32', dims: [], values: new Float32Array([0]) },
      { name: 'square', datatype: 'INT64', dims: [2], values: new BigInt64Array([BigInt(n), BigInt(n)]) },
      { name: 'w', datatype: 'FP32', dims: [n, n], values: w },
    ],
    nodes,
  });
}
