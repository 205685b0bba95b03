/**
 * Every way a request can be wrong, over REST and gRPC: the status or code of its category
 * (DESIGN.md §5) and a message naming the tensor or field. At the end the server must still be live.
 */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  DTYPES,
  VECTORS,
  encodeTensor,
  expectGrpcError,
  expectRestError,
  frameBinaryBody,
  get,
  grpc,
  httpRequest,
  identityName,
  inferResult,
  postBinary,
  postJson,
  serveModels,
  standardModels,
  stringifyJson,
  tensorName,
  toJsonElement,
} from './index.js';

const ctx = serveModels(standardModels);
const url = (path: string) => `${ctx.server.httpUrl}${path}`;
const inferUrl = (model: string) => url(`/v2/models/${model}/infer`);

/** The input of arith and the id_* models is `x`: a message names it quoted, or by its field path. */
const X = /'x'|"x"|inputs\[\d\]/;

const x = (extra: Record<string, unknown> = {}) => ({ name: 'x', datatype: 'FP32', shape: [2, 2], data: [1, 2, 3, 4], ...extra });
const arith = (body: unknown) => postJson(inferUrl('arith'), body);

describe('REST: request body', () => {
  it('malformed JSON → 400', async () => {
    const res = await httpRequest(inferUrl('arith'), { method: 'POST', body: '{"inputs": [{"name": "x",', headers: { 'content-type': 'application/json' } });
    expectRestError(res, 400, ['JSON']);
  });

  it('a body that is not a JSON object → 400 naming inputs', async () => {
    expectRestError(await arith([1, 2]), 400);
    expectRestError(await httpRequest(inferUrl('arith'), { method: 'POST', body: '' }), 400);
  });

  it('missing inputs field → 400 naming inputs', async () => {
    expectRestError(await arith({ id: 'a' }), 400, ['inputs']);
  });

  it('inputs of the wrong type → 400 naming inputs', async () => {
    expectRestError(await arith({ inputs: { name: 'x' } }), 400, ['inputs']);
  });

  it('an input without datatype, shape or data → 400 naming the field', async () => {
    expectRestError(await arith({ inputs: [{ name: 'x', shape: [2, 2], data: [1, 2, 3, 4] }] }), 400, ['datatype']);
    expectRestError(await arith({ inputs: [{ name: 'x', datatype: 'FP32', data: [1, 2, 3, 4] }] }), 400, ['shape']);
    expectRestError(await arith({ inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 2] }] }), 400, [X, 'data']);
  });

  it('JSON nesting deeper than 100 → 400', async () => {
    let data: unknown = 1;
    for (let i = 0; i < 150; i++) data = [data];
    const res = await arith({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data }] });
    const message = expectRestError(res, 400);
    expect(message).toMatch(/nesting|depth/i);
  });

  it('pathologically deep JSON (100k levels) anywhere in the body → 400, not a crash', async () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    for (const body of [`{"inputs":[{"name":"x","datatype":"FP32","shape":[1,1],"data":${deep}}]}`, `{"parameters":{"p":${deep}},"inputs":[]}`, deep]) {
      const res = await httpRequest(inferUrl('arith'), { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      expectRestError(res, 400);
    }
    expect((await get(url('/v2/health/live'))).status).toBe(200);
  });

  it("a reserved 'triton_' parameter → 400 naming it", async () => {
    expectRestError(await arith({ parameters: { triton_thing: 1 }, inputs: [x()] }), 400, ['triton_thing']);
  });
});

describe('REST: inputs against the model', () => {
  it('unknown input → 400 naming it', async () => {
    expectRestError(await arith({ inputs: [x(), x({ name: 'extra' })] }), 400, ['extra']);
  });

  it('missing input → 400 naming it', async () => {
    const inputs = DTYPES.filter((d) => d !== 'FP64').map((d) => ({
      name: tensorName(d),
      datatype: d,
      shape: [2, 2],
      data: VECTORS[d].map((v) => toJsonElement(d, v)),
    }));
    expectRestError(await postJson(inferUrl('all_types'), { inputs }), 400, ['fp64']);
  });

  it('duplicate input → 400 naming it', async () => {
    expectRestError(await arith({ inputs: [x(), x()] }), 400, [X]);
  });

  it('unknown requested output → 400 naming it', async () => {
    expectRestError(await arith({ inputs: [x()], outputs: [{ name: 'sum' }, { name: 'nope_out' }] }), 400, ['nope_out']);
  });

  it('duplicate requested output → 400 naming it', async () => {
    expectRestError(await arith({ inputs: [x()], outputs: [{ name: 'sum' }, { name: 'sum' }] }), 400, ['sum']);
  });

  it('datatype mismatch → 400 naming the input and both datatypes', async () => {
    expectRestError(await arith({ inputs: [x({ datatype: 'INT32' })] }), 400, [X, 'FP32', 'INT32']);
  });

  it('unknown datatype → 400 naming it', async () => {
    expectRestError(await arith({ inputs: [x({ datatype: 'FLOAT32' })] }), 400, ['FLOAT32']);
  });

  it('shape mismatch against the metadata → 400 naming the input', async () => {
    expectRestError(await arith({ inputs: [x({ shape: [2, 3], data: [1, 2, 3, 4, 5, 6] })] }), 400, [X]);
    expectRestError(await arith({ inputs: [x({ shape: [4], data: [1, 2, 3, 4] })] }), 400, [X]);
  });

  it('element count differing from the shape → 400 naming the input', async () => {
    expectRestError(await arith({ inputs: [x({ data: [1, 2, 3] })] }), 400, [X]);
    expectRestError(await arith({ inputs: [x({ data: [1, 2, 3, 4, 5] })] }), 400, [X]);
    expectRestError(await arith({ inputs: [x({ data: [[1, 2], [3]] })] }), 400, [X]);
  });

  it('negative or fractional dimension → 400 naming the input', async () => {
    expectRestError(await arith({ inputs: [x({ shape: [-1, 2], data: [1, 2] })] }), 400, [X]);
    expectRestError(await arith({ inputs: [x({ shape: [1.5, 2], data: [1, 2, 3] })] }), 400, [X]);
  });

  it('non-numeric value → 400 naming the input', async () => {
    expectRestError(await arith({ inputs: [x({ data: [1, 'two', 3, 4] })] }), 400, [X]);
    expectRestError(await arith({ inputs: [x({ data: [1, null, 3, 4] })] }), 400, [X]);
  });

  it('values of the wrong JSON type or out of range → 400 naming the input', async () => {
    const one = (d: string, data: unknown[]) =>
      postJson(inferUrl(identityName(d as 'BOOL')), { inputs: [{ name: 'x', datatype: d, shape: [1, 2], data }] });
    expectRestError(await one('BOOL', [1, 0]), 400, [X]);
    expectRestError(await one('INT8', [1, 200]), 400, [X]);
    expectRestError(await one('UINT8', [-1, 0]), 400, [X]);
    expectRestError(await one('INT32', [1.5, 0]), 400, [X]);
    expectRestError(await one('UINT64', [18446744073709551616n, 0]), 400, [X]);
    expectRestError(await one('BYTES', [1, 'a']), 400, [X]);
    expectRestError(await one('FP16', ['1.5', 1]), 400, [X]);
  });
});

describe('REST: binary tensor data extension', () => {
  const header = (size: number) => ({ inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 2], parameters: { binary_data_size: size } }] });
  const blob = encodeTensor('FP32', [1, 2, 3, 4]);
  const send = (body: Buffer, headerLength: string) =>
    httpRequest(inferUrl('arith'), {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': headerLength },
    });

  it('Inference-Header-Content-Length past the body → 400', async () => {
    const { body } = frameBinaryBody(header(16), [blob]);
    expectRestError(await send(body, String(body.length + 1)), 400, ['Inference-Header-Content-Length']);
    expectRestError(await send(body, '99999999999'), 400, ['Inference-Header-Content-Length']);
  });

  it('Inference-Header-Content-Length not a number → 400', async () => {
    const { body } = frameBinaryBody(header(16), [blob]);
    expectRestError(await send(body, 'twelve'), 400, ['Inference-Header-Content-Length']);
  });

  it('binary_data_size past the body → 400 naming the input', async () => {
    expectRestError(await postBinary(inferUrl('arith'), header(32), [blob]), 400, [X, 'binary_data_size']);
  });

  it('bytes after the last blob → 400', async () => {
    expectRestError(await postBinary(inferUrl('arith'), header(16), [blob, Buffer.from([1, 2, 3])]), 400);
  });

  it('binary size that does not fit the shape → 400 naming the input', async () => {
    const short = blob.subarray(0, 12);
    expectRestError(await postBinary(inferUrl('arith'), header(12), [short]), 400, [X]);
  });

  it('an input with both data and binary_data_size → 400 naming the input', async () => {
    const both = { inputs: [{ ...x(), parameters: { binary_data_size: 16 } }] };
    expectRestError(await postBinary(inferUrl('arith'), both, [blob]), 400, [X]);
  });

  it('a BYTES element whose length prefix runs past its blob → 400 naming the input', async () => {
    const bad = Buffer.concat([encodeTensor('BYTES', [Buffer.from('ab')]), Buffer.from([100, 0, 0, 0, 65])]);
    const res = await postBinary(
      inferUrl(identityName('BYTES')),
      { inputs: [{ name: 'x', datatype: 'BYTES', shape: [1, 2], parameters: { binary_data_size: bad.length } }] },
      [bad],
    );
    expectRestError(res, 400, [X]);
  });

  it('binary_data_size that is not a non-negative integer → 400 naming the input', async () => {
    expectRestError(await postBinary(inferUrl('arith'), header(-16), [blob]), 400, [X]);
    const text = stringifyJson({ inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 2], parameters: { binary_data_size: '16' } }] });
    expectRestError(await send(Buffer.concat([Buffer.from(text), blob]), String(Buffer.byteLength(text))), 400, [X]);
  });
});

describe('REST: raw binary requests that cannot be deduced (§B.3)', () => {
  const raw = (model: string, body: Buffer) =>
    httpRequest(inferUrl(model), { method: 'POST', body, headers: { 'inference-header-content-length': '0' } });

  it('a BYTES input whose model shape is not [1] → 400 naming it', async () => {
    expectRestError(await raw(identityName('BYTES'), Buffer.from('abc')), 400, [X]);
  });

  it('a body that is not a whole number of rows → 400 naming the input', async () => {
    expectRestError(await raw(identityName('FP32'), encodeTensor('FP32', [1, 2, 3])), 400, [X]);
  });
});

describe('REST: shapes far too large for their data', () => {
  it('a shape whose product is astronomically large → 400, not an allocation', async () => {
    expectRestError(await postJson(inferUrl(identityName('FP32')), { inputs: [{ name: 'x', datatype: 'FP32', shape: [100000000, 100000000], data: [] }] }), 400, [X]);
    expectRestError(await postJson(inferUrl(identityName('FP32')), { inputs: [{ name: 'x', datatype: 'FP32', shape: [1e20, 2], data: [] }] }), 400, [X]);
    await expectGrpcError(
      ctx.grpc.modelInfer({ model_name: identityName('FP32'), inputs: [{ name: 'x', datatype: 'FP32', shape: ['9223372036854775807', '2'], contents: { fp32_contents: [1, 2] } }] }),
      grpc.status.INVALID_ARGUMENT,
      [X],
    );
  });

  it('a binary_data_size past 2^53 → 400 naming the input', async () => {
    const res = await postBinary(
      inferUrl(identityName('FP32')),
      { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], parameters: { binary_data_size: 2n ** 60n } }] },
      [encodeTensor('FP32', [1, 2])],
    );
    expectRestError(res, 400, [X]);
  });
});

describe('REST: models, versions and routes', () => {
  it('unknown model → 404 naming it, for infer, metadata and ready', async () => {
    expectRestError(await postJson(inferUrl('no_such_model'), { inputs: [x()] }), 404, ['no_such_model']);
    expectRestError(await get(url('/v2/models/no_such_model')), 404, ['no_such_model']);
    expectRestError(await get(url('/v2/models/no_such_model/ready')), 404, ['no_such_model']);
  });

  it('unknown version → 404', async () => {
    expectRestError(await postJson(url('/v2/models/arith/versions/7/infer'), { inputs: [x()] }), 404, ['arith', '7']);
    expectRestError(await get(url('/v2/models/arith/versions/7')), 404, ['arith']);
    expectRestError(await get(url('/v2/models/arith/versions/7/ready')), 404, ['arith']);
  });

  it('invalid model name → 400 naming it', async () => {
    expectRestError(await postJson(inferUrl('bad$name'), { inputs: [x()] }), 400, ['bad$name']);
    expectRestError(await get(url('/v2/models/-dash')), 400, ['-dash']);
    const long = 'm'.repeat(129);
    expectRestError(await get(url(`/v2/models/${long}/ready`)), 400, [long]);
    expectRestError(await get(url('/v2/models/a%2F..%2Fb')), 400);
  });

  it('a version that is not a number is refused', async () => {
    const res = await get(url('/v2/models/arith/versions/latest'));
    expect([400, 404]).toContain(res.status);
    expectRestError(res, res.status);
  });

  it('unknown path → 404 {"error":"Not Found"}; wrong method → 405', async () => {
    const res = await get(url('/v2/nothing/here'));
    expectRestError(res, 404);
    const wrong = await get(inferUrl('arith'));
    expect(wrong.status).toBe(405);
    expect(errorBody(wrong.json)).toBeTypeOf('string');
  });
});

function errorBody(json: unknown): unknown {
  return (json as { error?: unknown } | undefined)?.error;
}

describe('REST: deadlines (x-sibyl-timeout-ms)', () => {
  const withTimeout = (value: string) =>
    httpRequest(inferUrl('arith'), {
      method: 'POST',
      body: JSON.stringify({ inputs: [x()] }),
      headers: { 'content-type': 'application/json', 'x-sibyl-timeout-ms': value },
    });

  it('a deadline already passed on arrival → 504 naming the model; the model does not run', async () => {
    expectRestError(await withTimeout('0'), 504, ['arith']);
  });

  it('a generous deadline is served; a malformed one → 400 naming the header', async () => {
    expect((await withTimeout('60000')).status).toBe(200);
    expectRestError(await withTimeout('soon'), 400, ['x-sibyl-timeout-ms']);
  });
});

describe('size limit (--max-request-bytes 4096)', () => {
  const small = serveModels(() => standardModels().filter((m) => m.name === identityName('FP32')), ['--max-request-bytes', '4096']);
  const values = Array.from({ length: 2000 }, (_, i) => i / 3);

  it('a REST body over the limit → 413', async () => {
    const res = await postJson(`${small.server.httpUrl}/v2/models/${identityName('FP32')}/infer`, {
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1000, 2], data: values }],
    });
    expectRestError(res, 413);
  });

  it('a small gzip body that inflates past the limit → 413', async () => {
    const json = Buffer.from(JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [8000, 2], data: new Array(16000).fill(0) }] }));
    const body = gzipSync(json);
    expect(json.length).toBeGreaterThan(4096);
    expect(body.length).toBeLessThan(4096);
    const res = await httpRequest(`${small.server.httpUrl}/v2/models/${identityName('FP32')}/infer`, {
      method: 'POST',
      body,
      headers: { 'content-encoding': 'gzip' },
    });
    expectRestError(res, 413);
  });

  it('a body under the limit is served', async () => {
    const res = await postJson(`${small.server.httpUrl}/v2/models/${identityName('FP32')}/infer`, {
      inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 2], data: [1, 2, 3, 4] }],
    });
    expect(inferResult(res).json['model_name']).toBe(identityName('FP32'));
  });

  it('a gRPC message over the limit → RESOURCE_EXHAUSTED, and the server stays live', async () => {
    await expectGrpcError(
      small.grpc.modelInfer({
        model_name: identityName('FP32'),
        inputs: [{ name: 'x', datatype: 'FP32', shape: ['1000', '2'], contents: { fp32_contents: values } }],
      }),
      grpc.status.RESOURCE_EXHAUSTED,
    );
    expect(await small.grpc.serverLive()).toEqual({ live: true });
    expect((await get(`${small.server.httpUrl}/v2/health/live`)).status).toBe(200);
  });
});

describe('after every error above', () => {
  it('the server is still live, ready and serving', async () => {
    expect((await get(url('/v2/health/live'))).status).toBe(200);
    expect((await get(url('/v2/health/ready'))).status).toBe(200);
    expect(await ctx.grpc.serverLive()).toEqual({ live: true });
    const { json } = inferResult(await arith({ id: 'still-here', inputs: [x()] }));
    expect(json['id']).toBe('still-here');
  });
});
