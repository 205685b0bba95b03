import { randomBytes } from 'node:crypto';
import { readFile, stat, utimes, writeFile, mkdir } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SibylError } from '@sibyl/protocol';
import { createArtifactStore, type ArtifactStore } from './artifact-store.js';
import {
  EMPTY_STORE_TREE,
  generatedStream,
  pseudoRandomBytes,
  sha256Of,
  streamOf,
  tempDir,
  treeOf,
} from './test-support/fixtures.js';

let dir: string;
let cleanup: () => Promise<void>;
let store: ArtifactStore;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  store = await createArtifactStore({ dir, maxArtifactBytes: 16 * 1024 * 1024 });
});
afterEach(async () => cleanup());

/** The rejection of `promise`, which must be a SibylError. */
async function failure(promise: Promise<unknown>): Promise<SibylError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SibylError);
  return err as SibylError;
}

describe('put: files', () => {
  it('stores a small file at sha256/<xx>/<sha256> and reports it', async () => {
    const bytes = Buffer.from('an onnx model, or close enough');
    const sha256 = sha256Of(bytes);
    const stored = await store.put(streamOf(bytes), { filename: 'model.onnx' });
    const expectedPath = path.join(dir, 'sha256', sha256.slice(0, 2), sha256);
    expect(stored).toEqual({
      format: 'file',
      sha256,
      size: bytes.length,
      path: expectedPath,
      filename: 'model.onnx',
      alreadyStored: false,
    });
    expect(await readFile(expectedPath)).toEqual(bytes);
    expect(await treeOf(dir)).toEqual([...EMPTY_STORE_TREE, `sha256/${sha256.slice(0, 2)}/`, `sha256/${sha256.slice(0, 2)}/${sha256}`].sort());
  });

  it('stores an empty file', async () => {
    const stored = await store.put(streamOf(''), { filename: 'empty.bin' });
    expect(stored.size).toBe(0);
    expect(stored.sha256).toBe(sha256Of(Buffer.alloc(0)));
  });

  it('streams a file of several MiB in small chunks and hashes it exactly', async () => {
    const size = 9 * 1024 * 1024 + 123;
    const { stream, digest } = generatedStream(size, { chunkBytes: 16 * 1024 });
    const stored = await store.put(stream, { filename: 'big.onnx', expectedSize: size });
    const sha256 = digest();
    expect(stored.sha256).toBe(sha256);
    expect(stored.size).toBe(size);
    expect((await stat(stored.path)).size).toBe(size);
    expect(sha256Of(await readFile(stored.path))).toBe(sha256);
    expect(await store.verify(sha256)).toBe(true);
  });

  it('is idempotent: the same bytes again return the stored artifact and write nothing', async () => {
    const bytes = pseudoRandomBytes(100_000);
    const first = await store.put(streamOf(bytes), { filename: 'a.onnx' });
    const before = await stat(first.path);
    const second = await store.put(streamOf(bytes), { filename: 'b.onnx', expectedSha256: first.sha256 });
    expect(second).toEqual({ ...first, filename: 'b.onnx', alreadyStored: true });
    expect((await stat(second.path)).mtimeMs).toBe(before.mtimeMs);
    expect((await treeOf(path.join(dir, 'tmp')))).toEqual([]);
  });

  it('stores concurrent puts of the same bytes once', async () => {
    const bytes = pseudoRandomBytes(300_000, 3);
    const results = await Promise.all([1, 2, 3, 4].map(() => store.put(streamOf(bytes), { filename: 'm.onnx' })));
    expect(new Set(results.map((r) => r.sha256)).size).toBe(1);
    const sha256 = sha256Of(bytes);
    expect(await treeOf(dir)).toEqual([...EMPTY_STORE_TREE, `sha256/${sha256.slice(0, 2)}/`, `sha256/${sha256.slice(0, 2)}/${sha256}`].sort());
  });

  it('refuses a sha256 mismatch, naming both hashes, and keeps nothing', async () => {
    const bytes = Buffer.from('the real bytes');
    const wrong = sha256Of(Buffer.from('other bytes'));
    const err = await failure(store.put(streamOf(bytes), { filename: 'model.onnx', expectedSha256: wrong }));
    expect(err.code).toBe('SIBYL_ARTIFACT_HASH_MISMATCH');
    expect(err.httpStatus).toBe(400);
    expect(err.message).toContain(wrong);
    expect(err.message).toContain(sha256Of(bytes));
    expect(err.message).toContain("'model.onnx'");
    expect(await treeOf(dir)).toEqual(EMPTY_STORE_TREE);
  });

  it('refuses a size mismatch, naming both sizes, and keeps nothing', async () => {
    const err = await failure(store.put(streamOf('12345'), { filename: 'model.onnx', expectedSize: 6 }));
    expect(err.code).toBe('SIBYL_ARTIFACT_SIZE_MISMATCH');
    expect(err.message).toContain('expected 6 bytes, received 5');
    expect(await treeOf(dir)).toEqual(EMPTY_STORE_TREE);
  });

  it('refuses an upload past maxArtifactBytes with 413, stops reading, and keeps nothing', async () => {
    const small = await createArtifactStore({ dir, maxArtifactBytes: 1024 * 1024 });
    const { stream } = generatedStream(64 * 1024 * 1024, { chunkBytes: 64 * 1024 });
    const err = await failure(small.put(stream, { filename: 'huge.onnx' }));
    expect(err.code).toBe('SIBYL_ARTIFACT_TOO_LARGE');
    expect(err.httpStatus).toBe(413);
    expect(err.message).toContain('1048576 bytes');
    // Reading stopped at the limit (plus what the stream had buffered), and the source is left to its owner.
    expect(stream.readableEnded).toBe(false);
    expect(stream.destroyed).toBe(false);
    stream.destroy();
    expect(await treeOf(dir)).toEqual(EMPTY_STORE_TREE);
  });

  it('accepts an upload of exactly maxArtifactBytes', async () => {
    const small = await createArtifactStore({ dir, maxArtifactBytes: 4096 });
    const stored = await small.put(streamOf(pseudoRandomBytes(4096)), { filename: 'edge.bin' });
    expect(stored.size).toBe(4096);
  });

  it('keeps nothing when the stream errors mid-way', async () => {
    const { stream } = generatedStream(8 * 1024 * 1024, { failAfterBytes: 3 * 1024 * 1024 });
    const err = await failure(store.put(stream, { filename: 'model.onnx' }));
    expect(err.code).toBe('SIBYL_ARTIFACT_UPLOAD_INCOMPLETE');
    expect(err.message).toContain('source failed on purpose');
    expect(err.message).toContain('3145728 bytes');
    expect(await treeOf(dir)).toEqual(EMPTY_STORE_TREE);
  });

  it('keeps nothing when the stream is destroyed without an error (premature close)', async () => {
    const stream = new Readable({ read() {} });
    stream.push(pseudoRandomBytes(1000));
    setTimeout(() => stream.destroy(), 20);
    const err = await failure(store.put(stream, { filename: 'model.onnx' }));
    expect(err.code).toBe('SIBYL_ARTIFACT_UPLOAD_INCOMPLETE');
    expect(await treeOf(dir)).toEqual(EMPTY_STORE_TREE);
  });

  it('refuses a stream of strings (an encoding was set: the bytes are already altered)', async () => {
    const err = await failure(store.put(Readable.from(['text']), { filename: 'model.onnx' }));
    expect(err.code).toBe('SIBYL_ARTIFACT_UPLOAD_INCOMPLETE');
    expect(await treeOf(dir)).toEqual(EMPTY_STORE_TREE);
  });

  it('keeps nothing when an HTTP client aborts its upload mid-way (real socket)', async () => {
    let settle!: (result: unknown) => void;
    const settled = new Promise<unknown>((resolve) => (settle = resolve));
    const server: Server = createServer((req, res) => {
      store.put(req, { filename: 'model.onnx' }).then(settle, settle).finally(() => res.end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const req = httpRequest({ port, host: '127.0.0.1', method: 'POST', headers: { 'content-length': String(4 * 1024 * 1024) } });
      req.on('error', () => {});
      req.write(pseudoRandomBytes(512 * 1024));
      await new Promise((resolve) => setTimeout(resolve, 50));
      req.destroy();
      const err = await settled;
      expect(err).toBeInstanceOf(SibylError);
      expect((err as SibylError).code).toBe('SIBYL_ARTIFACT_UPLOAD_INCOMPLETE');
      expect(await treeOf(dir)).toEqual(EMPTY_STORE_TREE);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it.each([
    ['', 'it is empty'],
    ['..', 'not a file name'],
    ['a/model.onnx', 'single path segment'],
    ['a\\model.onnx', 'single path segment'],
    ['model\n.onnx', 'control character'],
    ['m'.repeat(256), 'longer than 255 bytes'],
  ])('refuses the filename %j before reading anything', async (filename, why) => {
    const stream = streamOf('x');
    const err = await failure(store.put(stream, { filename }));
    expect(err.code).toBe('SIBYL_ARTIFACT_FILENAME_INVALID');
    expect(err.message).toContain(why);
    expect(await treeOf(dir)).toEqual(EMPTY_STORE_TREE);
  });

  it('refuses a malformed expectedSha256 and a negative expectedSize', async () => {
    const upper = sha256Of(Buffer.from('x')).toUpperCase();
    const hashErr = await failure(store.put(streamOf('x'), { filename: 'm.onnx', expectedSha256: upper }));
    expect(hashErr.code).toBe('SIBYL_ARTIFACT_HASH_INVALID');
    expect(hashErr.message).toContain('expectedSha256');
    const sizeErr = await failure(store.put(streamOf('x'), { filename: 'm.onnx', expectedSize: -1 }));
    expect(sizeErr.code).toBe('SIBYL_ARTIFACT_OPTION_INVALID');
    expect(sizeErr.message).toContain('expectedSize');
  });
});

describe('reads, verify, remove', () => {
  it('has, stat, pathOf and open see a stored file; an unknown one is NOT_FOUND', async () => {
    const bytes = pseudoRandomBytes(70_000);
    const { sha256, path: stored } = await store.put(streamOf(bytes), { filename: 'model.onnx' });
    expect(await store.has(sha256)).toBe(true);
    expect(store.pathOf(sha256)).toBe(stored);
    expect(await store.stat(sha256)).toEqual({ format: 'file', sha256, size: bytes.length, path: stored });
    const opened = await store.open(sha256);
    expect(opened).toMatchObject({ sha256, format: 'file', size: bytes.length });
    const chunks: Buffer[] = [];
    for await (const chunk of opened.stream) chunks.push(chunk as Buffer);
    expect(sha256Of(Buffer.concat(chunks))).toBe(sha256);

    const unknown = sha256Of(Buffer.from('never stored'));
    expect(await store.has(unknown)).toBe(false);
    expect((await failure(store.stat(unknown))).code).toBe('SIBYL_ARTIFACT_NOT_FOUND');
    const notFound = await failure(store.open(unknown));
    expect(notFound.httpStatus).toBe(404);
    expect(notFound.message).toContain(unknown);
  });

  it('refuses a malformed sha256 on every read with 400', async () => {
    for (const bad of ['abc', 'A'.repeat(64), `${'0'.repeat(63)}g`, '../../etc/passwd']) {
      for (const call of [() => store.has(bad), () => store.stat(bad), () => store.open(bad), () => store.remove(bad), () => store.verify(bad)]) {
        const err = await failure(call());
        expect(err.code).toBe('SIBYL_ARTIFACT_HASH_INVALID');
        expect(err.httpStatus).toBe(400);
      }
      expect(() => store.pathOf(bad)).toThrow(SibylError);
    }
  });

  it('verify re-hashes the stored bytes and notices corruption on disk', async () => {
    const { sha256, path: stored } = await store.put(streamOf(pseudoRandomBytes(5000)), { filename: 'm.onnx' });
    expect(await store.verify(sha256)).toBe(true);
    await writeFile(stored, 'bit rot');
    expect(await store.verify(sha256)).toBe(false);
    expect((await failure(store.verify(sha256Of(Buffer.from('nope'))))).code).toBe('SIBYL_ARTIFACT_NOT_FOUND');
  });

  it('remove deletes an artifact and reports whether there was one', async () => {
    const { sha256 } = await store.put(streamOf('bytes'), { filename: 'm.onnx' });
    expect(await store.remove(sha256)).toBe(true);
    expect(await store.has(sha256)).toBe(false);
    expect(await store.remove(sha256)).toBe(false);
    // Removing the artifact leaves its (empty) shard directory; nothing else.
    expect(await treeOf(dir)).toEqual([...EMPTY_STORE_TREE, `sha256/${sha256.slice(0, 2)}/`].sort());
  });
});

describe('temp directory', () => {
  it('opening the store removes every leftover of an earlier run', async () => {
    await writeFile(path.join(dir, 'tmp', 'upload-crashed'), randomBytes(100));
    await mkdir(path.join(dir, 'tmp', 'extract-crashed', 'nested'), { recursive: true });
    await writeFile(path.join(dir, 'tmp', 'extract-crashed', 'nested', 'model.json'), '{}');
    await createArtifactStore({ dir });
    expect(await treeOf(dir)).toEqual(EMPTY_STORE_TREE);
  });

  it('cleanTemp({ olderThanMs }) removes only leftovers at least that old', async () => {
    const old = path.join(dir, 'tmp', 'upload-old');
    const fresh = path.join(dir, 'tmp', 'upload-fresh');
    await writeFile(old, 'old');
    await writeFile(fresh, 'fresh');
    const hourAgo = new Date(Date.now() - 60 * 60 * 1000);
    await utimes(old, hourAgo, hourAgo);
    expect(await store.cleanTemp({ olderThanMs: 10 * 60 * 1000 })).toBe(1);
    expect(await treeOf(path.join(dir, 'tmp'))).toEqual(['upload-fresh']);
  });

  it('cleanTemp() leaves an upload in progress alone', async () => {
    const source = new Readable({ read() {} });
    const put = store.put(source, { filename: 'm.onnx' });
    source.push(Buffer.from('first half '));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await treeOf(path.join(dir, 'tmp'))).length).toBe(1);
    expect(await store.cleanTemp()).toBe(0);
    source.push(Buffer.from('second half'));
    source.push(null);
    const stored = await put;
    expect(await readFile(stored.path, 'utf8')).toBe('first half second half');
  });
});

describe('options', () => {
  it('refuses bad options, naming the option', async () => {
    await expect(createArtifactStore({ dir: '' })).rejects.toThrow(/'dir'/);
    await expect(createArtifactStore({ dir, maxArtifactBytes: 0 })).rejects.toThrow(/'maxArtifactBytes' must be a positive integer/);
    await expect(createArtifactStore({ dir, maxExtractedBytes: 1.5 })).rejects.toThrow(/'maxExtractedBytes'/);
    await expect(createArtifactStore({ dir, maxArchiveEntries: -1 })).rejects.toThrow(/'maxArchiveEntries'/);
  });

  it('defaults maxExtractedBytes to maxArtifactBytes and freezes the options', async () => {
    const opened = await createArtifactStore({ dir, maxArtifactBytes: 1000 });
    expect(opened.options).toEqual({ dir, maxArtifactBytes: 1000, maxExtractedBytes: 1000, maxArchiveEntries: 10_000 });
    expect(Object.isFrozen(opened.options)).toBe(true);
  });
});
