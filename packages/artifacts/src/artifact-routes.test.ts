import { request as httpRequest } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createArtifactStore, type ArtifactStore, type StoredArtifact } from './artifact-store.js';
import { registerArtifactRoutes } from './artifact-routes.js';
import { generatedStream, pseudoRandomBytes, sha256Of, streamOf, tarGzOf, tempDir } from './test-support/fixtures.js';

let cleanup: () => Promise<void>;
let store: ArtifactStore;
let app: FastifyInstance;
let base: string;
let file: StoredArtifact;
let archive: StoredArtifact;
let archiveBytes: Buffer;
const fileBytes = pseudoRandomBytes(300_000, 5);

beforeAll(async () => {
  let dir: string;
  ({ dir, cleanup } = await tempDir());
  store = await createArtifactStore({ dir });
  file = await store.put(streamOf(fileBytes), { filename: 'model.onnx' });
  archiveBytes = await tarGzOf([{ name: 'model.json', content: '{}' }, { name: 'w/shard1.bin', content: pseudoRandomBytes(1000) }]);
  archive = await store.put(streamOf(archiveBytes), { filename: 'model.tar.gz' });
  app = Fastify({ forceCloseConnections: true });
  registerArtifactRoutes(app, store);
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await app.close();
  await cleanup();
});

const url = (sha256: string) => `${base}/v1/artifacts/${sha256}`;

describe('GET /v1/artifacts/:sha256', () => {
  it('streams a stored file with its length, ETag, hash and content type', async () => {
    const res = await fetch(url(file.sha256));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String(fileBytes.length));
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(res.headers.get('etag')).toBe(`"${file.sha256}"`);
    expect(res.headers.get('x-sibyl-sha256')).toBe(file.sha256);
    expect(res.headers.get('cache-control')).toContain('immutable');
    expect(sha256Of(Buffer.from(await res.arrayBuffer()))).toBe(file.sha256);
  });

  it('sends the archive as uploaded for a directory artifact', async () => {
    const res = await fetch(url(archive.sha256));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String(archiveBytes.length));
    expect(Buffer.from(await res.arrayBuffer()).equals(archiveBytes)).toBe(true);
  });

  it('streams a file of several MiB', async () => {
    const size = 6 * 1024 * 1024;
    const { stream, digest } = generatedStream(size);
    const big = await store.put(stream, { filename: 'big.onnx' });
    expect(big.sha256).toBe(digest());
    const res = await fetch(url(big.sha256));
    expect(res.headers.get('content-length')).toBe(String(size));
    expect(sha256Of(Buffer.from(await res.arrayBuffer()))).toBe(big.sha256);
  });

  it.each([
    [(sha: string) => `"${sha}"`, 'its own ETag'],
    [(sha: string) => `W/"${sha}"`, 'the weak form'],
    [(sha: string) => `"${'0'.repeat(64)}", "${sha}"`, 'a list holding it'],
    [() => '*', '*'],
  ])('answers 304 without a body to If-None-Match with %s', async (ifNoneMatch) => {
    const res = await fetch(url(file.sha256), { headers: { 'if-none-match': ifNoneMatch(file.sha256) } });
    expect(res.status).toBe(304);
    expect(res.headers.get('etag')).toBe(`"${file.sha256}"`);
    expect((await res.arrayBuffer()).byteLength).toBe(0);
  });

  it('answers 200 to If-None-Match with another ETag', async () => {
    const res = await fetch(url(file.sha256), { headers: { 'if-none-match': `"${archive.sha256}"` } });
    expect(res.status).toBe(200);
    expect(sha256Of(Buffer.from(await res.arrayBuffer()))).toBe(file.sha256);
  });

  it.each(['abc', 'A'.repeat(64), `${'0'.repeat(63)}z`, `${'0'.repeat(65)}`, '..%2F..%2Fetc%2Fpasswd'])(
    'answers 400 with {"error"} to the malformed hash %s',
    async (bad) => {
      const res = await fetch(`${base}/v1/artifacts/${bad}`);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/json');
      const body = (await res.json()) as { error: string };
      expect(body.error).toContain('is not a sha256: expected 64 lowercase hex digits');
      expect(res.headers.get('etag')).toBeNull();
    },
  );

  it('answers 404 with {"error"} naming an unknown hash', async () => {
    const unknown = sha256Of(Buffer.from('never stored'));
    const res = await fetch(url(unknown));
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: `artifact ${unknown} not found in the artifact store` });
  });

  it('answers 404 for an unknown hash even with If-None-Match: *', async () => {
    const res = await fetch(url(sha256Of(Buffer.from('never stored'))), { headers: { 'if-none-match': '*' } });
    expect(res.status).toBe(404);
  });
});

describe('HEAD /v1/artifacts/:sha256', () => {
  it('answers the headers of GET without a body', async () => {
    const { status, headers, body } = await rawRequest('HEAD', `/v1/artifacts/${file.sha256}`);
    expect(status).toBe(200);
    expect(headers['content-length']).toBe(String(fileBytes.length));
    expect(headers['etag']).toBe(`"${file.sha256}"`);
    expect(headers['x-sibyl-sha256']).toBe(file.sha256);
    expect(headers['content-type']).toBe('application/octet-stream');
    expect(body.length).toBe(0);
  });

  it('answers 304, 400 and 404 as GET does', async () => {
    expect((await rawRequest('HEAD', `/v1/artifacts/${file.sha256}`, { 'if-none-match': `"${file.sha256}"` })).status).toBe(304);
    expect((await rawRequest('HEAD', '/v1/artifacts/nope')).status).toBe(400);
    expect((await rawRequest('HEAD', `/v1/artifacts/${sha256Of(Buffer.from('?'))}`)).status).toBe(404);
  });
});

/** A request through node:http, which (unlike fetch) shows exactly what a HEAD answer carried. */
function rawRequest(
  method: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
