import { gzipSync, deflateSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMetrics } from '@sibyl/observability';
import { captureLogger, FakeInferenceService } from './fake-inference-service.fixture.js';
import { createRestServer } from './rest-server.js';
import { SERVER_EXTENSIONS } from './server-extensions.js';

let service: FakeInferenceService;
let app: FastifyInstance;
let log: ReturnType<typeof captureLogger>;

beforeEach(() => {
  service = new FakeInferenceService();
  log = captureLogger();
  app = createRestServer({ service, logger: log.logger });
});

afterEach(async () => {
  await app.close();
});

const floats = (...values: number[]) => Buffer.from(new Float32Array(values).buffer);

/** A binary-extension body: the JSON header followed by the blobs, and the header's length. */
function framed(header: unknown, ...blobs: Buffer[]): { body: Buffer; headerLength: number } {
  const json = Buffer.from(JSON.stringify(header));
  return { body: Buffer.concat([json, ...blobs]), headerLength: json.length };
}

/** Splits a binary-extension response into its JSON header and the bytes after it. */
function unframe(body: Buffer, headerLength: number): { header: any; blobs: Buffer } {
  return { header: JSON.parse(body.subarray(0, headerLength).toString('utf8')), blobs: body.subarray(headerLength) };
}

const jsonInfer = { id: '42', inputs: [{ name: 'INPUT0', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] };

describe('health and metadata', () => {
  it('answers live and ready with 200 while true and 400 while false', async () => {
    let res = await app.inject({ method: 'GET', url: '/v2/health/live' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ live: true });
    res = await app.inject({ method: 'GET', url: '/v2/health/ready' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ready: true });

    service.live = false;
    service.ready = false;
    res = await app.inject({ method: 'GET', url: '/v2/health/live' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ live: false });
    res = await app.inject({ method: 'GET', url: '/v2/health/ready' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ ready: false });
  });

  it('serves HEAD wherever GET is served', async () => {
    const res = await app.inject({ method: 'HEAD', url: '/v2/health/ready' });
    expect(res.statusCode).toBe(200);
  });

  it("reports server metadata with the gateway's own extensions", async () => {
    const res = await app.inject({ method: 'GET', url: '/v2' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ name: 'sibyl', version: '0.1.0', extensions: [...SERVER_EXTENSIONS] });
    expect((await app.inject({ method: 'GET', url: '/v2/' })).statusCode).toBe(200);
  });

  it('answers 501 for a model configuration the service cannot tell, naming the extension', async () => {
    const res = await app.inject({ method: 'GET', url: '/v2/models/echo/config' });
    expect(res.statusCode).toBe(501);
    expect(res.json()).toMatchObject({ code: 'SIBYL_MODEL_CONFIG_UNSUPPORTED', error: "model 'echo': this server does not serve model configurations" });
    // The model name is checked first, as on every model path.
    expect((await app.inject({ method: 'GET', url: `/v2/models/${'x'.repeat(300)}/config` })).statusCode).toBe(400);
  });

  it('reports model metadata with and without a version', async () => {
    const expected = {
      name: 'echo',
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [-1, 4] }],
      outputs: [{ name: 'OUTPUT0', datatype: 'FP32', shape: [-1, 4] }],
    };
    let res = await app.inject({ method: 'GET', url: '/v2/models/echo' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(expected);
    res = await app.inject({ method: 'GET', url: '/v2/models/echo/versions/1' });
    expect(res.json()).toEqual(expected);
  });

  it('answers 404 with the service message for an unknown model or version', async () => {
    let res = await app.inject({ method: 'GET', url: '/v2/models/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: "unknown model 'nope'", code: 'TEST_MODEL_NOT_FOUND' });
    res = await app.inject({ method: 'GET', url: '/v2/models/echo/versions/7/ready' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: "unknown version '7' of model 'echo'", code: expect.stringMatching(/^(SIBYL|TEST)_[A-Z_]+$/) });
  });

  it('answers model readiness with 200 or 400', async () => {
    let res = await app.inject({ method: 'GET', url: '/v2/models/echo/ready' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ name: 'echo', ready: true });
    res = await app.inject({ method: 'GET', url: '/v2/models/loading/versions/1/ready' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ name: 'loading', ready: false });
    res = await app.inject({ method: 'GET', url: '/v2/models/nope/ready' });
    expect(res.statusCode).toBe(404);
  });
});

describe('model names and versions', () => {
  it.each([
    ['/v2/models/-leading-dash', "model name '-leading-dash' is invalid"],
    ['/v2/models/a%2F..%2Fb/ready', "model name 'a/../b' is invalid"],
    [`/v2/models/${'m'.repeat(129)}`, 'is invalid'],
    ['/v2/models/has%20space/infer', "model name 'has space' is invalid"],
  ])('rejects %s with 400 naming the rule', async (url, message) => {
    const res = await app.inject({ method: url.endsWith('infer') ? 'POST' : 'GET', url, payload: '{}' });
    expect(res.statusCode).toBe(400);
    const { error } = res.json();
    expect(error).toContain(message);
    expect(error).toContain('^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$');
  });

  it('accepts a 128-character name', async () => {
    const res = await app.inject({ method: 'GET', url: `/v2/models/${'m'.repeat(128)}` });
    expect(res.statusCode).toBe(404);
  });

  it('rejects a version that is not a number with 400 naming the rule', async () => {
    for (const url of ['/v2/models/echo/versions/latest', '/v2/models/echo/versions/1a/ready', '/v2/models/echo/versions/-1/infer']) {
      const res = await app.inject({ method: url.endsWith('infer') ? 'POST' : 'GET', url, payload: '{}' });
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toMatch(/model version '.*' is invalid: a version must match \[0-9\]\+/);
    }
  });
});

describe('infer', () => {
  it('runs a JSON request and answers JSON, echoing the id', async () => {
    const res = await app.inject({ method: 'POST', url: '/v2/models/echo/infer', payload: jsonInfer });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['inference-header-content-length']).toBeUndefined();
    const body = res.json();
    expect(body).toMatchObject({ model_name: 'echo', model_version: '1', id: '42' });
    expect(body.outputs).toEqual([{ name: 'OUTPUT0', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }]);
    expect(service.requests[0]).toMatchObject({ modelName: 'echo', id: '42' });
    expect(service.requests[0]!.modelVersion || undefined).toBeUndefined();
  });

  it('passes request, input and output parameters through to the service', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v2/models/echo/infer',
      payload: {
        parameters: { priority: 3, tag: 'blue', exact: true },
        inputs: [{ ...jsonInfer.inputs[0], parameters: { note: 'in' } }],
        outputs: [{ name: 'OUTPUT0', parameters: { binary_data: false, keep: 1.5 } }],
      },
    });
    expect(res.statusCode).toBe(200);
    const request = service.requests[0]!;
    expect(request.parameters).toEqual({ priority: 3, tag: 'blue', exact: true });
    expect(request.inputs[0]!.parameters).toEqual({ note: 'in' });
    expect(request.outputs).toEqual([{ name: 'OUTPUT0', parameters: { binary_data: false, keep: 1.5 } }]);
  });

  it('passes the path version to the service', async () => {
    const res = await app.inject({ method: 'POST', url: '/v2/models/echo/versions/1/infer', payload: jsonInfer });
    expect(res.statusCode).toBe(200);
    expect(service.requests[0]!.modelVersion).toBe('1');
  });

  it('never lets fastify parse the body, whatever the Content-Type', async () => {
    for (const contentType of ['application/json', 'text/plain', 'application/octet-stream', 'application/x-weird']) {
      const res = await app.inject({
        method: 'POST',
        url: '/v2/models/echo/infer',
        headers: { 'content-type': contentType },
        payload: JSON.stringify(jsonInfer),
      });
      expect(res.statusCode, contentType).toBe(200);
    }
  });

  it('reads a body sent without Content-Type', async () => {
    const res = await app.inject({ method: 'POST', url: '/v2/models/echo/infer', payload: Buffer.from(JSON.stringify(jsonInfer)) });
    expect(res.statusCode).toBe(200);
  });

  it('answers 400 with the codec message for malformed JSON and for an empty body', async () => {
    let res = await app.inject({ method: 'POST', url: '/v2/models/echo/infer', headers: { 'content-type': 'application/json' }, payload: '{"inputs": [' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatch(/JSON/);
    res = await app.inject({ method: 'POST', url: '/v2/models/echo/infer' });
    expect(res.statusCode).toBe(400);
    expect(typeof res.json().error).toBe('string');
  });

  it('decodes binary inputs framed by Inference-Header-Content-Length and answers binary outputs', async () => {
    const data = floats(1.5, -2, 3.25, 1e-3, 5, 6, 7, 8);
    const { body, headerLength } = framed(
      {
        inputs: [{ name: 'INPUT0', shape: [2, 4], datatype: 'FP32', parameters: { binary_data_size: data.length } }],
        outputs: [{ name: 'OUTPUT0', parameters: { binary_data: true } }],
      },
      data,
    );
    const res = await app.inject({
      method: 'POST',
      url: '/v2/models/echo/infer',
      headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(headerLength) },
      payload: body,
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/octet-stream');
    const length = Number(res.headers['inference-header-content-length']);
    const { header, blobs } = unframe(res.rawPayload, length);
    expect(header.outputs).toEqual([
      { name: 'OUTPUT0', datatype: 'FP32', shape: [2, 4], parameters: { binary_data_size: data.length } },
    ]);
    expect(blobs.equals(data)).toBe(true);
    expect(Number(res.headers['content-length'])).toBe(length + data.length);
  });

  it('answers binary outputs when binary_data_output is set on the request', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v2/models/echo/infer',
      payload: { ...jsonInfer, parameters: { binary_data_output: true } },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/octet-stream');
    const { blobs } = unframe(res.rawPayload, Number(res.headers['inference-header-content-length']));
    expect(blobs.equals(floats(1, 2, 3, 4))).toBe(true);
  });

  it('rejects an Inference-Header-Content-Length past the body with 400', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v2/models/echo/infer',
      headers: { 'inference-header-content-length': '99999999999' },
      payload: JSON.stringify(jsonInfer),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toContain('Inference-Header-Content-Length');
  });

  it('runs a raw request (header 0) against the model metadata and answers binary', async () => {
    const data = floats(9, 8, 7, 6);
    const res = await app.inject({
      method: 'POST',
      url: '/v2/models/echo/infer',
      headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': '0' },
      payload: data,
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/octet-stream');
    const { header, blobs } = unframe(res.rawPayload, Number(res.headers['inference-header-content-length']));
    expect(header.outputs[0]).toMatchObject({ name: 'OUTPUT0', datatype: 'FP32', shape: [1, 4] });
    expect(blobs.equals(data)).toBe(true);
    expect(service.requests[0]!.inputs[0]).toMatchObject({ name: 'INPUT0', datatype: 'FP32', shape: [1, 4] });
  });

  it('rejects a raw request to a model with two inputs with 400', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v2/models/pair/infer',
      headers: { 'inference-header-content-length': '0' },
      payload: Buffer.alloc(8),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toContain("model 'pair' has 2 inputs");
  });

  it('answers 404 for an unknown model, after checking the name', async () => {
    const res = await app.inject({ method: 'POST', url: '/v2/models/nope/infer', payload: jsonInfer });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: "unknown model 'nope'", code: expect.stringMatching(/^(SIBYL|TEST)_[A-Z_]+$/) });
  });

  it('maps service errors to their category status, with Retry-After when given', async () => {
    const res = await app.inject({ method: 'POST', url: '/v2/models/overloaded/infer', payload: jsonInfer });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('2');
    expect(res.json()).toEqual({ error: "model 'overloaded' queue is full", code: expect.stringMatching(/^(SIBYL|TEST)_[A-Z_]+$/) });
    expect(log.lines().filter((l) => l.level === 'error')).toHaveLength(0);
  });

  it('turns an unexpected error into 500 once and logs it with the request id', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v2/models/broken/infer',
      headers: { 'x-request-id': 'req-broken-1' },
      payload: jsonInfer,
    });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: 'internal error: kernel exploded', code: expect.stringMatching(/^(SIBYL|TEST)_[A-Z_]+$/) });
    const errors = log.lines().filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ reqId: 'req-broken-1' });
    expect(JSON.stringify(errors[0])).toContain('kernel exploded');
  });
});

describe('request context', () => {
  it('echoes x-request-id, or assigns one', async () => {
    let res = await app.inject({ method: 'GET', url: '/v2/health/live', headers: { 'x-request-id': 'abc-123' } });
    expect(res.headers['x-request-id']).toBe('abc-123');
    res = await app.inject({ method: 'GET', url: '/v2/health/live' });
    const first = String(res.headers['x-request-id']);
    expect(first).toMatch(/^[0-9a-f]{12}-[0-9a-z]+$/);
    res = await app.inject({ method: 'GET', url: '/v2/health/live' });
    const second = String(res.headers['x-request-id']);
    expect(second).not.toBe(first);
    expect(second.split('-')[0]).toBe(first.split('-')[0]);
    res = await app.inject({ method: 'GET', url: '/v2/nowhere', headers: { 'x-request-id': 'lost-1' } });
    expect(res.headers['x-request-id']).toBe('lost-1');
  });

  it('sets the deadline from x-sibyl-timeout-ms and passes traceparent and x-sibyl-routing-key', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const before = Date.now();
    const res = await app.inject({
      method: 'POST',
      url: '/v2/models/echo/infer',
      headers: { 'x-sibyl-timeout-ms': '2500', traceparent, 'x-sibyl-routing-key': 'user-17' },
      payload: jsonInfer,
    });
    expect(res.statusCode).toBe(200);
    const context = service.contexts[0]!;
    expect(context.routingKey).toBe('user-17');
    expect(context.deadlineMs).toBeGreaterThanOrEqual(before + 2500);
    expect(context.deadlineMs).toBeLessThanOrEqual(Date.now() + 2500);
    expect(context.traceparent).toBe(traceparent);
    expect(context.signal?.aborted).toBe(false);
  });

  it('leaves the deadline and the routing key unset without their headers', async () => {
    await app.inject({ method: 'POST', url: '/v2/models/echo/infer', payload: jsonInfer });
    expect(service.contexts[0]!.deadlineMs).toBeUndefined();
    expect(service.contexts[0]!.routingKey).toBeUndefined();
  });

  it('rejects a malformed x-sibyl-timeout-ms with 400', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v2/models/echo/infer',
      headers: { 'x-sibyl-timeout-ms': '1.5s' },
      payload: jsonInfer,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toContain("x-sibyl-timeout-ms '1.5s'");
  });

  it('answers 504 when the service reports the deadline passed', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v2/models/sleepy/infer',
      headers: { 'x-sibyl-timeout-ms': '20' },
      payload: jsonInfer,
    });
    expect(res.statusCode).toBe(504);
    expect(res.json().error).toContain('deadline');
  });
});

describe('compression', () => {
  it('accepts gzip and deflate bodies', async () => {
    for (const [encoding, compress] of [['gzip', gzipSync], ['deflate', deflateSync]] as const) {
      const res = await app.inject({
        method: 'POST',
        url: '/v2/models/echo/infer',
        headers: { 'content-type': 'application/json', 'content-encoding': encoding },
        payload: compress(Buffer.from(JSON.stringify(jsonInfer))),
      });
      expect(res.statusCode, encoding).toBe(200);
      expect(res.json().outputs[0].data).toEqual([1, 2, 3, 4]);
    }
  });

  it('accepts a gzip binary-extension body whose header length counts the inflated JSON', async () => {
    const data = floats(1, 2, 3, 4);
    const { body, headerLength } = framed(
      { inputs: [{ name: 'INPUT0', shape: [1, 4], datatype: 'FP32', parameters: { binary_data_size: 16 } }] },
      data,
    );
    const res = await app.inject({
      method: 'POST',
      url: '/v2/models/echo/infer',
      headers: { 'content-encoding': 'gzip', 'inference-header-content-length': String(headerLength) },
      payload: gzipSync(body),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().outputs[0].data).toEqual([1, 2, 3, 4]);
  });

  it('answers 501 "Unsupported compression type" for other encodings, naming the accepted ones', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v2/models/echo/infer',
      headers: { 'content-encoding': 'br' },
      payload: Buffer.from('whatever'),
    });
    expect(res.statusCode).toBe(501);
    expect(res.json().error).toContain("Unsupported compression type 'br'");
    expect(res.headers['accept-encoding']).toBe('gzip, deflate');
  });

  it('answers 400 for a body that does not inflate', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v2/models/echo/infer',
      headers: { 'content-encoding': 'gzip' },
      payload: Buffer.from('not gzip at all'),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toContain('not valid gzip data');
  });
});

describe('limits and unknown routes', () => {
  it('answers 413 with a JSON error for a body over the limit, compressed or inflated', async () => {
    const small = createRestServer({ service, logger: log.logger, bodyLimitBytes: 1024 });
    try {
      let res = await small.inject({ method: 'POST', url: '/v2/models/echo/infer', payload: Buffer.alloc(2048, 32) });
      expect(res.statusCode).toBe(413);
      expect(res.json()).toEqual({ error: 'request body is larger than the limit of 1024 bytes', code: expect.stringMatching(/^(SIBYL|TEST)_[A-Z_]+$/) });
      // 64 KiB of spaces gzip to well under 1 KiB: the limit holds after inflating too.
      const bomb = gzipSync(Buffer.alloc(64 * 1024, 32));
      expect(bomb.length).toBeLessThan(1024);
      res = await small.inject({ method: 'POST', url: '/v2/models/echo/infer', headers: { 'content-encoding': 'gzip' }, payload: bomb });
      expect(res.statusCode).toBe(413);
      expect(res.json().error).toContain('1024 bytes');
    } finally {
      await small.close();
    }
  });

  it('answers 404 {"error":"Not Found"} for unknown paths', async () => {
    for (const [method, url] of [['GET', '/'], ['GET', '/v2/nothing'], ['POST', '/v2/models/echo/explode'], ['GET', '/v1/models/echo']] as const) {
      const res = await app.inject({ method, url });
      expect(res.statusCode, url).toBe(404);
      expect(res.json()).toEqual({ error: 'Not Found', code: 'SIBYL_GATEWAY_ROUTE_NOT_FOUND' });
    }
  });

  it('answers 405 with Allow for a wrong method on a known path', async () => {
    const cases = [
      ['GET', '/v2/models/echo/infer', 'POST'],
      ['PUT', '/v2/models/echo/versions/1/infer', 'POST'],
      ['POST', '/v2/health/live', 'GET, HEAD'],
      ['DELETE', '/v2/models/echo', 'GET, HEAD'],
      ['GET', '/v2/repository/index', 'POST'],
    ] as const;
    for (const [method, url, allow] of cases) {
      const res = await app.inject({ method, url });
      expect(res.statusCode, `${method} ${url}`).toBe(405);
      expect(res.headers.allow).toBe(allow);
      expect(res.json()).toEqual({ error: 'Method Not Allowed' });
    }
  });
});

describe('repository index', () => {
  it('lists every model with its state, or only the ready ones', async () => {
    let res = await app.inject({ method: 'POST', url: '/v2/repository/index' });
    expect(res.statusCode).toBe(200);
    const all = res.json() as Array<{ name: string; state: string }>;
    expect(all).toContainEqual({ name: 'loading', version: '1', state: 'UNAVAILABLE', reason: 'loading' });
    expect(all).toContainEqual({ name: 'echo', version: '1', state: 'READY', reason: '' });

    res = await app.inject({ method: 'POST', url: '/v2/repository/index', payload: { ready: true } });
    const ready = res.json() as Array<{ name: string; state: string }>;
    expect(ready.map((e) => e.name)).not.toContain('loading');
    expect(ready.every((e) => e.state === 'READY')).toBe(true);
    expect(ready).toHaveLength(all.length - 1);

    res = await app.inject({ method: 'POST', url: '/v2/repository/index', payload: { ready: false } });
    expect(res.json()).toHaveLength(all.length);
  });

  it('rejects a body that is not {"ready": bool} with 400', async () => {
    for (const payload of ['{"ready":"yes"}', '[true]', '{"ready":', '7']) {
      const res = await app.inject({ method: 'POST', url: '/v2/repository/index', headers: { 'content-type': 'application/json' }, payload });
      expect(res.statusCode, payload).toBe(400);
      expect(res.json().error).toContain('repository index request');
    }
  });
});

describe('metrics', () => {
  it('observes each request as protocol "rest"', async () => {
    const metrics = createMetrics({ processMetrics: false });
    const measured = createRestServer({ service, logger: log.logger, metrics });
    try {
      await measured.inject({ method: 'GET', url: '/v2/health/live' });
      await measured.inject({ method: 'POST', url: '/v2/models/echo/infer', payload: jsonInfer });
      await measured.inject({ method: 'POST', url: '/v2/models/nope/infer', payload: jsonInfer });
      const text = await metrics.registry.metrics();
      expect(text).toContain('sibyl_transport_request_duration_seconds_count{protocol="rest"} 3');
    } finally {
      await measured.close();
    }
  });
});
