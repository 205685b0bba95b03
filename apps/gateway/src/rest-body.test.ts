import { gzipSync } from 'node:zlib';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerRawBodyParser } from './rest-body.js';
import { registerRestErrorHandling } from './rest-errors.js';
import { createLogger } from '@sibyl/observability';
import { isRequestOwned } from '@sibyl/protocol';

// A route that reports what the body reader handed it: where the byte after the JSON header sits.
describe('the REST body reader', () => {
  const app = Fastify({ logger: false });
  beforeAll(async () => {
    registerRawBodyParser(app, 1024 * 1024);
    registerRestErrorHandling(app, createLogger({ destination: { write: () => true } as unknown as NodeJS.WritableStream }), 1024 * 1024);
    app.post('/echo', async (request) => {
      const body = request.body as Buffer;
      const header = Number(request.headers['inference-header-content-length'] ?? 0);
      return { length: body.length, text: body.toString('latin1'), blobAlignment: (body.byteOffset + header) % 8, owned: isRequestOwned(body.buffer) };
    });
    await app.ready();
  });
  afterAll(() => app.close());

  it.each([1, 7, 13, 64, 101])('places the first blob of a large body on an 8-byte boundary (header of %i bytes)', async (headerLength) => {
    const payload = Buffer.concat([Buffer.alloc(headerLength, 0x7b), Buffer.alloc(100_000, 1)]);
    const res = await app.inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(headerLength) },
      payload,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ length: payload.length, blobAlignment: 0, text: payload.toString('latin1'), owned: true });
  });

  it("marks only a large body's buffer as its request's alone: a small one shares Node's buffer pool", async () => {
    const res = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: '{"inputs":[]}' });
    expect(res.json()).toMatchObject({ owned: false });
  });

  it('still inflates gzip bodies and refuses bodies over the limit with 413', async () => {
    const text = 'x'.repeat(500);
    const ok = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-encoding': 'gzip' }, payload: gzipSync(text) });
    expect(ok.json()).toMatchObject({ text });
    const big = await app.inject({ method: 'POST', url: '/echo', payload: Buffer.alloc(1024 * 1024 + 1) });
    expect(big.statusCode).toBe(413);
    expect(big.json().error).toMatch(/larger than the limit of 1048576 bytes/);
  });
});
