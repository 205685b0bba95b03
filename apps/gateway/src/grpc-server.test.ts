import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMetrics } from '@sibyl/observability';
import { loadInferenceDefinitions } from '@sibyl/protocol';
import { captureLogger, FakeInferenceService } from './fake-inference-service.fixture.js';
import { createGrpcServer, type GrpcServerHandle } from './grpc-server.js';
import { MAX_IN_FLIGHT } from './grpc-stream-infer.js';
import { SERVER_EXTENSIONS } from './server-extensions.js';

// Every RPC over a real socket, with a grpc-js client built from the same protos and loader options.
type Client = grpc.Client & Record<string, any>;

const definitions = grpc.loadPackageDefinition(loadInferenceDefinitions()) as any;
const metrics = createMetrics({ processMetrics: false });
let service: FakeInferenceService;
let log: ReturnType<typeof captureLogger>;
let handle: GrpcServerHandle;
let inference: Client;
let health: Client;

beforeAll(async () => {
  service = new FakeInferenceService();
  log = captureLogger();
  handle = createGrpcServer({ service, logger: log.logger, metrics, maxMessageBytes: 64 * 1024 });
  const port = await handle.bind('127.0.0.1', 0);
  const address = `127.0.0.1:${port}`;
  inference = new definitions.inference.GRPCInferenceService(address, grpc.credentials.createInsecure());
  health = new definitions.grpc.health.v1.Health(address, grpc.credentials.createInsecure());
});

afterAll(async () => {
  inference.close();
  health.close();
  await handle.close(1000);
});

beforeEach(() => {
  service.live = true;
  service.ready = true;
  service.requests.length = 0;
  service.contexts.length = 0;
});

function unary<T = any>(client: Client, method: string, request: unknown, options: grpc.CallOptions = {}, metadata = new grpc.Metadata()): Promise<T> {
  return new Promise((resolve, reject) => {
    client[method](request, metadata, options, (err: grpc.ServiceError | null, response: T) => (err ? reject(err) : resolve(response)));
  });
}

async function failure(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await promise;
  } catch (err) {
    return err as grpc.ServiceError;
  }
  throw new Error('expected the call to fail');
}

const floats = (...values: number[]) => Buffer.from(new Float32Array(values).buffer);
const typedRequest = (model: string, id?: string) => ({
  model_name: model,
  id,
  inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: [1, 2, 3, 4] } }],
});

describe('health and metadata RPCs', () => {
  it('answers ServerLive and ServerReady', async () => {
    expect(await unary(inference, 'ServerLive', {})).toEqual({ live: true });
    expect(await unary(inference, 'ServerReady', {})).toEqual({ ready: true });
    service.live = false;
    service.ready = false;
    expect(await unary(inference, 'ServerLive', {})).toEqual({ live: false });
    expect(await unary(inference, 'ServerReady', {})).toEqual({ ready: false });
  });

  it("answers ServerMetadata with the gateway's extensions", async () => {
    expect(await unary(inference, 'ServerMetadata', {})).toEqual({ name: 'sibyl', version: '0.1.0', extensions: [...SERVER_EXTENSIONS] });
  });

  it('answers ModelConfig UNIMPLEMENTED when the service cannot tell a configuration', async () => {
    const err = await failure(unary(inference, 'ModelConfig', { name: 'echo', version: '1' }));
    expect(err.code).toBe(grpc.status.UNIMPLEMENTED);
    expect(err.details).toBe("model 'echo': this server does not serve model configurations");
  });

  it('answers ModelMetadata, NOT_FOUND for an unknown model', async () => {
    const metadata = await unary(inference, 'ModelMetadata', { name: 'echo', version: '1' });
    expect(metadata).toEqual({
      name: 'echo',
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: ['-1', '4'] }],
      outputs: [{ name: 'OUTPUT0', datatype: 'FP32', shape: ['-1', '4'] }],
    });
    const err = await failure(unary(inference, 'ModelMetadata', { name: 'nope' }));
    expect(err.code).toBe(grpc.status.NOT_FOUND);
    expect(err.details).toBe("unknown model 'nope'");
    // The stable code travels in a trailer.
    expect(err.metadata.get('sibyl-error-code')).toEqual(['TEST_MODEL_NOT_FOUND']);
  });

  it('answers ModelReady, and checks names and versions', async () => {
    expect(await unary(inference, 'ModelReady', { name: 'echo' })).toEqual({ ready: true });
    expect(await unary(inference, 'ModelReady', { name: 'loading', version: '1' })).toEqual({ ready: false });
    expect((await failure(unary(inference, 'ModelReady', { name: 'nope' }))).code).toBe(grpc.status.NOT_FOUND);
    let err = await failure(unary(inference, 'ModelReady', { name: '../etc' }));
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details).toContain('^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$');
    err = await failure(unary(inference, 'ModelReady', { name: 'echo', version: 'v1' }));
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details).toContain('[0-9]+');
  });

  it('answers RepositoryIndex, all models or only the ready ones', async () => {
    const all = (await unary(inference, 'RepositoryIndex', {})).models;
    expect(all).toContainEqual({ name: 'loading', version: '1', state: 'UNAVAILABLE', reason: 'loading' });
    const ready = (await unary(inference, 'RepositoryIndex', { ready: true })).models;
    expect(ready).toHaveLength(all.length - 1);
    expect(ready.every((m: { state: string }) => m.state === 'READY')).toBe(true);
  });

  it('answers grpc.health.v1.Health/Check with SERVING while ready', async () => {
    expect(await unary(health, 'Check', {})).toEqual({ status: 'SERVING' });
    expect(await unary(health, 'Check', { service: 'inference.GRPCInferenceService' })).toEqual({ status: 'SERVING' });
    service.ready = false;
    expect(await unary(health, 'Check', {})).toEqual({ status: 'NOT_SERVING' });
    const err = await failure(unary(health, 'Check', { service: 'other.Service' }));
    expect(err.code).toBe(grpc.status.NOT_FOUND);
  });
});

describe('ModelInfer', () => {
  it('answers typed contents in typed contents, echoing the id', async () => {
    const response = await unary(inference, 'ModelInfer', typedRequest('echo', 'req-7'));
    expect(response).toMatchObject({ model_name: 'echo', model_version: '1', id: 'req-7', raw_output_contents: [] });
    expect(response.outputs).toHaveLength(1);
    expect(response.outputs[0]).toMatchObject({ name: 'OUTPUT0', datatype: 'FP32', shape: ['1', '4'] });
    expect(response.outputs[0].contents.fp32_contents).toEqual([1, 2, 3, 4]);
  });

  it('passes request parameters through to the service', async () => {
    await unary(inference, 'ModelInfer', {
      ...typedRequest('echo'),
      parameters: { tag: { string_param: 'blue' }, priority: { int64_param: 3 }, exact: { bool_param: true } },
    });
    expect(service.requests[0]!.parameters).toEqual({ tag: 'blue', priority: 3, exact: true });
  });

  it('answers raw_input_contents with raw_output_contents', async () => {
    const data = floats(0.25, -1, 1e6, 42);
    const response = await unary(inference, 'ModelInfer', {
      model_name: 'echo',
      model_version: '1',
      inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [1, 4] }],
      raw_input_contents: [data],
    });
    expect(response.raw_output_contents).toHaveLength(1);
    expect(Buffer.from(response.raw_output_contents[0]).equals(data)).toBe(true);
    expect(service.requests[0]!.modelVersion).toBe('1');
  });

  it('maps errors to gRPC codes with the message as details', async () => {
    let err = await failure(unary(inference, 'ModelInfer', typedRequest('nope')));
    expect(err.code).toBe(grpc.status.NOT_FOUND);
    err = await failure(unary(inference, 'ModelInfer', typedRequest('overloaded')));
    expect(err.code).toBe(grpc.status.UNAVAILABLE);
    expect(err.details).toBe("model 'overloaded' queue is full");
    expect(err.metadata.get('retry-after')).toEqual(['2']);
    err = await failure(unary(inference, 'ModelInfer', { model_name: 'echo', inputs: [{ name: 'INPUT0', datatype: 'FP99', shape: [1] }] }));
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details).toContain('FP99');
    err = await failure(unary(inference, 'ModelInfer', { ...typedRequest('echo'), model_name: '' }));
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
  });

  it('turns an unexpected error into INTERNAL and logs it with the request id', async () => {
    const before = log.lines().filter((l) => l.level === 'error').length;
    const metadata = new grpc.Metadata();
    metadata.set('x-request-id', 'grpc-broken-1');
    const err = await failure(unary(inference, 'ModelInfer', typedRequest('broken'), {}, metadata));
    expect(err.code).toBe(grpc.status.INTERNAL);
    expect(err.details).toBe('internal error: kernel exploded');
    const errors = log.lines().filter((l) => l.level === 'error');
    expect(errors).toHaveLength(before + 1);
    expect(errors.at(-1)).toMatchObject({ reqId: 'grpc-broken-1', rpc: 'ModelInfer' });
  });

  it("passes the call's deadline, traceparent and x-sibyl-routing-key", async () => {
    const metadata = new grpc.Metadata();
    metadata.set('traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
    metadata.set('x-sibyl-routing-key', 'user-17');
    const deadline = Date.now() + 60_000;
    await unary(inference, 'ModelInfer', typedRequest('echo'), { deadline }, metadata);
    const context = service.contexts[0]!;
    // grpc-js sends the deadline as a relative timeout, so the server's absolute one is later by the transit time.
    expect(context.deadlineMs! - deadline).toBeGreaterThanOrEqual(-5);
    expect(context.deadlineMs! - deadline).toBeLessThan(1000);
    expect(context.traceparent).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
    expect(context.routingKey).toBe('user-17');
  });

  it('fails with DEADLINE_EXCEEDED when the deadline passes, and aborts the signal', async () => {
    const err = await failure(unary(inference, 'ModelInfer', typedRequest('sleepy'), { deadline: Date.now() + 100 }));
    expect(err.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    await vi.waitFor(() => expect(service.contexts).toHaveLength(1));
    await vi.waitFor(() => expect(service.contexts[0]!.signal?.aborted).toBe(true));
  });

  it('leaves the deadline unset when the client sets none', async () => {
    await unary(inference, 'ModelInfer', typedRequest('echo'));
    expect(service.contexts[0]!.deadlineMs).toBeUndefined();
  });

  it('refuses a message over maxMessageBytes with RESOURCE_EXHAUSTED', async () => {
    const big = Buffer.alloc(128 * 1024);
    const err = await failure(
      unary(inference, 'ModelInfer', {
        model_name: 'echo',
        inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [big.length / 16, 4] }],
        raw_input_contents: [big],
      }),
    );
    expect(err.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
  });

  it('observes calls as protocol "grpc"', async () => {
    await unary(inference, 'ServerLive', {});
    expect(await metrics.registry.metrics()).toMatch(/sibyl_transport_request_duration_seconds_count\{protocol="grpc"\} [1-9]/);
  });
});

describe('ModelStreamInfer', () => {
  it('answers every request in order and reports a failed one in error_message without ending the stream', async () => {
    const stream = inference.ModelStreamInfer();
    const answers: any[] = [];
    const done = new Promise<void>((resolve, reject) => {
      stream.on('data', (a: any) => answers.push(a));
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    stream.write(typedRequest('echo', 'first'));
    stream.write(typedRequest('nope', 'second'));
    stream.write({ ...typedRequest('echo', 'third'), inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [1, 4] }], raw_input_contents: [floats(5, 6, 7, 8)] });
    stream.write(typedRequest('broken', 'fourth'));
    stream.write(typedRequest('echo', 'fifth'));
    stream.end();
    await done;

    expect(answers).toHaveLength(5);
    // proto3: an empty error_message is the field's default, absent from the decoded message.
    expect(answers[0].error_message ?? '').toBe('');
    expect(answers[0].infer_response).toMatchObject({ id: 'first', model_name: 'echo' });
    expect(answers[0].infer_response.outputs[0].contents.fp32_contents).toEqual([1, 2, 3, 4]);
    expect(answers[1].error_message).toBe("unknown model 'nope'");
    expect(answers[1].infer_response ?? null).toBeNull();
    expect(answers[2].infer_response.id).toBe('third');
    expect(Buffer.from(answers[2].infer_response.raw_output_contents[0]).equals(floats(5, 6, 7, 8))).toBe(true);
    expect(answers[3].error_message).toBe('internal error: kernel exploded');
    expect(answers[4].infer_response.id).toBe('fifth');
  });

  it('keeps answers in request order when later requests finish first', async () => {
    const slowFirst = new FakeInferenceService();
    const delays = [60, 0, 30];
    slowFirst.models.get('echo')!.run = async (request) => {
      await new Promise((r) => setTimeout(r, delays[Number(request.id)]));
      return [{ name: 'OUTPUT0', datatype: 'FP32', shape: [1, 4], data: new Float32Array([Number(request.id), 0, 0, 0]) }];
    };
    const other = createGrpcServer({ service: slowFirst, logger: log.logger });
    const port = await other.bind('127.0.0.1', 0);
    const client: Client = new definitions.inference.GRPCInferenceService(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      const stream = client.ModelStreamInfer();
      const ids: string[] = [];
      const done = new Promise<void>((resolve, reject) => {
        stream.on('data', (a: any) => ids.push(a.infer_response.id));
        stream.on('end', resolve);
        stream.on('error', reject);
      });
      for (const id of ['0', '1', '2']) stream.write(typedRequest('echo', id));
      stream.end();
      await done;
      expect(ids).toEqual(['0', '1', '2']);
    } finally {
      client.close();
      await other.close(1000);
    }
  });
});

describe('ModelStreamInfer flow control and cancellation', () => {
  it(`holds at most ${MAX_IN_FLIGHT} requests of a stream in flight, and still answers all in order`, async () => {
    const gated = new FakeInferenceService();
    let inFlight = 0;
    let peak = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    gated.models.get('echo')!.run = async (request) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await gate;
      inFlight--;
      return [{ name: 'OUTPUT0', datatype: 'FP32', shape: [1, 4], data: new Float32Array(4) }];
    };
    const other = createGrpcServer({ service: gated, logger: log.logger });
    const port = await other.bind('127.0.0.1', 0);
    const client: Client = new definitions.inference.GRPCInferenceService(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      const stream = client.ModelStreamInfer();
      const ids: string[] = [];
      const done = new Promise<void>((resolve, reject) => {
        stream.on('data', (a: any) => ids.push(a.infer_response.id));
        stream.on('end', resolve);
        stream.on('error', reject);
      });
      const total = MAX_IN_FLIGHT + 36;
      for (let i = 0; i < total; i++) stream.write(typedRequest('echo', String(i)));
      stream.end();
      await vi.waitFor(() => expect(inFlight).toBe(MAX_IN_FLIGHT));
      // Give the server time to (wrongly) take more.
      await new Promise((r) => setTimeout(r, 50));
      expect(inFlight).toBe(MAX_IN_FLIGHT);
      release();
      await done;
      expect(peak).toBe(MAX_IN_FLIGHT);
      expect(ids).toEqual(Array.from({ length: total }, (_, i) => String(i)));
    } finally {
      client.close();
      await other.close(1000);
    }
  });

  it('aborts the signal of in-flight requests when the client cancels the stream', async () => {
    const stream = inference.ModelStreamInfer();
    stream.on('error', () => {});
    stream.write(typedRequest('sleepy'));
    await vi.waitFor(() => expect(service.requests).toHaveLength(1));
    const ended = service.sleepyEnded;
    stream.cancel();
    expect(await ended).toEqual({ aborted: true });
  });
});

describe('close', () => {
  it('binds an IPv6 literal and closes, refusing calls afterwards', async () => {
    const other = createGrpcServer({ service, logger: log.logger });
    // Machines without IPv6 loopback fall back to IPv4.
    const target = await other.bind('::1', 0).then(
      (port) => `[::1]:${port}`,
      async () => `127.0.0.1:${await other.bind('127.0.0.1', 0)}`,
    );
    const client: Client = new definitions.inference.GRPCInferenceService(target, grpc.credentials.createInsecure());
    try {
      expect(await unary(client, 'ServerLive', {})).toEqual({ live: true });
      await other.close(500);
      const err = await failure(unary(client, 'ServerLive', {}, { deadline: Date.now() + 1000 }));
      expect([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED]).toContain(err.code);
    } finally {
      client.close();
    }
  });
});
