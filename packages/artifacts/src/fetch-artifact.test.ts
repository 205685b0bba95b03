/**
 * fetchArtifact between two real stores over real sockets: the file server (fastify) on one side, a
 * worker's store on the other; and a tiny node:http server that misbehaves on purpose.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SibylError } from '@sibyl/protocol';
import { createArtifactStore, type ArtifactStore, type StoredArtifact } from './artifact-store.js';
import { registerArtifactRoutes } from './artifact-routes.js';
import { fetchArtifact } from './fetch-artifact.js';
import { EMPTY_STORE_TREE, pseudoRandomBytes, sha256Of, streamOf, tarGzOf, tempDir, treeOf } from './test-support/fixtures.js';

let serverCleanup: () => Promise<void>;
let serverStore: ArtifactStore;
let app: FastifyInstance;
let base: string;
let file: StoredArtifact;
let archive: StoredArtifact;
const fileBytes = pseudoRandomBytes(5 * 1024 * 1024 + 7, 21);

let workerDir: string;
let workerCleanup: () => Promise<void>;
let worker: ArtifactStore;

beforeAll(async () => {
  let dir: string;
  ({ dir, cleanup: serverCleanup } = await tempDir('sibyl-file-server-'));
  serverStore = await createArtifactStore({ dir });
  file = await serverStore.put(streamOf(fileBytes), { filename: 'model.onnx' });
  const archiveBytes = await tarGzOf([
    { name: 'model/model.json', content: '{"weightsManifest":[]}' },
    { name: 'model/group1-shard1of1.bin', content: pseudoRandomBytes(10_000) },
  ]);
  archive = await serverStore.put(streamOf(archiveBytes), { filename: 'tfjs.tar.gz' });
  // fetch() keeps connections alive (and reopens one after a cancelled body): close them all at the end.
  app = Fastify({ forceCloseConnections: true });
  registerArtifactRoutes(app, serverStore);
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await app.close();
  await serverCleanup();
});

beforeEach(async () => {
  ({ dir: workerDir, cleanup: workerCleanup } = await tempDir('sibyl-worker-'));
  worker = await createArtifactStore({ dir: workerDir });
});
afterEach(async () => workerCleanup());

async function failure(promise: Promise<unknown>): Promise<SibylError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SibylError);
  return err as SibylError;
}

describe('fetchArtifact from the file server', () => {
  it('downloads a file into the local store, verified', async () => {
    const fetched = await fetchArtifact(base, file.sha256, worker);
    expect(fetched).toMatchObject({ format: 'file', sha256: file.sha256, size: fileBytes.length, alreadyStored: false });
    expect(fetched.path).toBe(path.join(workerDir, 'sha256', file.sha256.slice(0, 2), file.sha256));
    expect(sha256Of(await readFile(fetched.path))).toBe(file.sha256);
    expect(await worker.verify(file.sha256)).toBe(true);
  });

  it('downloads a directory artifact and extracts it locally', async () => {
    const fetched = await fetchArtifact(`${base}/`, archive.sha256, worker, { entryPoints: ['model/model.json'] });
    expect(fetched.format).toBe('tar.gz');
    if (fetched.format !== 'tar.gz') return;
    expect(fetched.files).toEqual(['model/group1-shard1of1.bin', 'model/model.json']);
    expect(await readFile(path.join(fetched.path, 'model/model.json'), 'utf8')).toBe('{"weightsManifest":[]}');
  });

  it('does not download what the local store already has', async () => {
    await fetchArtifact(base, file.sha256, worker);
    // An unreachable server proves no request is made.
    const again = await fetchArtifact('http://127.0.0.1:1', file.sha256, worker);
    expect(again).toMatchObject({ sha256: file.sha256, alreadyStored: true });
  });

  it('answers NOT_FOUND for a hash the server does not have, keeping nothing', async () => {
    const unknown = sha256Of(Buffer.from('nowhere'));
    const err = await failure(fetchArtifact(base, unknown, worker));
    expect(err.code).toBe('SIBYL_ARTIFACT_NOT_FOUND');
    expect(err.message).toContain(`${base}/v1/artifacts/${unknown}`);
    expect(await treeOf(workerDir)).toEqual(EMPTY_STORE_TREE);
  });

  it('refuses a malformed hash before any request', async () => {
    expect((await failure(fetchArtifact('http://127.0.0.1:1', 'abc', worker))).code).toBe('SIBYL_ARTIFACT_HASH_INVALID');
  });

  it('answers FETCH_FAILED when the server cannot be reached', async () => {
    const err = await failure(fetchArtifact('http://127.0.0.1:1', file.sha256, worker));
    expect(err.code).toBe('SIBYL_ARTIFACT_FETCH_FAILED');
    expect(err.httpStatus).toBe(503);
    expect(await treeOf(workerDir)).toEqual(EMPTY_STORE_TREE);
  });

  it('keeps the local limit: an artifact past maxArtifactBytes is refused with 413', async () => {
    const small = await createArtifactStore({ dir: workerDir, maxArtifactBytes: 1024 * 1024 });
    const err = await failure(fetchArtifact(base, file.sha256, small));
    expect(err.code).toBe('SIBYL_ARTIFACT_TOO_LARGE');
    expect(await treeOf(workerDir)).toEqual(EMPTY_STORE_TREE);
  });
});

describe('fetchArtifact from a misbehaving server', () => {
  let server: Server;
  let misbehave: (req: IncomingMessage, res: ServerResponse) => void;
  let badBase: string;

  beforeAll(async () => {
    server = createServer((req, res) => misbehave(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    badBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('refuses a corrupted transfer (wrong bytes) and keeps nothing', async () => {
    const corrupted = Buffer.from(fileBytes);
    corrupted[123_456] = (corrupted[123_456] ?? 0) ^ 0x01;
    misbehave = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': corrupted.length });
      res.end(corrupted);
    };
    const err = await failure(fetchArtifact(badBase, file.sha256, worker));
    expect(err.code).toBe('SIBYL_ARTIFACT_FETCH_FAILED');
    expect(err.message).toContain('sha256 mismatch');
    expect(err.message).toContain(file.sha256);
    expect(err.message).toContain(sha256Of(corrupted));
    expect((err.cause as SibylError).code).toBe('SIBYL_ARTIFACT_HASH_MISMATCH');
    expect(await treeOf(workerDir)).toEqual(EMPTY_STORE_TREE);
  });

  it('refuses a transfer cut short (connection closed before Content-Length) and keeps nothing', async () => {
    misbehave = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': fileBytes.length });
      res.write(fileBytes.subarray(0, 1024 * 1024), () => setTimeout(() => res.socket?.destroy(), 20));
    };
    const err = await failure(fetchArtifact(badBase, file.sha256, worker));
    expect(err.code).toBe('SIBYL_ARTIFACT_FETCH_FAILED');
    expect(await treeOf(workerDir)).toEqual(EMPTY_STORE_TREE);
  });

  it('refuses a short body that ends cleanly (no Content-Length) by its hash', async () => {
    misbehave = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(fileBytes.subarray(0, 1000));
    };
    const err = await failure(fetchArtifact(badBase, file.sha256, worker));
    expect(err.code).toBe('SIBYL_ARTIFACT_FETCH_FAILED');
    expect(err.message).toContain('sha256 mismatch');
    expect(await treeOf(workerDir)).toEqual(EMPTY_STORE_TREE);
  });

  it('refuses a server that announces another artifact, before storing anything', async () => {
    misbehave = (_req, res) => {
      res.writeHead(200, { 'x-sibyl-sha256': archive.sha256, 'content-length': fileBytes.length });
      res.end(fileBytes);
    };
    const err = await failure(fetchArtifact(badBase, file.sha256, worker));
    expect(err.code).toBe('SIBYL_ARTIFACT_FETCH_FAILED');
    expect(err.message).toContain(`the server sent artifact ${archive.sha256}`);
    expect(await treeOf(workerDir)).toEqual(EMPTY_STORE_TREE);
  });

  it('reports a server error with its status and {"error"} message', async () => {
    misbehave = (_req, res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'disk on fire' }));
    };
    const err = await failure(fetchArtifact(badBase, file.sha256, worker));
    expect(err.code).toBe('SIBYL_ARTIFACT_FETCH_FAILED');
    expect(err.message).toContain('the server answered 500: disk on fire');
  });

  it('requests /v1/artifacts/{sha256} under a base URL with a path prefix', async () => {
    let requested = '';
    misbehave = (req, res) => {
      requested = req.url ?? '';
      res.writeHead(200, { 'content-length': fileBytes.length });
      res.end(fileBytes);
    };
    await fetchArtifact(`${badBase}/files`, file.sha256, worker);
    expect(requested).toBe(`/files/v1/artifacts/${file.sha256}`);
  });

  it('stops and keeps nothing when aborted mid-transfer', async () => {
    const controller = new AbortController();
    misbehave = (_req, res) => {
      res.writeHead(200, { 'content-length': fileBytes.length });
      res.write(fileBytes.subarray(0, 64 * 1024), () => setTimeout(() => controller.abort(), 20));
    };
    const err = await failure(fetchArtifact(badBase, file.sha256, worker, { signal: controller.signal }));
    expect(err.code).toBe('SIBYL_ARTIFACT_FETCH_FAILED');
    expect(await treeOf(workerDir)).toEqual(EMPTY_STORE_TREE);
  });
});
