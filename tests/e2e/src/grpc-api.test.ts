/**
 * The gRPC service (protocols.md §C): health, ModelStreamInfer ordering and per-request errors,
 * every error status with a message naming the tensor or field, deadlines. Datatypes over gRPC are
 * in datatypes.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { loadInferenceDefinitions } from '@sibyl/protocol';
import {
  VECTORS,
  canonical,
  encodeTensor,
  expectGrpcError,
  grpc,
  grpcOutputs,
  identityName,
  serveModels,
  standardModels,
  typedContents,
  type Message,
} from './index.js';

const ctx = serveModels(standardModels);

/** The input of arith and the id_* models is `x`: a message names it quoted, or by its field path. */
const X = /'x'|"x"|inputs\[\d\]/;

const fp32Request = (id: string, values: number[]): Message => ({
  model_name: identityName('FP32'),
  id,
  inputs: [{ name: 'x', datatype: 'FP32', shape: [String(values.length / 2), '2'], contents: { fp32_contents: values } }],
});

describe('health over gRPC', () => {
  it('ServerLive and ServerReady are true', async () => {
    expect(await ctx.grpc.serverLive()).toEqual({ live: true });
    expect(await ctx.grpc.serverReady()).toEqual({ ready: true });
  });

  it('grpc.health.v1.Health/Check answers SERVING', async () => {
    const pkg = grpc.loadPackageDefinition(loadInferenceDefinitions()) as unknown as {
      grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
    };
    const client = new pkg.grpc.health.v1.Health(ctx.server.grpcAddress, grpc.credentials.createInsecure());
    try {
      const check = (service: string) =>
        new Promise<Message>((resolve, reject) =>
          (client as unknown as Record<string, (r: Message, cb: (e: Error | null, m: Message) => void) => void>)['Check']!.call(
            client,
            { service },
            (err, m) => (err ? reject(err) : resolve(m)),
          ),
        );
      expect(await check('')).toEqual({ status: 'SERVING' });
      expect(await check('inference.GRPCInferenceService')).toEqual({ status: 'SERVING' });
    } finally {
      client.close();
    }
  });
});

describe('ModelStreamInfer', () => {
  it('answers several requests in order; a bad one in the middle gets error_message and the stream goes on', async () => {
    const requests: Message[] = [
      fp32Request('s0', [1, 2]),
      fp32Request('s1', [3, 4, 5, 6]),
      {
        model_name: identityName('FP32'),
        id: 's2',
        inputs: [{ name: 'nope', datatype: 'FP32', shape: ['1', '2'], contents: { fp32_contents: [1, 2] } }],
      },
      {
        model_name: identityName('INT64'),
        id: 's3',
        inputs: [{ name: 'x', datatype: 'INT64', shape: ['2', '2'], contents: typedContents('INT64', VECTORS.INT64) }],
      },
      {
        model_name: identityName('BYTES'),
        id: 's4',
        inputs: [{ name: 'x', datatype: 'BYTES', shape: ['2', '2'] }],
        raw_input_contents: [encodeTensor('BYTES', VECTORS.BYTES)],
      },
      { model_name: 'no_such_model', id: 's5', inputs: [] },
      fp32Request('s6', [7, 8]),
    ];
    const { responses, status } = await ctx.grpc.streamInfer(requests);
    expect(status.code, status.details).toBe(grpc.status.OK);
    expect(responses).toHaveLength(requests.length);

    const ok = (i: number) => {
      const r = responses[i]!;
      expect(r['error_message'] ?? '', `response ${i}`).toBe('');
      expect(r['infer_response']?.['id'], `response ${i}`).toBe(`s${i}`);
      return r['infer_response'] as Message;
    };
    expect(grpcOutputs(ok(0)).get('x_out')!.values).toEqual([1, 2]);
    expect(grpcOutputs(ok(1)).get('x_out')!.values).toEqual([3, 4, 5, 6]);
    expect(responses[2]!['error_message']).toContain('nope');
    expect(canonical('INT64', grpcOutputs(ok(3)).get('x_out')!.values)).toEqual(canonical('INT64', VECTORS.INT64));
    expect(canonical('BYTES', grpcOutputs(ok(4)).get('x_out')!.values)).toEqual(canonical('BYTES', VECTORS.BYTES));
    expect(responses[5]!['error_message']).toContain('no_such_model');
    expect(grpcOutputs(ok(6)).get('x_out')!.values).toEqual([7, 8]);
  });

  it('keeps order over many pipelined requests of different sizes', async () => {
    const requests = Array.from({ length: 40 }, (_, i) =>
      fp32Request(`p${i}`, Array.from({ length: 2 * (1 + ((i * 7) % 13)) * 50 }, (_, k) => i + k / 8)),
    );
    const { responses, status } = await ctx.grpc.streamInfer(requests);
    expect(status.code, status.details).toBe(grpc.status.OK);
    expect(responses.map((r) => r['infer_response']?.['id'])).toEqual(requests.map((r) => r['id']));
    responses.forEach((r, i) => {
      const values = requests[i]!['inputs'][0].contents.fp32_contents as number[];
      expect(grpcOutputs(r['infer_response']).get('x_out')!.values).toEqual(values);
    });
  });

  it('an empty stream ends OK with no responses', async () => {
    const { responses, status } = await ctx.grpc.streamInfer([]);
    expect(status.code).toBe(grpc.status.OK);
    expect(responses).toEqual([]);
  });
});

describe('gRPC errors', () => {
  const infer = (request: Message) => ctx.grpc.modelInfer({ model_name: 'arith', ...request });
  const xInput = (extra: Message = {}) => ({ name: 'x', datatype: 'FP32', shape: ['2', '2'], contents: { fp32_contents: [1, 2, 3, 4] }, ...extra });
  const raw = encodeTensor('FP32', [1, 2, 3, 4]);

  it('unknown model → NOT_FOUND naming it (infer, metadata, ready)', async () => {
    await expectGrpcError(ctx.grpc.modelInfer({ model_name: 'no_such_model', inputs: [xInput()] }), grpc.status.NOT_FOUND, ['no_such_model']);
    await expectGrpcError(ctx.grpc.modelMetadata('no_such_model'), grpc.status.NOT_FOUND, ['no_such_model']);
    await expectGrpcError(ctx.grpc.modelReady('no_such_model'), grpc.status.NOT_FOUND, ['no_such_model']);
  });

  it('unknown version → NOT_FOUND', async () => {
    await expectGrpcError(infer({ model_version: '7', inputs: [xInput()] }), grpc.status.NOT_FOUND, ['arith']);
    await expectGrpcError(ctx.grpc.modelMetadata('arith', '7'), grpc.status.NOT_FOUND, ['arith']);
  });

  it('invalid model name → INVALID_ARGUMENT naming it', async () => {
    await expectGrpcError(ctx.grpc.modelInfer({ model_name: '../etc', inputs: [xInput()] }), grpc.status.INVALID_ARGUMENT, ['../etc']);
    await expectGrpcError(ctx.grpc.modelMetadata('a/b'), grpc.status.INVALID_ARGUMENT, ['a/b']);
  });

  it('unknown, missing and duplicate inputs → INVALID_ARGUMENT naming them', async () => {
    await expectGrpcError(infer({ inputs: [xInput(), xInput({ name: 'extra' })] }), grpc.status.INVALID_ARGUMENT, ['extra']);
    await expectGrpcError(infer({ inputs: [] }), grpc.status.INVALID_ARGUMENT, [X]);
    await expectGrpcError(infer({ inputs: [xInput(), xInput()] }), grpc.status.INVALID_ARGUMENT, [X]);
  });

  it('unknown requested output → INVALID_ARGUMENT naming it', async () => {
    await expectGrpcError(infer({ inputs: [xInput()], outputs: [{ name: 'nope_out' }] }), grpc.status.INVALID_ARGUMENT, ['nope_out']);
  });

  it('datatype, shape and element-count mismatches → INVALID_ARGUMENT naming the input', async () => {
    await expectGrpcError(infer({ inputs: [xInput({ datatype: 'FP64', contents: { fp64_contents: [1, 2, 3, 4] } })] }), grpc.status.INVALID_ARGUMENT, [X]);
    await expectGrpcError(infer({ inputs: [xInput({ shape: ['4'] })] }), grpc.status.INVALID_ARGUMENT, [X]);
    await expectGrpcError(infer({ inputs: [xInput({ contents: { fp32_contents: [1, 2, 3] } })] }), grpc.status.INVALID_ARGUMENT, [X]);
    await expectGrpcError(infer({ inputs: [xInput({ shape: ['-2', '2'] })] }), grpc.status.INVALID_ARGUMENT, [X]);
  });

  it('contents in the field of another datatype → INVALID_ARGUMENT naming the input', async () => {
    await expectGrpcError(infer({ inputs: [xInput({ contents: { int_contents: [1, 2, 3, 4] } })] }), grpc.status.INVALID_ARGUMENT, [X]);
  });

  it('both contents and raw_input_contents for one input → INVALID_ARGUMENT naming it', async () => {
    await expectGrpcError(infer({ inputs: [xInput()], raw_input_contents: [raw] }), grpc.status.INVALID_ARGUMENT, [X]);
  });

  it('raw_input_contents count or size wrong → INVALID_ARGUMENT', async () => {
    const bare = { name: 'x', datatype: 'FP32', shape: ['2', '2'] };
    await expectGrpcError(infer({ inputs: [bare], raw_input_contents: [raw, raw] }), grpc.status.INVALID_ARGUMENT, ['raw_input_contents']);
    await expectGrpcError(infer({ inputs: [bare], raw_input_contents: [raw.subarray(0, 12)] }), grpc.status.INVALID_ARGUMENT, [X]);
    await expectGrpcError(infer({ inputs: [bare] }), grpc.status.INVALID_ARGUMENT, [X]);
  });

  it("a reserved 'triton_' parameter → INVALID_ARGUMENT naming it", async () => {
    await expectGrpcError(infer({ parameters: { triton_thing: { int64_param: '1' } }, inputs: [xInput()] }), grpc.status.INVALID_ARGUMENT, ['triton_thing']);
  });
});

describe('deadlines', () => {
  // Whichever side notices first (the client's timer or the server reading grpc-timeout), the caller
  // sees DEADLINE_EXCEEDED; the server-side mapping is checked deterministically over REST (504) in
  // errors.test.ts. What this adds: a call abandoned mid-flight leaves the server serving.
  it('a tiny deadline ends in DEADLINE_EXCEEDED and the server stays live', async () => {
    const values = Array.from({ length: 4 * 20_000 }, (_, i) => i);
    await expectGrpcError(
      ctx.grpc.modelInfer(
        { model_name: 'threaded', inputs: [{ name: 'x', datatype: 'FP32', shape: ['20000', '4'], contents: { fp32_contents: values } }] },
        { timeoutMs: 1 },
      ),
      grpc.status.DEADLINE_EXCEEDED,
    );
    expect(await ctx.grpc.serverLive()).toEqual({ live: true });
    const reply = await ctx.grpc.modelInfer(fp32Request('after', [1, 2]));
    expect(reply['id']).toBe('after');
  });
});
