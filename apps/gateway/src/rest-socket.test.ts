import { Agent, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLogger, FakeInferenceService } from './fake-inference-service.fixture.js';
import { createRestServer } from './rest-server.js';

// The REST edge over a real TCP socket: what inject cannot show (client disconnects, real framing).
let service: FakeInferenceService;
let app: FastifyInstance;
let base: string;
let port: number;

beforeAll(async () => {
  service = new FakeInferenceService();
  app = createRestServer({ service, logger: captureLogger().logger });
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await app.close();
});

describe('REST over a socket', () => {
  it('serves health, metadata and a binary infer', async () => {
    expect((await fetch(`${base}/v2/health/ready`)).status).toBe(200);
    expect(await (await fetch(`${base}/v2/models/echo`)).json()).toMatchObject({ name: 'echo' });

    const data = Buffer.from(new Float32Array([0.5, 1.5, 2.5, 3.5]).buffer);
    const header = Buffer.from(
      JSON.stringify({
        inputs: [{ name: 'INPUT0', shape: [1, 4], datatype: 'FP32', parameters: { binary_data_size: 16 } }],
        parameters: { binary_data_output: true },
      }),
    );
    const res = await fetch(`${base}/v2/models/echo/infer`, {
      method: 'POST',
      headers: {
        'content-type': 'application/octet-stream',
        'content-encoding': 'gzip',
        'inference-header-content-length': String(header.length),
      },
      body: gzipSync(Buffer.concat([header, data])),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    const length = Number(res.headers.get('inference-header-content-length'));
    const body = Buffer.from(await res.arrayBuffer());
    expect(JSON.parse(body.subarray(0, length).toString()).outputs[0].parameters).toEqual({ binary_data_size: 16 });
    expect(body.subarray(length).equals(data)).toBe(true);
  });

  it('shares one signal among the requests of a keep-alive connection, unaborted while it lives', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const payload = JSON.stringify({ inputs: [{ name: 'INPUT0', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] });
    const post = () =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, agent, method: 'POST', path: '/v2/models/echo/infer' }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end(payload);
      });
    try {
      const first = service.contexts.length;
      expect(await post()).toBe(200);
      expect(await post()).toBe(200);
      const [a, b] = service.contexts.slice(first);
      expect(a!.signal).toBe(b!.signal);
      expect(a!.signal!.aborted).toBe(false);
    } finally {
      agent.destroy();
    }
  });

  it('aborts the context signal when the client disconnects before the answer', async () => {
    const payload = JSON.stringify({ inputs: [{ name: 'INPUT0', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] });
    const before = service.requests.length;
    const req = httpRequest({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/v2/models/sleepy/infer',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
    });
    req.on('error', () => {});
    req.end(payload);
    // Wait until the service holds the request, then hang up.
    while (service.requests.length === before) await new Promise((r) => setTimeout(r, 5));
    const ended = service.sleepyEnded;
    req.destroy();
    expect(await ended).toEqual({ aborted: true });
  });
});
