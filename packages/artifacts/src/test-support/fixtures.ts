/**
 * Test fixtures: archives built with tar-stream and zlib (as a user's `tar czf` would), byte streams
 * that are generated as they are read, and a view of everything a store left on disk.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import tar, { type Header } from 'tar-stream';

export type EntrySpec = Partial<Omit<Header, 'type'>> & {
  name: string;
  type?: Header['type'] | string;
  content?: string | Buffer;
};

/** An uncompressed tar of `entries`, in order; `content` sets `size` unless it is given. */
export async function tarOf(entries: readonly EntrySpec[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const { content, ...header } of entries) {
    const body = content === undefined ? undefined : Buffer.from(content);
    const full = { size: body?.length ?? 0, ...header } as Header;
    if (body === undefined) pack.entry(full);
    else pack.entry(full, body);
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function tarGzOf(entries: readonly EntrySpec[]): Promise<Buffer> {
  return gzipSync(await tarOf(entries));
}

export function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Deterministic pseudo-random bytes (xorshift), so large inputs need no fixture files. */
export function pseudoRandomBytes(length: number, seed = 1): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/**
 * `totalBytes` of pseudo-random data in `chunkBytes` chunks, generated as the stream is read (never
 * all in memory); `hash` is filled in as bytes are produced. `failAfterBytes` makes the stream error
 * once that many bytes have been delivered.
 */
export function generatedStream(
  totalBytes: number,
  options: { chunkBytes?: number; failAfterBytes?: number; seed?: number } = {},
): { stream: Readable; digest: () => string } {
  const chunkBytes = options.chunkBytes ?? 64 * 1024;
  const hash = createHash('sha256');
  let sent = 0;
  let seed = options.seed ?? 7;
  const stream = new Readable({
    read() {
      if (options.failAfterBytes !== undefined && sent >= options.failAfterBytes) {
        this.destroy(new Error('source failed on purpose'));
        return;
      }
      if (sent >= totalBytes) {
        this.push(null);
        return;
      }
      const chunk = pseudoRandomBytes(Math.min(chunkBytes, totalBytes - sent), seed++);
      sent += chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
  return { stream, digest: () => hash.digest('hex') };
}

export function streamOf(bytes: Uint8Array | string): Readable {
  return Readable.from([Buffer.from(bytes)]);
}

/** Every path under `dir`, relative, '/'-separated, directories with a trailing '/', sorted. */
export async function treeOf(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (relative: string): Promise<void> => {
    for (const entry of await readdir(path.join(dir, relative), { withFileTypes: true })) {
      const child = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) {
        out.push(`${child}/`);
        await walk(child);
      } else {
        out.push(child);
      }
    }
  };
  await walk('');
  return out.sort();
}

/** What an empty store looks like on disk. */
export const EMPTY_STORE_TREE = ['sha256/', 'tmp/'];

/** A fresh temp directory and a function that deletes it. */
export async function tempDir(prefix = 'sibyl-artifacts-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
