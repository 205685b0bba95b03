/**
 * Every REST endpoint of the Open Inference Protocol (protocols.md §A) plus the repository index and
 * Prometheus metrics, against the real server process over real sockets. gRPC counterparts of the
 * same calls are checked beside their REST versions.
 */
import { readFileSync } from 'node:fs';
import { deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  DTYPES,
  REPO_ROOT,
  decodeTensor,
  encodeTensor,
  expectRestError,
  flatten,
  frameBinaryBody,
  get,
  grpcOutputs,
  httpRequest,
  identityName,
  inferResult,
  postJson,
  serveModels,
  standardModels,
  tensorName,
  typedContents,
} from './index.js';

const ctx = serveModels(standardModels);
const url = (path: string) => `${ctx.server.httpUrl}${path}`;

const arithRequest = (extra: Record<string, unknown> = {}) => ({
  inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 2], data: [[1, 2], [3, -4.5]] }],
  ...extra,
});

describe('health', () => {
  it('GET /v2/health/live answers 200', async () => {
    const res = await get(url('/v2/health/live'));
    expect(res.status).toBe(200);
    // Body: empty (Triton) or {"live": true} (KServe); the status is the signal (§A.2).
    if (res.text !== '') expect(res.json).toMatchObject({ live: true });
  });

  it('GET /v2/health/ready answers 200 when every model loaded', async () => {
    expect(ctx.server.readyAtStart).toBe(true);
    const res = await get(url('/v2/health/ready'));
    expect(res.status).toBe(200);
    if (res.text !== '') expect(res.json).toMatchObject({ ready: true });
  });
});

describe('server metadata', () => {
  it('GET /v2 gives name, version and extensions', async () => {
    const res = await get(url('/v2'));
    expect(res.status).toBe(200);
    const body = res.json as { name: unknown; version: unknown; extensions: unknown };
    expect(typeof body.name).toBe('string');
    expect((body.name as string).length).toBeGreaterThan(0);
    const pkg = JSON.parse(readFileSync(`${REPO_ROOT}apps/sibyl/package.json`, 'utf8')) as { version: string };
    expect(body.version).toBe(pkg.version);
    expect(Array.isArray(body.extensions)).toBe(true);
    expect(body.extensions).toContain('binary_tensor_data');
  });

  it('gRPC ServerMetadata says the same', async () => {
    const rest = (await get(url('/v2'))).json as Record<string, unknown>;
    const reply = await ctx.grpc.serverMetadata();
    expect(reply).toMatchObject({ name: rest['name'], version: rest['version'] });
    expect([...reply['extensions']].sort()).toEqual([...(rest['extensions'] as string[])].sort());
  });
});

describe('model metadata and readiness', () => {
  const arithMetadata = {
    name: 'arith',
    versions: ['1'],
    inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 2] }],
    outputs: [
      { name: 'sum', datatype: 'FP32', shape: [-1, 2] },
      { name: 'neg', datatype: 'FP32', shape: [-1, 2] },
    ],
  };

  it('GET /v2/models/{name} describes the model', async () => {
    const res = await get(url('/v2/models/arith'));
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject(arithMetadata);
    const platform = (res.json as { platform: unknown }).platform;
    expect(typeof platform).toBe('string');
    expect((platform as string).length).toBeGreaterThan(0);
  });

  it('GET /v2/models/{name}/versions/{v} describes that version', async () => {
    const res = await get(url('/v2/models/arith/versions/1'));
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject(arithMetadata);
  });

  it('metadata gives every datatype under its v2 name', async () => {
    const res = await get(url('/v2/models/all_types'));
    expect(res.status).toBe(200);
    const body = res.json as { inputs: unknown[]; outputs: unknown[] };
    expect(body.inputs).toEqual(DTYPES.map((d) => ({ name: tensorName(d), datatype: d, shape: [-1, 2] })));
    expect(body.outputs).toEqual(DTYPES.map((d) => ({ name: `${tensorName(d)}_out`, datatype: d, shape: [-1, 2] })));
  });

  it('GET /v2/models/{name}/ready and /versions/{v}/ready answer 200', async () => {
    for (const path of ['/v2/models/arith/ready', '/v2/models/arith/versions/1/ready', '/v2/models/versioned/versions/1/ready']) {
      const res = await get(url(path));
      expect(res.status, path).toBe(200);
      if (res.text !== '') expect(res.json, path).toMatchObject({ ready: true });
    }
  });

  it('gRPC ModelMetadata and ModelReady agree with REST', async () => {
    const meta = await ctx.grpc.modelMetadata('arith');
    expect(meta).toMatchObject({ name: 'arith', versions: ['1'] });
    expect(meta['inputs']).toEqual([{ name: 'x', datatype: 'FP32', shape: ['-1', '2'] }]);
    expect(meta['outputs'].map((o: { name: string }) => o.name)).toEqual(['sum', 'neg']);
    expect(await ctx.grpc.modelMetadata('arith', '1')).toMatchObject({ name: 'arith' });
    expect(await ctx.grpc.modelReady('arith')).toEqual({ ready: true });
    expect(await ctx.grpc.modelReady('arith', '1')).toEqual({ ready: true });
  });
});

describe('infer', () => {
  it('POST /v2/models/{name}/infer runs the model', async () => {
    const res = await postJson(url('/v2/models/arith/infer'), arithRequest());
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('inference-header-content-length')).toBeNull();
    const { json } = inferResult(res);
    expect(json['model_name']).toBe('arith');
    expect(json['model_version']).toBe('1');
    // No id in the request: none in the response (Triton omits it).
    expect(json['id'] === undefined || json['id'] === '').toBe(true);
    const outputs = json['outputs'] as Array<{ name: string; datatype: string; shape: number[]; data: unknown }>;
    expect(outputs.map((o) => o.name)).toEqual(['sum', 'neg']);
    expect(outputs[0]).toMatchObject({ datatype: 'FP32', shape: [2, 2] });
    expect(flatten(outputs[0]!.data)).toEqual([2, 4, 6, -9]);
    expect(flatten(outputs[1]!.data)).toEqual([-1, -2, -3, 4.5]);
  });

  it('POST /v2/models/{name}/versions/{v}/infer runs that version', async () => {
    const { json } = inferResult(await postJson(url('/v2/models/arith/versions/1/infer'), arithRequest()));
    expect(json).toMatchObject({ model_name: 'arith', model_version: '1' });
  });

  it('echoes the request id', async () => {
    const { json } = inferResult(await postJson(url('/v2/models/arith/infer'), arithRequest({ id: 'req-42 ü' })));
    expect(json['id']).toBe('req-42 ü');
  });

  it('passes custom request parameters of every JSON type through to the response', async () => {
    const parameters = { note: 'x ü', count: 3, big: 9007199254740993n, ratio: 0.5, flag: true };
    const request = arithRequest({ id: 'p', parameters });
    (request.inputs[0] as Record<string, unknown>)['parameters'] = { tag: 'input', weight: 2 };
    const { json } = inferResult(await postJson(url('/v2/models/arith/infer'), request));
    expect(json['id']).toBe('p');
    expect(flatten((json['outputs'] as Array<{ data: unknown }>)[0]!.data)).toEqual([2, 4, 6, -9]);
    expect(json['parameters']).toEqual(parameters);
  });

  it('request parameters must be strings, numbers or booleans', async () => {
    expectRestError(await postJson(url('/v2/models/arith/infer'), arithRequest({ parameters: { nested: { a: 1 } } })), 400, ['nested']);
    expectRestError(await postJson(url('/v2/models/arith/infer'), arithRequest({ parameters: [1] })), 400, ['parameters']);
  });

  it('returns only the requested outputs, in the order asked', async () => {
    const one = inferResult(await postJson(url('/v2/models/arith/infer'), arithRequest({ outputs: [{ name: 'neg' }] })));
    expect((one.json['outputs'] as Array<{ name: string }>).map((o) => o.name)).toEqual(['neg']);
    const both = inferResult(
      await postJson(url('/v2/models/arith/infer'), arithRequest({ outputs: [{ name: 'neg' }, { name: 'sum' }] })),
    );
    const outputs = both.json['outputs'] as Array<{ name: string; data: unknown }>;
    expect(outputs.map((o) => o.name).sort()).toEqual(['neg', 'sum']);
    expect(flatten(outputs.find((o) => o.name === 'neg')!.data)).toEqual([-1, -2, -3, 4.5]);
  });

  it('gRPC ModelInfer echoes id and model_version and honours requested outputs', async () => {
    const reply = await ctx.grpc.modelInfer({
      model_name: 'arith',
      id: 'g-7',
      parameters: { note: { string_param: 'x' }, count: { int64_param: '3' }, flag: { bool_param: true } },
      inputs: [{ name: 'x', datatype: 'FP32', shape: ['1', '2'], contents: { fp32_contents: [1.5, -2] } }],
      outputs: [{ name: 'sum' }],
    });
    expect(reply).toMatchObject({ model_name: 'arith', model_version: '1', id: 'g-7' });
    expect(reply['parameters']).toEqual({
      note: { string_param: 'x', parameter_choice: 'string_param' },
      count: { int64_param: '3', parameter_choice: 'int64_param' },
      flag: { bool_param: true, parameter_choice: 'bool_param' },
    });
    const outputs = grpcOutputs(reply);
    expect([...outputs.keys()]).toEqual(['sum']);
    expect(outputs.get('sum')).toMatchObject({ datatype: 'FP32', shape: [1, 2], values: [3, -4] });
  });
});

describe('request framing', () => {
  it('a JSON body is read whatever its Content-Type', async () => {
    const body = JSON.stringify(arithRequest({ id: 'ct' }));
    const variants: Array<Record<string, string>> = [
      { 'content-type': 'text/plain' },
      { 'content-type': 'application/octet-stream' },
      { 'content-type': 'application/json; charset=utf-8' },
    ];
    for (const headers of variants) {
      const { json } = inferResult(await httpRequest(url('/v2/models/arith/infer'), { method: 'POST', body, headers }));
      expect(json['id']).toBe('ct');
    }
  });

  it('Content-Encoding gzip and deflate bodies are inflated (§B.2), including binary ones', async () => {
    const body = Buffer.from(JSON.stringify(arithRequest({ id: 'gz' })));
    for (const [encoding, data] of [['gzip', gzipSync(body)], ['deflate', deflateSync(body)]] as const) {
      const res = await httpRequest(url('/v2/models/arith/infer'), { method: 'POST', body: data, headers: { 'content-encoding': encoding } });
      expect(inferResult(res).json['id'], encoding).toBe('gz');
    }
    const { body: framed, headerLength } = frameBinaryBody(
      { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], parameters: { binary_data_size: 8 } }] },
      [encodeTensor('FP32', [1, 2])],
    );
    const res = await httpRequest(url('/v2/models/arith/infer'), {
      method: 'POST',
      body: gzipSync(framed),
      headers: { 'content-encoding': 'gzip', 'inference-header-content-length': String(headerLength) },
    });
    expect(flatten((inferResult(res).json['outputs'] as Array<{ data: unknown }>)[0]!.data)).toEqual([2, 4]);
  });

  it('any other Content-Encoding → 501 with Accept-Encoding: gzip, deflate', async () => {
    const res = await httpRequest(url('/v2/models/arith/infer'), {
      method: 'POST',
      body: JSON.stringify(arithRequest()),
      headers: { 'content-encoding': 'br' },
    });
    expectRestError(res, 501, ['br']);
    expect(res.headers.get('accept-encoding')).toMatch(/gzip/);
  });
});

describe('raw binary request (Inference-Header-Content-Length: 0)', () => {
  const raw = (path: string, body: Buffer) =>
    httpRequest(url(path), {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': '0' },
    });

  it('feeds the whole body to the single input; shape deduced; outputs come back binary', async () => {
    const values = [1.5, -2, 3.25, 4, 0, -0.5];
    const res = await raw('/v2/models/id_fp32/infer', encodeTensor('FP32', values));
    expect(res.status, res.text).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/octet-stream/);
    const { json, blobs } = inferResult(res);
    const out = (json['outputs'] as Array<Record<string, unknown>>)[0]!;
    expect(out).toMatchObject({ name: 'x_out', datatype: 'FP32', shape: [3, 2] });
    expect(decodeTensor('FP32', blobs.get('x_out')!)).toEqual(values);
  });

  it('works for a model with one input and two outputs', async () => {
    const res = await raw('/v2/models/arith/infer', encodeTensor('FP32', [1, 2]));
    const { blobs } = inferResult(res);
    expect(decodeTensor('FP32', blobs.get('sum')!)).toEqual([2, 4]);
    expect(decodeTensor('FP32', blobs.get('neg')!)).toEqual([-1, -2]);
  });

  it('a BYTES input of shape [1] takes the un-prefixed body as its one element', async () => {
    const text = Buffer.from('raw héllo ✓');
    const { json, blobs } = inferResult(await raw('/v2/models/raw_bytes/infer', text));
    expect((json['outputs'] as Array<Record<string, unknown>>)[0]).toMatchObject({ name: 'x_out', datatype: 'BYTES', shape: [1] });
    expect(decodeTensor('BYTES', blobs.get('x_out')!)).toEqual([text]);
  });

  it('is refused for a model with several inputs', async () => {
    const res = await raw('/v2/models/all_types/infer', encodeTensor('FP32', [1, 2]));
    expectRestError(res, 400, ['all_types', 'input']);
  });
});

describe('repository index', () => {
  it('POST /v2/repository/index lists every model version READY', async () => {
    const res = await httpRequest(url('/v2/repository/index'), { method: 'POST' });
    expect(res.status, res.text).toBe(200);
    const rows = res.json as Array<{ name: string; version?: string; state: string; reason: string }>;
    expect(Array.isArray(rows)).toBe(true);
    const names = new Set(rows.map((r) => r.name));
    for (const m of standardModels()) expect(names.has(m.name), m.name).toBe(true);
    for (const r of rows) expect(r.state, r.name).toBe('READY');
    const versioned = rows.filter((r) => r.name === 'versioned').map((r) => r.version);
    expect(versioned.sort()).toEqual(['1', '3']);
  });

  it('accepts {"ready": true} and gRPC RepositoryIndex gives the same rows', async () => {
    const res = await postJson(url('/v2/repository/index'), { ready: true });
    expect(res.status, res.text).toBe(200);
    const rest = (res.json as Array<{ name: string; version?: string }>).map((r) => `${r.name}/${r.version ?? ''}`).sort();
    const reply = await ctx.grpc.repositoryIndex({ ready: true });
    const viaGrpc = (reply['models'] as Array<{ name: string; version: string }>).map((r) => `${r.name}/${r.version}`).sort();
    expect(viaGrpc).toEqual(rest);
  });
});

describe('metrics', () => {
  /** Samples `name{labels} value` of the Prometheus text exposition. */
  function samples(text: string, name: string): Array<{ labels: Record<string, string>; value: number }> {
    const out: Array<{ labels: Record<string, string>; value: number }> = [];
    for (const line of text.split('\n')) {
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
      if (m === null || m[1] !== name) continue;
      const labels: Record<string, string> = {};
      for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
      out.push({ labels, value: Number(m[3]) });
    }
    return out;
  }

  it('GET /metrics on the metrics port counts requests per model and version', async () => {
    for (let i = 0; i < 3; i++) inferResult(await postJson(url('/v2/models/versioned/versions/1/infer'), { inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [i] }] }));
    for (let i = 0; i < 2; i++) inferResult(await postJson(url('/v2/models/versioned/infer'), { inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [i] }] }));
    const res = await get(`${ctx.server.metricsUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const find = (name: string, version: string) =>
      samples(res.text, name).find((s) => s.labels['model'] === 'versioned' && s.labels['version'] === version);
    expect(find('nv_inference_request_success', '1')?.value).toBeGreaterThanOrEqual(3);
    expect(find('nv_inference_request_success', '3')?.value).toBeGreaterThanOrEqual(2);
    expect(find('nv_inference_count', '1')?.value).toBeGreaterThanOrEqual(3);
    expect(find('nv_inference_exec_count', '1')?.value).toBeGreaterThanOrEqual(1);
    for (const name of ['nv_inference_request_failure', 'nv_inference_request_duration_us', 'nv_inference_queue_duration_us', 'nv_inference_compute_infer_duration_us']) {
      expect(res.text, name).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
    }
  });

  it('counts gRPC requests too', async () => {
    const before = samples((await get(`${ctx.server.metricsUrl}/metrics`)).text, 'nv_inference_request_success').find(
      (s) => s.labels['model'] === identityName('INT32') && s.labels['version'] === '1',
    )?.value ?? 0;
    await ctx.grpc.modelInfer({
      model_name: identityName('INT32'),
      inputs: [{ name: 'x', datatype: 'INT32', shape: ['1', '2'], contents: typedContents('INT32', [1, 2]) }],
    });
    const after = samples((await get(`${ctx.server.metricsUrl}/metrics`)).text, 'nv_inference_request_success').find(
      (s) => s.labels['model'] === identityName('INT32') && s.labels['version'] === '1',
    )?.value;
    expect(after).toBe(before + 1);
  });
});
