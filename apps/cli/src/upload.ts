/**
 * Uploading a model version: the file is hashed first (the sha256 travels in the query string, so it
 * must be known before the body), then streamed; neither pass holds the file in memory.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform, type Readable } from 'node:stream';
import { route, type ApiClient, type ApiResponse } from './api-client.js';
import { CliError, inputError } from './cli-error.js';
import type { Progress } from './progress-bar.js';

/** Read size for hashing and uploading. */
const CHUNK_BYTES = 1024 * 1024;

function readError(path: string, err: unknown): CliError {
  const reason = err instanceof Error ? err.message : String(err);
  return inputError(`cannot read ${path}: ${reason}`, err);
}

/** Hex sha256 of a file, read in chunks; `progress` sees the bytes hashed so far. */
export async function hashFile(path: string, progress: Progress): Promise<string> {
  const hash = createHash('sha256');
  let done = 0;
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: CHUNK_BYTES })) {
      hash.update(chunk as Buffer);
      done += (chunk as Buffer).length;
      progress.update(done);
    }
  } catch (err) {
    throw readError(path, err);
  } finally {
    progress.finish();
  }
  return hash.digest('hex');
}

export interface UploadRequest {
  readonly client: ApiClient;
  readonly model: string;
  readonly path: string;
  /** Sent as `?filename=`: the server tells the format by it (`model.onnx`, `model.tar.gz`). */
  readonly filename: string;
  readonly size: number;
  /** Sent as `?sha256=`: the server refuses the upload when the bytes it received differ. */
  readonly sha256: string;
  readonly progress: Progress;
}

/**
 * The file as a stream that counts what passes for the progress bar; a file that changes size while
 * being sent is an error rather than a short or long body.
 */
function fileStream(path: string, size: number, progress: Progress): Readable {
  let sent = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      sent += chunk.length;
      if (sent > size) return callback(inputError(`${path}: the file grew during the upload`));
      progress.update(sent);
      callback(null, chunk);
    },
    flush(callback) {
      callback(sent === size ? null : inputError(`${path}: the file shrank during the upload`));
    },
  });
  const file = createReadStream(path, { highWaterMark: CHUNK_BYTES });
  file.on('error', (err) => counter.destroy(readError(path, err)));
  return file.pipe(counter);
}

/** POSTs the file as a stream, with its length, so the server can refuse an oversized one at once. */
export async function uploadVersion(req: UploadRequest): Promise<ApiResponse> {
  const body = fileStream(req.path, req.size, req.progress);
  try {
    return await req.client.request('POST', route`/v1/models/${req.model}/versions`, {
      query: { filename: req.filename, sha256: req.sha256 },
      stream: body,
      contentLength: req.size,
      contentType: 'application/octet-stream',
    });
  } finally {
    req.progress.finish();
    body.destroy();
  }
}
