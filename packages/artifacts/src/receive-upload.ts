/**
 * Streams an upload into a new temporary file while hashing and counting it, then makes it durable.
 *
 * Contract: the caller owns `tempPath` and deletes it on failure. `source` is read to its end; on
 * failure reading stops but `source` is not destroyed, so an HTTP handler can still answer 413 or 400
 * on the same connection (Node discards the rest of the body).
 */
import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { artifactTooLarge, uploadIncomplete } from './errors.js';

export interface ReceivedUpload {
  sha256: string;
  /** Bytes received. */
  size: number;
  /** The first bytes are the gzip magic number (1f 8b). */
  gzip: boolean;
}

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);

export async function receiveUpload(
  source: Readable,
  tempPath: string,
  what: string,
  maxBytes: number,
): Promise<ReceivedUpload> {
  const hash = createHash('sha256');
  let size = 0;
  let head = Buffer.alloc(0);
  const file = await open(tempPath, 'wx', 0o644);
  try {
    // Not `for await (... of source)`: leaving that loop early destroys the source (see the contract).
    const chunks = source.iterator({ destroyOnReturn: false });
    try {
      for (;;) {
        let next: IteratorResult<unknown>;
        try {
          next = await chunks.next();
        } catch (err) {
          throw uploadIncomplete(what, size, describe(err));
        }
        if (next.done === true) break;
        const chunk = asBytes(next.value, what, size);
        size += chunk.byteLength;
        if (size > maxBytes) throw artifactTooLarge(what, maxBytes);
        hash.update(chunk);
        if (head.length < GZIP_MAGIC.length) {
          head = Buffer.concat([head, chunk.subarray(0, GZIP_MAGIC.length - head.length)]);
        }
        await writeAll(file, chunk);
      }
    } finally {
      await chunks.return?.();
    }
    await file.sync();
  } finally {
    await file.close();
  }
  return { sha256: hash.digest('hex'), size, gzip: head.equals(GZIP_MAGIC) };
}

/** Writes all of `bytes`: a single write() may write fewer bytes than asked. */
export async function writeAll(file: FileHandle, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.byteLength) {
    const { bytesWritten } = await file.write(bytes, offset, bytes.byteLength - offset);
    offset += bytesWritten;
  }
}

function asBytes(chunk: unknown, what: string, received: number): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  // A string chunk means someone set an encoding on the stream: the bytes are already altered.
  throw uploadIncomplete(what, received, `the stream yielded a ${typeof chunk}, not bytes`);
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === undefined ? err.message : `${err.message} (${code})`;
  }
  return String(err);
}
