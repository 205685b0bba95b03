/**
 * Every v2 datatype, both ways, four ways: REST JSON, REST binary extension, gRPC typed contents,
 * gRPC raw contents. Values sit at the edges of each range (64-bit integers past 2^53, extreme and
 * subnormal floats, non-ASCII UTF-8) and must come back exactly.
 */
import { describe, expect, it } from 'vitest';
import {
  DTYPES,
  VECTORS,
  canonical,
  decodeTensor,
  encodeTensor,
  expectGrpcError,
  expectRestError,
  flatten,
  grpc,
  grpcOutputs,
  identityName,
  inferResult,
  nest,
  postBinary,
  postJson,
  serveModels,
  standardModels,
  tensorName,
  toJsonElement,
  typedContents,
  type Dtype,
  type JsonValue,
} from './index.js';

const ctx = serveModels(standardModels);
const inferUrl = (model: string) => `${ctx.server.httpUrl}/v2/models/${model}/infer`;

type JsonOutput = { name: string; datatype: string; shape: number[]; data?: JsonValue; parameters?: Record<string, JsonValue> };

const jsonData = (d: Dtype, nested: boolean) => {
  const flat = VECTORS[d].map((v) => toJsonElement(d, v));
  return nested ? nest(flat, [2, 2]) : flat;
};

describe.each(DTYPES)('%s', (d) => {
  const model = identityName(d);
  const expected = canonical(d, VECTORS[d]);

  it('REST JSON in (nested data), JSON out', async () => {
    const res = await postJson(inferUrl(model), { inputs: [{ name: 'x', datatype: d, shape: [2, 2], data: jsonData(d, true) }] });
    const { json, blobs } = inferResult(res);
    expect(blobs.size).toBe(0);
    const out = (json['outputs'] as JsonOutput[])[0]!;
    expect(out).toMatchObject({ name: 'x_out', datatype: d, shape: [2, 2] });
    expect(canonical(d, flatten(out.data))).toEqual(expected);
  });

  it('REST JSON in (flat data), JSON out', async () => {
    const res = await postJson(inferUrl(model), { inputs: [{ name: 'x', datatype: d, shape: [2, 2], data: jsonData(d, false) }] });
    const out = (inferResult(res).json['outputs'] as JsonOutput[])[0]!;
    expect(canonical(d, flatten(out.data))).toEqual(expected);
  });

  it('REST binary in, binary out', async () => {
    const blob = encodeTensor(d, VECTORS[d]);
    const res = await postBinary(
      inferUrl(model),
      {
        inputs: [{ name: 'x', datatype: d, shape: [2, 2], parameters: { binary_data_size: blob.length } }],
        outputs: [{ name: 'x_out', parameters: { binary_data: true } }],
      },
      [blob],
    );
    expect(res.status, res.text).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/octet-stream/);
    const { json, blobs } = inferResult(res);
    const out = (json['outputs'] as JsonOutput[])[0]!;
    expect(out).toMatchObject({ name: 'x_out', datatype: d, shape: [2, 2] });
    expect(out.data).toBeUndefined();
    expect(out.parameters?.['binary_data_size']).toBe(blob.length);
    expect(blobs.get('x_out')!.equals(blob)).toBe(true);
    expect(canonical(d, decodeTensor(d, blobs.get('x_out')!))).toEqual(expected);
  });

  it('REST binary in, JSON out (outputs default to JSON)', async () => {
    const blob = encodeTensor(d, VECTORS[d]);
    const res = await postBinary(
      inferUrl(model),
      { inputs: [{ name: 'x', datatype: d, shape: [2, 2], parameters: { binary_data_size: blob.length } }] },
      [blob],
    );
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const out = (inferResult(res).json['outputs'] as JsonOutput[])[0]!;
    expect(canonical(d, flatten(out.data))).toEqual(expected);
  });

  it('REST JSON in, binary out (binary_data_output)', async () => {
    const res = await postJson(inferUrl(model), {
      parameters: { binary_data_output: true },
      inputs: [{ name: 'x', datatype: d, shape: [2, 2], data: jsonData(d, true) }],
    });
    const { blobs } = inferResult(res);
    expect(canonical(d, decodeTensor(d, blobs.get('x_out')!))).toEqual(expected);
  });

  if (d === 'FP16') {
    it('gRPC typed contents: FP16 has no contents field, so FP16 data in another field is refused', async () => {
      await expectGrpcError(
        ctx.grpc.modelInfer({
          model_name: model,
          inputs: [{ name: 'x', datatype: 'FP16', shape: ['2', '2'], contents: { fp32_contents: VECTORS.FP16 } }],
        }),
        grpc.status.INVALID_ARGUMENT,
        ['x'],
      );
    });
  } else {
    it('gRPC typed contents in, typed or raw out', async () => {
      const reply = await ctx.grpc.modelInfer({
        model_name: model,
        inputs: [{ name: 'x', datatype: d, shape: ['2', '2'], contents: typedContents(d, VECTORS[d]) }],
      });
      const out = grpcOutputs(reply).get('x_out')!;
      expect(out).toMatchObject({ datatype: d, shape: [2, 2] });
      expect(canonical(d, out.values)).toEqual(expected);
    });
  }

  it('gRPC raw_input_contents in, raw_output_contents out', async () => {
    const blob = encodeTensor(d, VECTORS[d]);
    const reply = await ctx.grpc.modelInfer({
      model_name: model,
      inputs: [{ name: 'x', datatype: d, shape: ['2', '2'] }],
      raw_input_contents: [blob],
    });
    const out = grpcOutputs(reply).get('x_out')!;
    expect(out).toMatchObject({ datatype: d, shape: [2, 2], source: 'raw' });
    expect((reply['raw_output_contents'] as Buffer[])[0]!.equals(blob)).toBe(true);
    expect(canonical(d, out.values)).toEqual(expected);
  });
});

describe('all datatypes in one request (all_types model)', () => {
  const names = DTYPES.map(tensorName);

  const checkJsonOutputs = (outputs: JsonOutput[], blobs: Map<string, Buffer>, binary: ReadonlySet<string>) => {
    expect(outputs.map((o) => o.name).sort()).toEqual(names.map((n) => `${n}_out`).sort());
    for (const d of DTYPES) {
      const out = outputs.find((o) => o.name === `${tensorName(d)}_out`)!;
      expect(out, d).toMatchObject({ datatype: d, shape: [2, 2] });
      if (binary.has(out.name)) {
        expect(out.data, `${out.name} should be binary`).toBeUndefined();
        expect(canonical(d, decodeTensor(d, blobs.get(out.name)!)), d).toEqual(canonical(d, VECTORS[d]));
      } else {
        expect(blobs.has(out.name), `${out.name} should be JSON`).toBe(false);
        expect(canonical(d, flatten(out.data)), d).toEqual(canonical(d, VECTORS[d]));
      }
    }
  };

  it('REST JSON, nested and flat data mixed', async () => {
    const res = await postJson(inferUrl('all_types'), {
      id: 'all-json',
      inputs: DTYPES.map((d, i) => ({ name: tensorName(d), datatype: d, shape: [2, 2], data: jsonData(d, i % 2 === 0) })),
    });
    const { json, blobs } = inferResult(res);
    expect(json['id']).toBe('all-json');
    checkJsonOutputs(json['outputs'] as JsonOutput[], blobs, new Set());
  });

  it('the 64-bit integers travel as exact JSON literals', async () => {
    const res = await postJson(inferUrl(identityName('INT64')), {
      inputs: [{ name: 'x', datatype: 'INT64', shape: [2, 2], data: VECTORS.INT64 }],
    });
    expect(res.status, res.text).toBe(200);
    // The literal text itself, not just a parsed value: a server that goes through a double would print 9007199254740992.
    expect(res.text).toContain('9007199254740993');
    expect(res.text).toContain('-9223372036854775808');
    expect(res.text).toContain('9223372036854775807');
    const u = await postJson(inferUrl(identityName('UINT64')), {
      inputs: [{ name: 'x', datatype: 'UINT64', shape: [2, 2], data: VECTORS.UINT64 }],
    });
    expect(u.text).toContain('18446744073709551615');
    expect(u.text).toContain('9223372036854775809');
  });

  it('REST binary, every output binary (binary_data_output, outputs omitted)', async () => {
    const blobs = DTYPES.map((d) => encodeTensor(d, VECTORS[d]));
    const res = await postBinary(
      inferUrl('all_types'),
      {
        parameters: { binary_data_output: true },
        inputs: DTYPES.map((d, i) => ({ name: tensorName(d), datatype: d, shape: [2, 2], parameters: { binary_data_size: blobs[i]!.length } })),
      },
      blobs,
    );
    expect(res.status, res.text).toBe(200);
    const parsed = inferResult(res);
    checkJsonOutputs(parsed.json['outputs'] as JsonOutput[], parsed.blobs, new Set(names.map((n) => `${n}_out`)));
    // Blobs follow the order of the outputs in the JSON header.
    const order = (parsed.json['outputs'] as JsonOutput[]).map((o) => o.name);
    expect([...parsed.blobs.keys()]).toEqual(order);
  });

  it('mixed: some inputs JSON, some binary; per-output binary_data', async () => {
    const binaryInputs = new Set<Dtype>(['BOOL', 'UINT64', 'INT16', 'FP16', 'FP64', 'BYTES']);
    const blobs: Buffer[] = [];
    const inputs = DTYPES.map((d, i) => {
      if (binaryInputs.has(d)) {
        const blob = encodeTensor(d, VECTORS[d]);
        blobs.push(blob);
        return { name: tensorName(d), datatype: d, shape: [2, 2], parameters: { binary_data_size: blob.length } };
      }
      return { name: tensorName(d), datatype: d, shape: [2, 2], data: jsonData(d, i % 2 === 1) };
    });
    const binaryOut = new Set(['int64_out', 'bytes_out', 'fp16_out', 'uint8_out']);
    const res = await postBinary(
      inferUrl('all_types'),
      { inputs, outputs: names.map((n) => ({ name: `${n}_out`, parameters: { binary_data: binaryOut.has(`${n}_out`) } })) },
      blobs,
    );
    expect(res.status, res.text).toBe(200);
    const parsed = inferResult(res);
    checkJsonOutputs(parsed.json['outputs'] as JsonOutput[], parsed.blobs, binaryOut);
  });
});

describe('edge values', () => {
  it('zero-size tensors: REST JSON and gRPC raw (Triton L0_infer_zero)', async () => {
    const res = await postJson(inferUrl(identityName('INT32')), { inputs: [{ name: 'x', datatype: 'INT32', shape: [0, 2], data: [] }] });
    const out = (inferResult(res).json['outputs'] as JsonOutput[])[0]!;
    expect(out).toMatchObject({ shape: [0, 2], data: [] });
    const reply = await ctx.grpc.modelInfer({
      model_name: identityName('FP32'),
      inputs: [{ name: 'x', datatype: 'FP32', shape: ['0', '2'] }],
      raw_input_contents: [Buffer.alloc(0)],
    });
    expect(grpcOutputs(reply).get('x_out')).toMatchObject({ shape: [0, 2], values: [] });
    expect((reply['raw_output_contents'] as Buffer[])).toHaveLength(1);
  });

  it('infinities travel exactly in binary, and the JSON answer stays valid JSON', async () => {
    const input = { name: 'x', datatype: 'FP32', shape: [1, 2], data: [3e38, -3e38] };
    const binary = inferResult(await postJson(inferUrl('arith'), { inputs: [input], outputs: [{ name: 'sum', parameters: { binary_data: true } }] }));
    expect(decodeTensor('FP32', binary.blobs.get('sum')!)).toEqual([Infinity, -Infinity]);
    const json = await postJson(inferUrl('arith'), { inputs: [input] });
    expect(json.status).toBe(200);
    expect(() => JSON.parse(json.text)).not.toThrow();
  });

  it('BYTES that are not UTF-8 come back byte for byte, or are refused naming the input, never altered', async () => {
    const blob = encodeTensor('BYTES', [Buffer.from([0xff, 0xfe, 0x00, 0x80]), Buffer.from('ok'), Buffer.from([0xc3]), Buffer.from('z')]);
    const res = await postBinary(
      inferUrl(identityName('BYTES')),
      { parameters: { binary_data_output: true }, inputs: [{ name: 'x', datatype: 'BYTES', shape: [2, 2], parameters: { binary_data_size: blob.length } }] },
      [blob],
    );
    if (res.status === 200) expect(inferResult(res).blobs.get('x_out')!.equals(blob)).toBe(true);
    else expectRestError(res, 400, ["'x'", 'UTF-8']);
    try {
      const reply = await ctx.grpc.modelInfer({
        model_name: identityName('BYTES'),
        inputs: [{ name: 'x', datatype: 'BYTES', shape: ['2', '2'] }],
        raw_input_contents: [blob],
      });
      expect((reply['raw_output_contents'] as Buffer[])[0]!.equals(blob)).toBe(true);
    } catch (err) {
      expect((err as { code: number }).code).toBe(grpc.status.INVALID_ARGUMENT);
      expect((err as { details: string }).details).toContain("'x'");
    }
  });
});

describe('binary_data / binary_data_output precedence (§B.1)', () => {
  const input = { name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2] };
  const kinds = async (body: Record<string, unknown>) => {
    const res = await postJson(inferUrl('arith'), { inputs: [input], ...body });
    const { json, blobs } = inferResult(res);
    const kind: Record<string, string> = {};
    for (const o of json['outputs'] as JsonOutput[]) {
      kind[o.name] = blobs.has(o.name) ? 'binary' : 'json';
      if (blobs.has(o.name)) expect(o.data).toBeUndefined();
      const values = blobs.has(o.name) ? decodeTensor('FP32', blobs.get(o.name)!) : flatten(o.data);
      expect(values).toEqual(o.name === 'sum' ? [2, 4] : [-1, -2]);
    }
    return { kind, contentType: res.headers.get('content-type'), headerLength: res.headers.get('inference-header-content-length') };
  };

  it('no binary parameters: all JSON, application/json, no Inference-Header-Content-Length', async () => {
    const r = await kinds({});
    expect(r.kind).toEqual({ sum: 'json', neg: 'json' });
    expect(r.contentType).toMatch(/^application\/json/);
    expect(r.headerLength).toBeNull();
  });

  it('binary_data_output true and outputs omitted: all binary', async () => {
    const r = await kinds({ parameters: { binary_data_output: true } });
    expect(r.kind).toEqual({ sum: 'binary', neg: 'binary' });
    expect(r.contentType).toMatch(/^application\/octet-stream/);
    expect(r.headerLength).not.toBeNull();
  });

  it('per-output binary_data false overrides binary_data_output true', async () => {
    const r = await kinds({
      parameters: { binary_data_output: true },
      outputs: [{ name: 'sum', parameters: { binary_data: false } }, { name: 'neg' }],
    });
    expect(r.kind).toEqual({ sum: 'json', neg: 'binary' });
  });

  it('per-output binary_data true overrides binary_data_output false', async () => {
    const r = await kinds({
      parameters: { binary_data_output: false },
      outputs: [{ name: 'sum', parameters: { binary_data: true } }, { name: 'neg' }],
    });
    expect(r.kind).toEqual({ sum: 'binary', neg: 'json' });
    expect(r.contentType).toMatch(/^application\/octet-stream/);
  });

  it('binary_data_output must be a boolean', async () => {
    const res = await postJson(inferUrl('arith'), { inputs: [input], parameters: { binary_data_output: 'yes' } });
    expectRestError(res, 400, ['binary_data_output']);
  });
});
