/**
 * One driver per workload: `send` makes one request and resolves once the whole response is in
 * (throwing on any failure status); `check` verifies a response's content. The load loop times
 * `send` only, so checking never counts as latency.
 */
import { Pool } from 'undici';
import { blobToNumbers, decodeResponse, encodeBinaryRequest, HEADER_LENGTH } from './binary-extension.js';
import { checkIris, checkSameBytes, checkTensor, type NumericOutput } from './checks.js';
import { createInferenceClient, modelInfer, type GrpcInferResponse } from './grpc-client.js';
import type { LoadSpec, TensorCase } from './load-spec.js';
import { loadRawTf, tfRuntimeService } from './tf-loader.js';
import { churnModelName, zipfCdf, zipfPick } from './sections.js';
import { IRIS_SAMPLE, LARGE_ELEMENTS, largePayload } from './payloads.js';

export interface Driver {
  send(): Promise<unknown>;
  check(response: unknown): void;
  /** The output values of a response (tensor and tf workloads), reported as LoadResult.sample. */
  sample?(response: unknown): number[];
  close(): Promise<void>;
}

interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/**
 * Large responses are read into one receive buffer kept across requests, as a client that cares
 * about 16 MiB tensors would, so the figure is not the client's allocation and page faults. The
 * returned body is then a view that the next request overwrites (it is checked before that).
 */
async function readBody(body: AsyncIterable<Buffer> & { arrayBuffer(): Promise<ArrayBuffer> }, contentLength: number, receive: { buffer: Buffer } | null): Promise<Buffer> {
  if (receive === null || !Number.isInteger(contentLength)) return Buffer.from(await body.arrayBuffer());
  if (receive.buffer.byteLength < contentLength) receive.buffer = Buffer.allocUnsafe(contentLength);
  let n = 0;
  for await (const chunk of body) {
    if (n + chunk.byteLength > receive.buffer.byteLength) throw new Error(`response body longer than its content-length ${contentLength}`);
    chunk.copy(receive.buffer, n);
    n += chunk.byteLength;
  }
  return receive.buffer.subarray(0, n);
}

function httpDriver(spec: LoadSpec, connections: number, body: Buffer | string, headers: Record<string, string>, check: (r: HttpResponse) => void): Driver {
  const pool = new Pool(spec.address, { connections, pipelining: 1, keepAliveTimeout: 60_000, keepAliveMaxTimeout: 600_000 });
  const path = spec.workload === 'large-echo' ? '/echo' : `/v2/models/${spec.model}/infer`;
  const receive = spec.workload.startsWith('large-') ? { buffer: Buffer.alloc(0) } : null;
  return {
    async send() {
      const res = await pool.request({ path, method: 'POST', headers, body });
      const buf = await readBody(res.body, Number(res.headers['content-length']), receive);
      if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${buf.subarray(0, 300).toString()}`);
      return { status: res.statusCode, headers: res.headers, body: buf } satisfies HttpResponse;
    },
    check: (r) => check(r as HttpResponse),
    close: () => pool.close(),
  };
}

function decodedNumbers(r: HttpResponse): NumericOutput[] {
  return decodeResponse(r.body, r.headers[HEADER_LENGTH]).map((o) => ({
    name: o.name,
    datatype: o.datatype,
    shape: o.shape,
    values: o.bytes !== undefined ? blobToNumbers(o.datatype, o.bytes) : (o.data ?? []).flat(Infinity).map(Number),
  }));
}

function grpcDriver(spec: LoadSpec, request: object, check: (r: GrpcInferResponse) => void): Driver {
  const client = createInferenceClient(spec.address);
  return {
    send: () => modelInfer(client, request),
    check: (r) => check(r as GrpcInferResponse),
    close: async () => client.close(),
  };
}

function grpcOutputs(r: GrpcInferResponse): Array<{ name: string; datatype: string; shape: number[]; raw?: Buffer }> {
  return r.outputs.map((o, i) => ({ name: o.name, datatype: o.datatype, shape: o.shape.map(Number), raw: r.raw_output_contents[i] }));
}

async function sessionDriver(spec: LoadSpec, feedData: Float32Array, shape: number[], check: (outputs: Record<string, OrtOutput>) => void): Promise<Driver> {
  const { default: ort } = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(spec.address);
  // The same tensor every call: this measures session.run alone, the floor a server adds to.
  const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', feedData, shape) };
  return {
    send: () => session.run(feeds),
    check: (response) => check(response as Record<string, OrtOutput>),
    close: () => session.release(),
  };
}

interface OrtOutput {
  type: string;
  dims: readonly number[];
  data: unknown;
}

const ORT_DATATYPE: Record<string, string> = { float32: 'FP32', int64: 'INT64', int32: 'INT32', float64: 'FP64' };

/** The output of a tensor case among `outputs`, checked; returns its values. */
function tensorValues(c: TensorCase, outputs: readonly NumericOutput[]): number[] {
  const o = outputs.find((x) => x.name === c.output);
  if (o === undefined) throw new Error(`expected output ${c.output}, got ${outputs.map((x) => x.name).join(', ') || 'none'}`);
  checkTensor(o, c);
  return o.values;
}

async function tensorDriver(spec: LoadSpec, connections: number): Promise<Driver> {
  const c = spec.tensor!;
  const values = (r: unknown) => tensorValues(c, decodedNumbers(r as HttpResponse));
  if (spec.workload === 'tensor-json') {
    const body = JSON.stringify({ inputs: [{ name: c.input, shape: c.shape, datatype: 'FP32', data: c.data }] });
    const d = httpDriver(spec, connections, body, { 'content-type': 'application/json' }, (r) => void values(r));
    return { ...d, sample: values };
  }
  const { body, headers } = encodeBinaryRequest([{ name: c.input, datatype: 'FP32', shape: c.shape, bytes: new Uint8Array(Float32Array.from(c.data).buffer) }]);
  const d = httpDriver(spec, connections, body, headers, (r) => {
    if (r.headers[HEADER_LENGTH] === undefined) throw new Error(`binary_data_output was set but the response has no ${HEADER_LENGTH} header`);
    values(r);
  });
  return { ...d, sample: values };
}

async function tfPredictDriver(spec: LoadSpec): Promise<Driver> {
  const c = spec.tensor!;
  const { tf, model } = await loadRawTf(spec.address);
  // As packages/runtime-tf/scripts/measure.ts: a tensor per call, predict, read the data back, dispose.
  const send = async () => {
    const x = tf.tensor2d(c.data, c.shape as [number, number]);
    const y = model.predict(x);
    const data = await y.data();
    const shape = [...y.shape];
    tf.dispose([x, y]);
    return { name: c.output, datatype: 'FP32', shape, values: Array.from(data, Number) } satisfies NumericOutput;
  };
  const values = (r: unknown) => tensorValues(c, [r as NumericOutput]);
  return { send, check: (r) => void values(r), sample: values, close: async () => model.dispose() };
}

async function tfRuntimeDriver(spec: LoadSpec): Promise<Driver> {
  const c = spec.tensor!;
  const service = await tfRuntimeService(spec.address, spec.model);
  // A fresh array per call, as measure.ts: the runtime hands the input's buffer to the model thread.
  const send = () => service.infer({ modelName: spec.model, inputs: [{ name: c.input, datatype: 'FP32', shape: c.shape, data: Float32Array.from(c.data) }] });
  const values = (r: unknown) =>
    tensorValues(
      c,
      (r as { outputs: Array<{ name: string; datatype: string; shape: number[]; data: ArrayLike<number> }> }).outputs.map((o) => ({
        name: o.name,
        datatype: o.datatype,
        shape: [...o.shape],
        values: Array.from(o.data, Number),
      })),
    );
  return { send, check: (r) => void values(r), sample: values, close: () => service.close() };
}

/** REST JSON to a Zipf-picked model per request (deterministic xorshift from the seed); checks the output's shape. */
function churnDriver(spec: LoadSpec, connections: number): Driver {
  const { models, zipfS, seed } = spec.churn!;
  const cdf = zipfCdf(models, zipfS);
  const pool = new Pool(spec.address, { connections, pipelining: 1, keepAliveTimeout: 60_000, keepAliveMaxTimeout: 600_000 });
  const body = JSON.stringify({ inputs: [{ name: 'x', shape: [1, 8], datatype: 'FP32', data: [1, 2, 3, 4, 5, 6, 7, 8] }] });
  let x = seed >>> 0 || 1;
  return {
    async send() {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      const model = churnModelName(zipfPick(cdf, (x >>> 0) / 2 ** 32));
      const res = await pool.request({ path: `/v2/models/${model}/infer`, method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const buf = Buffer.from(await res.body.arrayBuffer());
      if (res.statusCode !== 200) throw new Error(`${model}: HTTP ${res.statusCode}: ${buf.subarray(0, 300).toString()}`);
      return { status: res.statusCode, headers: res.headers, body: buf } satisfies HttpResponse;
    },
    check: (r) => tensorValues({ input: 'x', shape: [1, 8], data: [], output: 'y', outputShape: [1, 4], tolerance: 0 }, decodedNumbers(r as HttpResponse)),
    close: () => pool.close(),
  };
}

export async function createDriver(spec: LoadSpec): Promise<Driver> {
  const connections = spec.plan.kind === 'duration' ? spec.plan.concurrency : 1;
  const irisBytes = new Uint8Array(Float32Array.from(IRIS_SAMPLE).buffer);
  switch (spec.workload) {
    case 'tensor-json':
    case 'tensor-binary':
      return tensorDriver(spec, connections);
    case 'tf-predict':
      return tfPredictDriver(spec);
    case 'tf-runtime':
      return tfRuntimeDriver(spec);
    case 'churn-json':
      return churnDriver(spec, connections);
    case 'iris-session':
      return sessionDriver(spec, Float32Array.from(IRIS_SAMPLE), [1, 4], (out) => {
        const outputs = Object.entries(out).map(([name, t]) => ({
          name,
          datatype: ORT_DATATYPE[t.type] ?? t.type,
          shape: [...t.dims],
          values: Array.from(t.data as ArrayLike<number | bigint>, Number),
        }));
        checkIris(outputs, spec.irisExpected!);
      });
    case 'iris-json': {
      const body = JSON.stringify({ inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: IRIS_SAMPLE }] });
      return httpDriver(spec, connections, body, { 'content-type': 'application/json' }, (r) => checkIris(decodedNumbers(r), spec.irisExpected!));
    }
    case 'iris-binary': {
      const { body, headers } = encodeBinaryRequest([{ name: 'input', datatype: 'FP32', shape: [1, 4], bytes: irisBytes }]);
      return httpDriver(spec, connections, body, headers, (r) => {
        if (r.headers[HEADER_LENGTH] === undefined) throw new Error(`binary_data_output was set but the response has no ${HEADER_LENGTH} header`);
        checkIris(decodedNumbers(r), spec.irisExpected!);
      });
    }
    case 'iris-grpc': {
      const request = { model_name: spec.model, inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4] }], raw_input_contents: [Buffer.from(irisBytes)] };
      return grpcDriver(spec, request, (r) => {
        const outputs = grpcOutputs(r).map((o) => {
          if (o.raw === undefined) throw new Error(`output ${o.name}: no raw_output_contents entry`);
          return { ...o, values: blobToNumbers(o.datatype, o.raw) };
        });
        checkIris(outputs, spec.irisExpected!);
      });
    }
    case 'large-session':
    case 'large-echo':
    case 'large-binary':
    case 'large-grpc': {
      const { input, output } = spec.identity!;
      const sent = new Uint8Array(largePayload().buffer);
      const expectShape = (o: { datatype: string; shape: number[] }) => {
        if (o.datatype !== 'FP32' || o.shape.length !== 1 || o.shape[0] !== LARGE_ELEMENTS) {
          throw new Error(`${output}: expected FP32 [${LARGE_ELEMENTS}], got ${o.datatype} [${o.shape.join(',')}]`);
        }
      };
      if (spec.workload === 'large-session') {
        return sessionDriver(spec, new Float32Array(sent.buffer), [LARGE_ELEMENTS], (out) => {
          const t = out[output];
          if (t === undefined) throw new Error(`no output ${output} from session.run`);
          expectShape({ datatype: ORT_DATATYPE[t.type] ?? t.type, shape: [...t.dims] });
          const data = t.data as Float32Array;
          checkSameBytes(output, sent, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
        });
      }
      if (spec.workload === 'large-echo') {
        const { body, headers } = encodeBinaryRequest([{ name: input, datatype: 'FP32', shape: [LARGE_ELEMENTS], bytes: sent }]);
        return httpDriver(spec, 1, body, headers, (r) => checkSameBytes('echo', body, r.body));
      }
      if (spec.workload === 'large-binary') {
        const { body, headers } = encodeBinaryRequest([{ name: input, datatype: 'FP32', shape: [LARGE_ELEMENTS], bytes: sent }]);
        return httpDriver(spec, 1, body, headers, (r) => {
          const o = decodeResponse(r.body, r.headers[HEADER_LENGTH]).find((x) => x.name === output);
          if (o === undefined) throw new Error(`no output ${output} in the response`);
          expectShape(o);
          checkSameBytes(output, sent, o.bytes);
        });
      }
      const request = { model_name: spec.model, inputs: [{ name: input, datatype: 'FP32', shape: [LARGE_ELEMENTS] }], raw_input_contents: [Buffer.from(sent.buffer)] };
      return grpcDriver(spec, request, (r) => {
        const o = grpcOutputs(r).find((x) => x.name === output);
        if (o === undefined) throw new Error(`no output ${output} in the response`);
        expectShape(o);
        checkSameBytes(output, sent, o.raw);
      });
    }
  }
}
