import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TIMEOUT_HEADER as GATEWAY_TIMEOUT_HEADER } from '@sibyl/gateway';
import { SibylError, type Datatype, type InferRequest, type Tensor } from '@sibyl/protocol';
import { identityModel, writeModelRepository } from '@sibyl/testkit';
import type { Backend } from './backend.js';
import { createGrpcBackend } from './grpc-backend.js';
import { createHttpBackend } from './http-backend.js';
import { TIMEOUT_HEADER } from './http-exchange.js';
import { notDelivered } from './remote-error.js';
import { startTestWorker, type TestWorker } from './test-worker.fixture.js';

// Both clients against a real worker: the gateway's REST and gRPC servers over the local data plane,
// running ONNX identity models with onnxruntime-node.
const ONNX_TYPES: Datatype[] = ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES'];

let dir: string;
let worker: TestWorker;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sibyl-backends-'));
  await writeModelRepository(dir, [
    { name: 'types', versions: { '1': identityModel('types', ONNX_TYPES.map((datatype) => ({ name: datatype.toLowerCase(), datatype, shape: ['n'] }))) } },
    { name: 'single', versions: { '1': identityModel('single', [{ name: 'x', datatype: 'FP32', shape: ['n'] }]) } },
  ]);
  worker = await startTestWorker(dir);
}, 60_000);

afterAll(async () => {
  await worker?.close();
  await rm(dir, { recursive: true, force: true });
});

const utf8 = (text: string) => new Uint8Array(Buffer.from(text));

/** Values per datatype, two elements each: extremes and bit patterns a lossy hop would change. */
function sample(datatype: Datatype): Tensor['data'] {
  switch (datatype) {
    case 'BOOL':
      return new Uint8Array([1, 0]);
    case 'UINT8':
      return new Uint8Array([0, 255]);
    case 'UINT16':
      return new Uint16Array([1, 65535]);
    case 'UINT32':
      return new Uint32Array([0, 4294967295]);
    case 'UINT64':
      return new BigUint64Array([2n ** 64n - 1n, 9007199254740993n]);
    case 'INT8':
      return new Int8Array([-128, 127]);
    case 'INT16':
      return new Int16Array([-32768, 32767]);
    case 'INT32':
      return new Int32Array([-(2 ** 31), 2 ** 31 - 1]);
    case 'INT64':
      return new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]);
    case 'FP16':
      // A NaN with a payload and the smallest subnormal: only a raw copy keeps both.
      return new Uint16Array([0x7e01, 0x0001]);
    case 'BF16':
      return new Uint16Array([0x7fc1, 0x8000]);
    case 'FP32':
      return new Float32Array([-0, 3.4028234663852886e38]);
    case 'FP64':
      return new Float64Array([Number.MIN_VALUE, 0.1]);
    case 'BYTES':
      return [utf8('ünïcödé'), new Uint8Array(0)];
  }
}

function hex(data: Tensor['data']): unknown {
  return Array.isArray(data) ? data.map((e) => Buffer.from(e).toString('hex')) : Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('hex');
}

function expectEchoed(outputs: Tensor[], inputs: Tensor[]): void {
  const byName = new Map(outputs.map((t) => [t.name, t]));
  for (const input of inputs) {
    const output = byName.get(`${input.name}_out`);
    expect(output, `output ${input.name}_out`).toBeDefined();
    expect([output!.datatype, output!.shape, output!.data.constructor.name, hex(output!.data)]).toEqual([
      input.datatype,
      input.shape,
      input.data.constructor.name,
      hex(input.data),
    ]);
  }
  expect(outputs).toHaveLength(inputs.length);
}

async function failure(promise: Promise<unknown>): Promise<SibylError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(SibylError);
    return err as SibylError;
  }
  throw new Error('expected a rejection');
}

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const transports = [
  { transport: 'http', open: (w: TestWorker, timeoutMs?: number) => createHttpBackend({ url: w.restUrl, timeoutMs }), at: (port: number) => createHttpBackend({ url: `http://127.0.0.1:${port}` }) },
  { transport: 'grpc', open: (w: TestWorker, timeoutMs?: number) => createGrpcBackend({ address: w.grpcAddress, timeoutMs }), at: (port: number) => createGrpcBackend({ address: `127.0.0.1:${port}` }) },
] as const;

it('sends deadlines in the header the gateway reads', () => {
  expect(TIMEOUT_HEADER).toBe(GATEWAY_TIMEOUT_HEADER);
});

describe.each(transports)('$transport backend against a real worker', ({ transport, open, at }) => {
  let backend: Backend;
  beforeAll(() => {
    backend = open(worker);
  });
  afterAll(async () => {
    await backend.close();
  });

  it('names its target and transport', () => {
    expect(backend.transport).toBe(transport);
    expect(backend.target).toBe(transport === 'http' ? worker.restUrl : `grpc://${worker.grpcAddress}`);
  });

  it('carries every datatype onnxruntime runs through a real model exactly', async () => {
    const inputs: Tensor[] = ONNX_TYPES.map((datatype) => ({ name: datatype.toLowerCase(), datatype, shape: [2], data: sample(datatype) }));
    const response = await backend.infer({ modelName: 'types', id: 'all-types', inputs });
    expect(response).toMatchObject({ modelName: 'types', modelVersion: '1', id: 'all-types' });
    expectEchoed(response.outputs, inputs);
  });

  it('carries zero-sized tensors through a real model', async () => {
    const inputs: Tensor[] = ONNX_TYPES.filter((d) => d !== 'BYTES').map((datatype) => {
      const data = sample(datatype) as Exclude<Tensor['data'], Uint8Array[]>;
      return { name: datatype.toLowerCase(), datatype, shape: [0], data: data.subarray(0, 0) };
    });
    inputs.push({ name: 'bytes', datatype: 'BYTES', shape: [0], data: [] });
    expectEchoed((await backend.infer({ modelName: 'types', inputs })).outputs, inputs);
  });

  it('carries BF16, non-UTF-8 BYTES and empty tensors exactly (echo model: onnxruntime-node takes neither)', async () => {
    const inputs: Tensor[] = [
      { name: 'b', datatype: 'BF16', shape: [2], data: sample('BF16') },
      { name: 's', datatype: 'BYTES', shape: [2, 2], data: [new Uint8Array([0xff, 0xfe]), new Uint8Array(0), new Uint8Array([0, 0, 0]), utf8('ok')] },
      { name: 'none', datatype: 'BYTES', shape: [0, 3], data: [] },
      { name: 'big', datatype: 'FP32', shape: [256, 1024], data: new Float32Array(256 * 1024).map((_, i) => i * 0.5) },
    ];
    expectEchoed((await backend.infer({ modelName: 'echo', inputs })).outputs, inputs);
  });

  it('returns only the outputs asked for', async () => {
    const inputs: Tensor[] = ONNX_TYPES.map((datatype) => ({ name: datatype.toLowerCase(), datatype, shape: [2], data: sample(datatype) }));
    const response = await backend.infer({ modelName: 'types', modelVersion: '1', inputs, outputs: [{ name: 'int64_out' }, { name: 'bytes_out' }] });
    expect(response.outputs.map((t) => t.name).sort()).toEqual(['bytes_out', 'int64_out']);
  });

  it('carries a tensor larger than one joined write (4 MiB FP32) exactly, both ways', async () => {
    const n = 1 << 20;
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = Math.fround(i * 0.5 - 7);
    // The echo worker answers its inputs as outputs: nothing but the transport touches the bytes.
    const response = await backend.infer({ modelName: 'echo', inputs: [{ name: 'big', datatype: 'FP32', shape: [n], data }] });
    const out = response.outputs[0]!;
    expect(out.shape).toEqual([n]);
    expect(Buffer.from((out.data as Float32Array).buffer, (out.data as Float32Array).byteOffset, n * 4).equals(Buffer.from(data.buffer))).toBe(true);
  });

  it("gives back the caller's request parameters, not the ones the hop adds (binary_data_output)", async () => {
    const inputs: Tensor[] = ONNX_TYPES.map((datatype) => ({ name: datatype.toLowerCase(), datatype, shape: [2], data: sample(datatype) }));
    const outputs = [{ name: 'fp32_out' }];
    const plain = await backend.infer({ modelName: 'types', modelVersion: '1', inputs, outputs });
    expect(plain.parameters?.['binary_data_output']).toBeUndefined();
    const tagged = await backend.infer({ modelName: 'types', modelVersion: '1', inputs, outputs, parameters: { tag: 'a' } });
    expect(tagged.parameters ?? {}).not.toHaveProperty('binary_data_output');
  });

  it('answers health, server and model metadata, readiness and the repository index', async () => {
    expect(await backend.serverLive()).toBe(true);
    expect(await backend.serverReady()).toBe(true);
    expect(await backend.serverMetadata()).toMatchObject({ name: 'sibyl', version: '0.1.0' });
    expect((await backend.serverMetadata()).extensions).toContain('binary_tensor_data');
    expect(await backend.modelMetadata('single')).toEqual({
      name: 'single',
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1] }],
      outputs: [{ name: 'x_out', datatype: 'FP32', shape: [-1] }],
    });
    expect(await backend.modelReady('single')).toBe(true);
    expect(await backend.modelReady('single', '1')).toBe(true);
    const index = await backend.repositoryIndex();
    expect(index).toContainEqual({ name: 'single', version: '1', state: 'READY', reason: '' });
  });

  it("answers a model configuration as the worker serves it (Triton's model configuration extension)", async () => {
    const config = (await backend.modelConfig('single', '1')) as unknown as Record<string, unknown>;
    expect(config).toMatchObject({
      name: 'single',
      platform: 'onnxruntime_onnx',
      backend: 'onnxruntime',
      // [-1] in the model file: the batch dimension (max_batch_size), so one value per batch element.
      input: [{ name: 'x', data_type: 'TYPE_FP32', dims: [] }],
      output: [{ name: 'x_out', data_type: 'TYPE_FP32', dims: [] }],
      instance_group: [{ kind: 'KIND_CPU', count: 1 }],
    });
    // Numbers, not the strings a gRPC loader gives 64-bit fields; no oneof markers.
    expect(config).not.toHaveProperty('scheduling_choice');
    expect(await backend.modelConfig('single')).toEqual(config);
    const err = await failure(backend.modelConfig('nope'));
    expect(err).toMatchObject({ category: 'NOT_FOUND', code: 'SIBYL_MODEL_NOT_FOUND' });
  });

  it('keeps the code and message of an unknown model (404 / NOT_FOUND); not notDelivered', async () => {
    for (const call of [backend.modelMetadata('nope'), backend.infer({ modelName: 'nope', inputs: [] }), backend.modelReady('single', '7')]) {
      const err = await failure(call);
      expect(err.category).toBe('NOT_FOUND');
      expect(err.code).toMatch(/^SIBYL_MODEL_(VERSION_)?NOT_FOUND$/);
      expect(err.message).toMatch(/unknown (model 'nope'|version '7')/);
      expect(notDelivered(err)).toBe(false);
    }
  });

  it('keeps the code of a bad input (400 / INVALID_ARGUMENT) from the validation and from the runtime', async () => {
    const wrongType = await failure(backend.infer({ modelName: 'single', inputs: [{ name: 'x', datatype: 'INT32', shape: [1], data: new Int32Array(1) }] }));
    expect(wrongType).toMatchObject({ code: 'SIBYL_INPUT_DATATYPE_MISMATCH', category: 'INVALID_ARGUMENT' });
    expect(wrongType.message).toContain("input 'x'");
    const inputs: Tensor[] = ONNX_TYPES.map((datatype) => ({ name: datatype.toLowerCase(), datatype, shape: [2], data: sample(datatype) }));
    inputs[inputs.length - 1]!.data = [new Uint8Array([0xff]), utf8('a')];
    const notUtf8 = await failure(backend.infer({ modelName: 'types', inputs }));
    expect(notUtf8).toMatchObject({ code: 'SIBYL_INPUT_BYTES_UNREPRESENTABLE', category: 'INVALID_ARGUMENT' });
    expect(notDelivered(notUtf8)).toBe(false);
  });

  it('keeps an unavailable answer with its Retry-After; an unknown busy code is not notDelivered', async () => {
    const err = await failure(backend.infer({ modelName: 'busy', inputs: [] }));
    expect(err).toMatchObject({ code: 'TEST_QUEUE_FULL', category: 'UNAVAILABLE', retryAfterSeconds: 2, message: "model 'busy' queue is full" });
    expect(notDelivered(err)).toBe(false);
  });

  it('passes the id, the deadline and the traceparent to the worker', async () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const deadlineMs = Date.now() + 5000;
    await backend.infer({ modelName: 'echo', id: `ctx-${transport}`, inputs: [] }, { deadlineMs, traceparent });
    const seen = worker.seen.find((s) => s.id === `ctx-${transport}`)!;
    expect(seen.traceparent).toBe(traceparent);
    // The worker counts the time from when it reads the call (gRPC rounds the timeout up to its unit).
    expect(seen.deadlineMs).toBeLessThanOrEqual(deadlineMs + 50);
    expect(seen.deadlineMs).toBeGreaterThan(deadlineMs - 1000);
  });

  it('fails a call whose deadline passes before the answer with DEADLINE_EXCEEDED, never notDelivered', async () => {
    const err = await failure(backend.infer({ modelName: 'slow', id: '2000', inputs: [] }, { deadlineMs: Date.now() + 100 }));
    expect(err.category).toBe('DEADLINE_EXCEEDED');
    expect(err.code).toBe('SIBYL_BACKEND_DEADLINE_EXCEEDED');
    expect(notDelivered(err)).toBe(false);
  });

  it('bounds a call without a deadline by timeoutMs', async () => {
    const short = open(worker, 100);
    try {
      const err = await failure(short.infer({ modelName: 'slow', id: '2000', inputs: [] }));
      expect(err.category).toBe('DEADLINE_EXCEEDED');
    } finally {
      await short.close();
    }
  });

  it('cancels a call when the caller aborts, and counts it in flight until then', async () => {
    const controller = new AbortController();
    const pending = failure(backend.infer({ modelName: 'slow', id: '5000', inputs: [] }, { signal: controller.signal }));
    expect(backend.inflight).toBe(1);
    setTimeout(() => controller.abort(), 50);
    const err = await pending;
    expect(err).toMatchObject({ code: 'SIBYL_BACKEND_CANCELLED', category: 'UNAVAILABLE' });
    expect(notDelivered(err)).toBe(false);
    expect(backend.inflight).toBe(0);
    // An already aborted signal sends nothing.
    const before = worker.seen.length;
    await failure(backend.infer({ modelName: 'echo', inputs: [] }, { signal: AbortSignal.abort() }));
    expect(worker.seen.length).toBe(before);
  });

  it('marks a closed port notDelivered', async () => {
    const dead = at(await closedPort());
    try {
      const err = await failure(dead.infer({ modelName: 'single', inputs: [] }));
      expect(err).toMatchObject({ code: 'SIBYL_BACKEND_UNREACHABLE', category: 'UNAVAILABLE' });
      expect(notDelivered(err)).toBe(true);
      expect(dead.inflight).toBe(0);
      expect(notDelivered(await failure(dead.serverReady()))).toBe(true);
    } finally {
      await dead.close();
    }
  });

  it('marks SIBYL_MODEL_NOT_READY notDelivered (the model did not run; another instance may take it)', async () => {
    await worker.service.unload('single');
    try {
      const err = await failure(backend.infer({ modelName: 'single', inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: new Float32Array(1) }] }));
      expect(err).toMatchObject({ code: 'SIBYL_MODEL_NOT_READY', category: 'UNAVAILABLE' });
      expect(notDelivered(err)).toBe(true);
      expect(await backend.modelReady('single')).toBe(false);
    } finally {
      await worker.service.load('single');
    }
  });
});

describe.each(transports)('$transport backend to a worker that goes away', ({ open }) => {
  it('marks the first call after the server closed notDelivered, having used a live connection before', async () => {
    const second = await startTestWorker(dir);
    const backend = open(second);
    try {
      const request: InferRequest = { modelName: 'single', inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: new Float32Array([1]) }] };
      expect((await backend.infer(request)).outputs).toHaveLength(1);
      await second.closeServers();
      // Let the client see the close. A request written onto a kept-alive connection in the instant
      // before its close is seen cannot be told from one the server read and then dropped, so it is
      // (conservatively) SIBYL_BACKEND_CONNECTION_LOST, not notDelivered: the model may have run.
      await new Promise((resolve) => setTimeout(resolve, 20));
      const err = await failure(backend.infer(request));
      expect([err.category, err.code, err.message]).toEqual(['UNAVAILABLE', 'SIBYL_BACKEND_UNREACHABLE', expect.any(String)]);
      expect(notDelivered(err)).toBe(true);
    } finally {
      await backend.close();
      await second.close();
    }
  });
});
