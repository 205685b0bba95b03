/**
 * Fetch-and-verify: how a worker on another host gets a model file. It downloads
 * `GET {baseUrl}/v1/artifacts/{sha256}` straight into its local store through `put()` with the
 * expected sha256 (and size, from Content-Length), so a corrupted or cut-short transfer is refused and
 * leaves nothing behind.
 */
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { isSibylError } from '@sibyl/protocol';
import type { ArtifactStore, PutOptions, StoredArtifact } from './artifact-store.js';
import { artifactNotFound, fetchFailed, hashMismatch, sizeMismatch, uploadIncomplete } from './errors.js';
import { assertSha256 } from './store-layout.js';

export interface FetchArtifactOptions {
  /** Cancels the download; the store keeps nothing of it. */
  signal?: AbortSignal;
  /** Name reported in errors and on the result. Default: the sha256. */
  filename?: string;
  /** Passed to `put()`: a directory artifact must contain one of these files. */
  entryPoints?: readonly string[];
}

/** Failures of the transfer itself: retrying may help, so they become FETCH_FAILED (503). */
const TRANSFER_FAILURES = new Set([hashMismatch.code, sizeMismatch.code, uploadIncomplete.code]);

/**
 * Makes `sha256` present in `store`, downloading it from the file server at `baseUrl` (e.g.
 * `http://management:8003`) unless it is already there. NOT_FOUND when the server does not have it;
 * FETCH_FAILED when the server cannot be reached, answers an error, or sends bytes that do not match.
 */
export async function fetchArtifact(
  baseUrl: string | URL,
  sha256: string,
  store: ArtifactStore,
  options: FetchArtifactOptions = {},
): Promise<StoredArtifact> {
  assertSha256(sha256);
  const filename = options.filename ?? sha256;
  if (await store.has(sha256)) return { ...(await store.stat(sha256)), filename, alreadyStored: true };

  const url = artifactUrl(baseUrl, sha256);
  let response: Response;
  try {
    response = await fetch(url, { signal: options.signal ?? null, headers: { accept: 'application/octet-stream' } });
  } catch (err) {
    throw fetchFailed(url, describe(err));
  }
  if (!response.ok || response.body === null) {
    const detail = await errorDetail(response);
    if (response.status === 404) throw artifactNotFound(sha256, url);
    throw fetchFailed(url, `the server answered ${response.status}${detail}`);
  }
  const announced = response.headers.get('x-sibyl-sha256');
  if (announced !== null && announced !== sha256) {
    await response.body.cancel();
    throw fetchFailed(url, `the server sent artifact ${announced}`);
  }

  const put: PutOptions = { filename, expectedSha256: sha256 };
  const size = expectedSize(response);
  if (size !== undefined) put.expectedSize = size;
  if (options.entryPoints !== undefined) put.entryPoints = options.entryPoints;
  const body = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
  try {
    return await store.put(body, put);
  } catch (err) {
    if (isSibylError(err) && TRANSFER_FAILURES.has(err.code)) {
      throw Object.assign(fetchFailed(url, err.message), { cause: err });
    }
    throw err;
  } finally {
    // put() leaves the stream to its owner: whatever it did not read is not wanted.
    body.destroy();
  }
}

function artifactUrl(baseUrl: string | URL, sha256: string): string {
  const base = new URL(baseUrl);
  if (!base.pathname.endsWith('/')) base.pathname += '/';
  return new URL(`v1/artifacts/${sha256}`, base).href;
}

/**
 * Content-Length counts the bytes on the wire; with a Content-Encoding, fetch() decodes them and the
 * count no longer applies (the sha256 still does).
 */
function expectedSize(response: Response): number | undefined {
  if (response.headers.get('content-encoding') !== null) return undefined;
  const length = response.headers.get('content-length');
  if (length === null || !/^\d+$/.test(length)) return undefined;
  return Number(length);
}

/** The server's `{"error": ...}` message, if it sent one, as `: <message>`; reads at most 4 KiB of it. */
async function errorDetail(response: Response): Promise<string> {
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  try {
    for (let total = 0; total < 4096; ) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.byteLength;
    }
    await reader.cancel();
    const message = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { error?: unknown } | null)?.error;
    return typeof message === 'string' ? `: ${message}` : '';
  } catch {
    return '';
  }
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`;
}
