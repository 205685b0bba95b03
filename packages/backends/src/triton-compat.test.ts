import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SibylError } from '@sibyl/protocol';
import type { Backend } from './backend.js';
import { createHttpBackend } from './http-backend.js';
import { notDelivered } from './remote-error.js';

/**
 * A tiny Triton HTTP server, as far as these tests need it, written from the spec rather than our
 * server (shared/spec/protocols.md, from triton-inference-server/server docs/protocol and
 * src/http_server.cc): errors are `{"error": "<message>"}` with no code, 404 for an unknown model and
 * 400 for other refusals (§A.10); readiness is the status alone, 200 or 400 with an empty body (§A.2);
 * a binary answer has `Content-Type: application/octet-stream` and `Inference-Header-Content-Length`,
 * its blobs in `outputs` order after the JSON header (§B.2).
 */
function tritonFake(): Server {
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const error = (status: number, message: string, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify({ error: message }));
      };
      const url = req.url ?? '';
      if (url === '/v2/models/simple/ready') return void res.writeHead(400).end();
      // Triton's model configuration extension (§D.4): fields Sibyl's runtime never writes pass through.
      if (url === '/v2/models/simple/versions/1/config') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(TRITON_CONFIG));
      if (url === '/v2/models/nameless/config') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"platform":"x"}');
      if (url === '/v2/models/missing') return error(404, "Request for unknown model: 'missing' is not found");
      if (url === '/v2/models/missing/infer') return error(404, "Request for unknown model: 'missing' is not found");
      if (url === '/v2/models/bad/infer') return error(400, "unexpected shape for input 'INPUT0' for model 'bad'. Expected [-1,16], got [1,3]");
      if (url === '/v2/models/full/infer') return error(503, 'Exceeds maximum queue size', { 'retry-after': '3' });
      if (url === '/v2/models/proxy/infer') return void res.writeHead(502, { 'content-type': 'text/plain' }).end('Bad Gateway');
      if (url === '/v2/models/cut/infer') {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '1000', 'inference-header-content-length': '10' });
        res.write('{"model_na');
        return void res.socket?.destroy();
      }
      if (url === '/v2/models/simple/infer') {
        // Triton's answer to a binary request with binary_data_output: the input's blob echoed as OUTPUT0.
        const headerLength = Number(req.headers['inference-header-content-length']);
        const header = JSON.parse(body.toString('utf8', 0, headerLength)) as {
          id?: string;
          parameters?: { binary_data_output?: boolean };
          inputs: Array<{ datatype: string; shape: number[]; parameters: { binary_data_size: number } }>;
        };
        if (header.parameters?.binary_data_output !== true) return error(400, 'expected binary_data_output');
        const blob = body.subarray(headerLength);
        const input = header.inputs[0]!;
        const json = Buffer.from(
          JSON.stringify({
            id: header.id,
            model_name: 'simple',
            model_version: '1',
            outputs: [{ name: 'OUTPUT0', datatype: input.datatype, shape: input.shape, parameters: { binary_data_size: blob.length } }],
          }),
        );
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(json.length), 'content-length': String(json.length + blob.length) });
        return void res.end(Buffer.concat([json, blob]));
      }
      error(400, 'unexpected request');
    });
  });
}

const TRITON_CONFIG = {
  name: 'simple',
  platform: 'tensorrt_plan',
  backend: 'tensorrt',
  max_batch_size: 8,
  input: [{ name: 'INPUT0', data_type: 'TYPE_INT64', format: 'FORMAT_NONE', dims: [3], is_shape_tensor: false }],
  output: [{ name: 'OUTPUT0', data_type: 'TYPE_INT64', dims: [3], label_filename: '' }],
  optimization: { priority: 'PRIORITY_DEFAULT', input_pinned_memory: { enable: true } },
  instance_group: [{ name: 'simple_0', kind: 'KIND_GPU', count: 1, gpus: [0] }],
};

let server: Server;
let backend: Backend;

beforeAll(async () => {
  server = tritonFake();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  backend = createHttpBackend({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
});

afterAll(async () => {
  await backend.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function failure(promise: Promise<unknown>): Promise<SibylError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SibylError);
  return err as SibylError;
}

describe('http backend against a Triton-style server', () => {
  it('decodes a Triton binary answer', async () => {
    const data = new BigInt64Array([-(2n ** 63n), 42n, 2n ** 63n - 1n]);
    const response = await backend.infer({ modelName: 'simple', id: 'x1', inputs: [{ name: 'INPUT0', datatype: 'INT64', shape: [1, 3], data }] });
    expect(response).toMatchObject({ modelName: 'simple', modelVersion: '1', id: 'x1' });
    expect(response.outputs[0]).toMatchObject({ name: 'OUTPUT0', datatype: 'INT64', shape: [1, 3] });
    expect([...(response.outputs[0]!.data as BigInt64Array)]).toEqual([...data]);
  });

  it("passes Triton's model configuration on as Triton wrote it, and refuses one without a name", async () => {
    expect(await backend.modelConfig('simple', '1')).toEqual(TRITON_CONFIG);
    const err = await failure(backend.modelConfig('nameless'));
    expect(err.code).toBe('SIBYL_BACKEND_RESPONSE_INVALID');
  });

  it('reads a 400 with an empty body from a ready endpoint as not ready', async () => {
    expect(await backend.modelReady('simple')).toBe(false);
  });

  it.each([
    ['an unknown model (404)', backend_ => backend_.modelMetadata('missing'), 'SIBYL_BACKEND_NOT_FOUND', 'NOT_FOUND', "Request for unknown model: 'missing' is not found"],
    ['an unknown model on infer (404)', backend_ => backend_.infer({ modelName: 'missing', inputs: [] }), 'SIBYL_BACKEND_NOT_FOUND', 'NOT_FOUND', "Request for unknown model: 'missing' is not found"],
    ['a bad input (400)', backend_ => backend_.infer({ modelName: 'bad', inputs: [] }), 'SIBYL_BACKEND_INVALID_ARGUMENT', 'INVALID_ARGUMENT', "unexpected shape for input 'INPUT0' for model 'bad'. Expected [-1,16], got [1,3]"],
    ['a 502 that is not JSON', backend_ => backend_.infer({ modelName: 'proxy', inputs: [] }), 'SIBYL_BACKEND_UNAVAILABLE', 'UNAVAILABLE', 'HTTP 502: Bad Gateway'],
  ] as Array<[string, (b: Backend) => Promise<unknown>, string, string, string]>)('derives a code for %s and keeps the message', async (_what, call, code, category, message) => {
    const err = await failure(call(backend));
    expect({ code: err.code, category: err.category, message: err.message }).toEqual({ code, category, message });
    expect(notDelivered(err)).toBe(false);
  });

  it('keeps Retry-After on a 503 without a code, and does not take it for not delivered', async () => {
    const err = await failure(backend.infer({ modelName: 'full', inputs: [] }));
    expect(err).toMatchObject({ code: 'SIBYL_BACKEND_UNAVAILABLE', category: 'UNAVAILABLE', retryAfterSeconds: 3, message: 'Exceeds maximum queue size' });
    expect(notDelivered(err)).toBe(false);
  });

  it('reports an answer cut short as a lost connection, never not delivered', async () => {
    const err = await failure(backend.infer({ modelName: 'cut', inputs: [] }));
    expect(err).toMatchObject({ code: 'SIBYL_BACKEND_CONNECTION_LOST', category: 'UNAVAILABLE' });
    expect(notDelivered(err)).toBe(false);
    expect(backend.inflight).toBe(0);
  });
});
