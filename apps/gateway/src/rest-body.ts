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
import { gunzip, inflate, type InputType, type ZlibOptions } from 'node:zlib';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { bodyNotDecompressible, bodyTooLarge, compressionUnsupported } from './errors.js';

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
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (request: FastifyRequest, body: Buffer, done: Done) => {
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
  });
}
