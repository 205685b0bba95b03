/**
 * How the REST edge reads a request body: always as one raw Buffer, whatever the Content-Type, so
 * fastify never JSON-parses it (the codecs in @sibyl/protocol own parsing, including the binary
 * tensor data extension, whose bodies are JSON followed by raw bytes).
 *
 * Request Content-Encoding follows Triton: gzip and deflate bodies are inflated here, identity or no
 * encoding passes through, anything else is SIBYL_GATEWAY_COMPRESSION_UNSUPPORTED (501). The body
 * limit applies to the bytes on the wire (fastify enforces it while reading) and again to the
 * inflated bytes, so a small compressed body cannot expand past it.
 */
import type { IncomingMessage } from 'node:http';
import { gunzip, inflate, type InputType, type ZlibOptions } from 'node:zlib';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { markRequestOwned } from '@sibyl/protocol';
import { bodyIncomplete, bodyNotDecompressible, bodyTooLarge, compressionUnsupported } from './errors.js';

type Done = (err: Error | null, body?: Buffer) => void;
type Inflate = (buf: InputType, options: ZlibOptions, callback: (err: Error | null, result: Buffer) => void) => void;

/** Replaces every content-type parser of `app` with the raw-Buffer reader described above. */
export function registerRawBodyParser(app: FastifyInstance, bodyLimitBytes: number): void {
  const inflateOptions: ZlibOptions = Object.freeze({ maxOutputLength: bodyLimitBytes });

  const inflateWith = (codec: Inflate, encoding: string, body: Buffer, done: Done): void => {
    codec(body, inflateOptions, (err, out) => {
      if (err === null) done(null, out);
      else if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') done(bodyTooLarge(bodyLimitBytes));
      else done(bodyNotDecompressible(encoding, err.message));
    });
  };

  app.removeAllContentTypeParsers();
  const parse = (request: FastifyRequest, payload: IncomingMessage, done: Done) => {
    readBody(request, payload, bodyLimitBytes, (err, body) => {
      if (err === null) decode(request, body!, done);
      else done(err);
    });
  };
  // The same reader under the two types v2 clients send, besides the catch-all: fastify caches the
  // parser it finds for a named type, but parses the Content-Type header again on every request
  // that falls through to '*'.
  app.addContentTypeParser(['application/json', 'application/octet-stream'], parse);
  app.addContentTypeParser('*', parse);

  const decode = (request: FastifyRequest, body: Buffer, done: Done): void => {
    const encoding = request.headers['content-encoding'];
    if (encoding === undefined) {
      done(null, body);
      return;
    }
    switch (encoding.trim().toLowerCase()) {
      case '':
      case 'identity':
        done(null, body);
        return;
      case 'gzip':
      case 'x-gzip':
        inflateWith(gunzip, 'gzip', body, done);
        return;
      case 'deflate':
        inflateWith(inflate, 'deflate', body, done);
        return;
      default:
        done(compressionUnsupported(encoding));
    }
  };
}

/** Bodies from this size up get an aligned buffer of their own (see readBody). */
const ALIGN_FROM_BYTES = 64 * 1024;

/**
 * Reads the whole body into one Buffer, refusing more than `limit` bytes.
 *
 * With a Content-Length the Buffer is allocated once, at its final size, and (from ALIGN_FROM_BYTES
 * up) placed so that the byte
 * after the binary extension's JSON header (Inference-Header-Content-Length) sits at an 8-byte
 * aligned address. The first tensor blob (and each later one whose offset keeps the alignment) then
 * decodes to a typed-array view of the body instead of a copy: for a 16 MiB FP32 tensor that is one
 * 16 MiB allocation and copy less per request. Such a body is marked as its request's alone
 * (markRequestOwned), so a model on a thread takes it as it is: another copy less. Without a Content-Length (chunked) the chunks are
 * gathered and joined.
 */
function readBody(request: FastifyRequest, payload: IncomingMessage, limit: number, done: Done): void {
  const declared = request.headers['content-length'];
  const length = declared === undefined ? undefined : Number(declared);
  if (length !== undefined && length > limit) {
    payload.resume();
    done(bodyTooLarge(limit));
    return;
  }
  let received = 0;
  let body: Buffer | undefined;
  const chunks: Buffer[] = [];
  if (length !== undefined && Number.isSafeInteger(length)) {
    if (length < ALIGN_FROM_BYTES) {
      // Small bodies come from Node's buffer pool; copying their blobs costs less than a fresh allocation.
      body = Buffer.allocUnsafe(length);
    } else {
      const header = Number(request.headers['inference-header-content-length']);
      const pad = Number.isSafeInteger(header) && header > 0 && header <= length ? (8 - (header % 8)) % 8 : 0;
      // A fresh ArrayBuffer starts 8-aligned; every byte of the view is written before it is used.
      body = Buffer.allocUnsafeSlow(length + pad).subarray(pad, pad + length);
      // Nothing else lives in it, and the edge does not read it once decoded: a thread instance may
      // move it to its thread with the tensors in it instead of copying them out.
      markRequestOwned(body.buffer);
    }
  }
  let failed = false;
  const fail = (err: Error) => {
    failed = true;
    payload.removeAllListeners('data');
    payload.resume();
    done(err);
  };
  payload.on('data', (chunk: Buffer) => {
    if (received + chunk.length > (body?.length ?? limit)) {
      fail(body === undefined ? bodyTooLarge(limit) : bodyIncomplete(received + chunk.length, body.length));
      return;
    }
    if (body === undefined) chunks.push(chunk);
    else chunk.copy(body, received);
    received += chunk.length;
  });
  payload.on('end', () => {
    if (failed) return;
    if (body === undefined) done(null, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received));
    else if (received === body.length) done(null, body);
    else done(bodyIncomplete(received, body.length));
  });
  payload.on('error', (err) => {
    if (!failed) fail(err);
  });
}
