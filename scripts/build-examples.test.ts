/**
 * The committed example repository is exactly what the build writes, and every model in it runs in
 * onnxruntime-node with the results its README promises. The request bodies in examples/requests
 * fit their models.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityModel } from '@sibyl/testkit';
import { CARRIED_DATATYPES, datatypeInput } from './build-examples/datatypes.js';
import { isHeldOut, parseIrisCsv } from './build-examples/iris.js';
import { parseVocabulary, UNKNOWN_TOKEN_ID } from './build-examples/text.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MODELS = join(ROOT, 'examples/models');
const DATA = join(ROOT, 'examples/data');
const REQUESTS = join(ROOT, 'examples/requests');

type Datatype = (typeof CARRIED_DATATYPES)[number];

/** onnxruntime-node's tensor type for each v2 datatype the examples use. */
const ORT_TYPE: Record<Datatype, ort.Tensor.Type> = {
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  FP32: 'float32',
  FP64: 'float64',
  BYTES: 'string',
};

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1).split('\\').join('/'))
    .sort();
}

const session = (path: string) => ort.InferenceSession.create(join(MODELS, path));

/** The value of an IEEE half-precision bit pattern. */
function halfValue(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** The half-precision bit pattern of `x`, which must be exactly representable (test data only). */
function halfBits(x: number): number {
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  let bits: number;
  if (a === 0) bits = 0;
  else if (a === Infinity) bits = 0x7c00;
  else if (a < 2 ** -14) bits = a / 2 ** -24;
  else {
    let e = -14;
    while (2 ** (e + 1) <= a) e++;
    bits = ((e + 15) << 10) | ((a / 2 ** e - 1) * 1024);
  }
  if (!Number.isInteger(bits) || halfValue(sign | bits) !== x) throw new Error(`${x} is not exactly an FP16 value`);
  return sign | bits;
}

/** A v2 JSON request input as an onnxruntime tensor. */
function ortTensor(input: { datatype: Datatype; shape: number[]; data: unknown[] }): ort.Tensor {
  const { datatype, shape, data } = input;
  const nums = data as number[];
  const values = {
    BOOL: () => Uint8Array.from(data as boolean[], (b) => (b ? 1 : 0)),
    UINT8: () => Uint8Array.from(nums),
    UINT16: () => Uint16Array.from(nums),
    UINT32: () => Uint32Array.from(nums),
    UINT64: () => BigUint64Array.from(nums, BigInt),
    INT8: () => Int8Array.from(nums),
    INT16: () => Int16Array.from(nums),
    INT32: () => Int32Array.from(nums),
    INT64: () => BigInt64Array.from(nums, BigInt),
    FP16: () => Uint16Array.from(nums, halfBits),
    FP32: () => Float32Array.from(nums),
    FP64: () => Float64Array.from(nums),
    BYTES: () => data as string[],
  }[datatype]();
  return new ort.Tensor(ORT_TYPE[datatype], values as never, shape);
}

/** Elements as comparable values: bigints as strings, float NaNs kept by their bits. */
const elements = (t: ort.Tensor) => Array.from(t.data as ArrayLike<unknown>, (v) => (typeof v === 'bigint' ? v.toString() : v));

describe('npm run examples:build', () => {
  let outDir = '';
  let stdout = '';
  beforeAll(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'sibyl-examples-'));
    // The real command line, as `npm run examples:build` runs it, into a temporary directory.
    ({ stdout } = await promisify(execFile)(join(ROOT, 'node_modules/.bin/tsx'), ['scripts/build-examples.ts', outDir], { cwd: ROOT }));
  }, 60_000);
  afterAll(async () => {
    await rm(outDir, { recursive: true, force: true });
  });

  it('writes exactly the committed files, byte for byte', async () => {
    const built = await filesUnder(outDir);
    // iris_tf is built by build-tf-examples.ts, and checked by its own test.
    expect(built).toEqual((await filesUnder(MODELS)).filter((f) => !f.startsWith('iris_tf/')));
    expect(built).toContain('iris/1/model.onnx');
    for (const file of built) {
      const [a, b] = await Promise.all([readFile(join(outDir, file)), readFile(join(MODELS, file))]);
      expect(a.equals(b), `${file} differs from the committed examples/models/${file}: run npm run examples:build`).toBe(true);
    }
  });

  it('prints accuracy and the files written', () => {
    expect(stdout).toMatch(/^iris\/1: .*training accuracy 9\d\.\d% \(120 rows\), held-out (9\d|100)\.\d% \(30 rows\)$/m);
    expect(stdout).toMatch(/^iris\/2: /m);
    expect(stdout).toMatch(/^ {2}iris\/1\/model\.onnx +\d+ bytes$/m);
  });

  it('keeps every model file small', async () => {
    for (const file of await filesUnder(MODELS)) {
      expect((await readFile(join(MODELS, file))).length, file).toBeLessThan(16 * 1024);
    }
  });
});

describe('iris', async () => {
  const iris = parseIrisCsv(await readFile(join(DATA, 'iris.csv'), 'utf8'));
  const all = new ort.Tensor('float32', Float32Array.from(iris.rows.flat()), [iris.rows.length, 4]);

  it('has the canonical 150 rows and its classes in labels.txt', async () => {
    expect(iris.rows.length).toBe(150);
    expect(iris.species).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(await readFile(join(MODELS, 'iris/labels.txt'), 'utf8')).toBe('setosa\nversicolor\nvirginica\n');
  });

  it.each(['1', '2'])('version %s predicts the species, held-out accuracy at least 0.95', async (version) => {
    const s = await session(`iris/${version}/model.onnx`);
    const out = await s.run({ input: all });
    const probabilities = out.probabilities!.data as Float32Array;
    const label = Array.from(out.label!.data as BigInt64Array, Number);
    expect(out.probabilities!.dims).toEqual([150, 3]);
    expect(out.label!.dims).toEqual([150]);
    label.forEach((l, i) => {
      const p = Array.from(probabilities.subarray(3 * i, 3 * i + 3));
      expect(p.reduce((a, b) => a + b)).toBeCloseTo(1, 5);
      expect(l).toBe(p.indexOf(Math.max(...p)));
    });
    // The first row of each species, and a held-out one of each.
    for (const row of [0, 50, 100, 4, 54, 104]) expect(label[row], `row ${row}`).toBe(iris.labels[row]);
    const heldOut = label.map((l, i) => [l, i] as const).filter(([, i]) => isHeldOut(i));
    const right = heldOut.filter(([l, i]) => l === iris.labels[i]).length;
    expect(right / heldOut.length).toBeGreaterThanOrEqual(0.95);
  });

  it('keeps a dynamic batch dimension', async () => {
    const s = await session('iris/2/model.onnx');
    const one = await s.run({ input: new ort.Tensor('float32', Float32Array.from(iris.rows[100]!), [1, 4]) });
    expect(Array.from(one.label!.data as BigInt64Array)).toEqual([2n]);
  });

  it('has a config.json that batches, serves every version, and leaves its tensors to the model file', async () => {
    const config = JSON.parse(await readFile(join(MODELS, 'iris/config.json'), 'utf8'));
    expect(config.name).toBe('iris');
    expect(config.max_batch_size).toBeGreaterThan(0);
    expect(config.version_policy).toEqual({ all: {} });
    expect(config.input).toBeUndefined();
    expect(config.output).toBeUndefined();
    // Auto-complete can only treat the model as batching if every tensor has a variable first dim.
    const s = await session('iris/1/model.onnx');
    for (const m of [...s.inputMetadata, ...s.outputMetadata]) {
      expect(m.isTensor && typeof m.shape[0] === 'string', m.name).toBe(true);
    }
  });
});

describe('datatypes', () => {
  /** Per datatype, a [3, 2] batch of extreme values in its onnxruntime storage. */
  const EXTREMES: Record<Datatype, ort.Tensor.DataType> = {
    BOOL: Uint8Array.of(1, 0, 0, 1, 1, 1),
    UINT8: Uint8Array.of(0, 1, 127, 128, 254, 255),
    UINT16: Uint16Array.of(0, 1, 32767, 32768, 65534, 65535),
    UINT32: Uint32Array.of(0, 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 2, 2 ** 32 - 1),
    UINT64: BigUint64Array.of(0n, 1n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 2n, 2n ** 64n - 1n),
    INT8: Int8Array.of(-128, -127, -1, 0, 1, 127),
    INT16: Int16Array.of(-32768, -32767, -1, 0, 1, 32767),
    INT32: Int32Array.of(-(2 ** 31), -(2 ** 31) + 1, -1, 0, 1, 2 ** 31 - 1),
    INT64: BigInt64Array.of(-(2n ** 63n), -(2n ** 53n) - 1n, -1n, 0n, 2n ** 53n + 1n, 2n ** 63n - 1n),
    // 1, -2, the largest finite, the smallest subnormal, -Infinity, a NaN with a payload.
    FP16: Uint16Array.of(0x3c00, 0xc000, 0x7bff, 0x0001, 0xfc00, 0x7e01),
    FP32: Float32Array.of(-0, 3.4028234663852886e38, 1.401298464324817e-45, -Infinity, NaN, 0.1),
    FP64: Float64Array.of(-0, Number.MAX_VALUE, Number.MIN_VALUE, Infinity, NaN, 0.1),
    BYTES: ['', 'a', 'héllo wörld', '😀', 'x'.repeat(1000), 'tab\there'] as never,
  };
  const feeds = () =>
    Object.fromEntries(CARRIED_DATATYPES.map((d) => [datatypeInput(d), new ort.Tensor(ORT_TYPE[d], EXTREMES[d] as never, [3, 2])]));

  it('takes one input per carried datatype and echoes each exactly', async () => {
    const s = await session('datatypes/1/model.onnx');
    expect(s.inputNames).toEqual(CARRIED_DATATYPES.map(datatypeInput));
    const out = await s.run(feeds());
    for (const d of CARRIED_DATATYPES) {
      const echo = out[`${datatypeInput(d)}_out`]!;
      expect(echo.type, d).toBe(ORT_TYPE[d]);
      expect(echo.dims, d).toEqual([3, 2]);
      if (d === 'BYTES') expect(echo.data, d).toEqual(EXTREMES[d]);
      else {
        // Bytes, not values, so that -0 and NaN payloads count too.
        const sent = EXTREMES[d] as Exclude<ort.Tensor.DataType, string[]>;
        const got = echo.data as typeof sent;
        expect(Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(Buffer.from(sent.buffer, sent.byteOffset, sent.byteLength)), d).toBe(true);
      }
    }
  });

  it('computes the mixed-type outputs', async () => {
    const s = await session('datatypes/1/model.onnx');
    const out = await s.run(feeds());
    const int32 = EXTREMES.INT32 as Int32Array;
    const int64 = EXTREMES.INT64 as BigInt64Array;
    const fp64 = EXTREMES.FP64 as Float64Array;
    expect(Array.from(out.sum_fp64!.data as Float64Array)).toEqual(Array.from(fp64, (v, i) => int32[i]! + Number(int64[i]!) + v));
    expect(Array.from(out.fp16_as_fp32!.data as Float32Array)).toEqual([1, -2, 65504, 2 ** -24, -Infinity, NaN]);
    expect(Array.from(out.not_bool!.data as Uint8Array)).toEqual([0, 1, 1, 0, 0, 0]);
  });

  it('keeps a dynamic batch dimension', async () => {
    const s = await session('datatypes/1/model.onnx');
    const one = Object.fromEntries(
      CARRIED_DATATYPES.map((d) => [datatypeInput(d), new ort.Tensor(ORT_TYPE[d], (EXTREMES[d] as Uint8Array).slice(0, 2) as never, [1, 2])]),
    );
    const out = await s.run(one);
    expect(out.fp64_out!.dims).toEqual([1, 2]);
    expect(out.sum_fp64!.dims).toEqual([1, 2]);
  });

  // What the model README says onnxruntime-node does not carry: these fail once a release does.
  it('leaves out BF16, which onnxruntime-node still refuses', async () => {
    const bf16 = identityModel('bf16', [{ name: 'x', datatype: 'BF16', shape: ['n'] }]);
    await expect(ort.InferenceSession.create(bf16)).rejects.toThrow(/Unsupported data type/);
  });

  it('documents that BYTES elements stop at a NUL character', async () => {
    const s = await ort.InferenceSession.create(identityModel('s', [{ name: 'x', datatype: 'BYTES', shape: ['n'] }]));
    const out = await s.run({ x: new ort.Tensor('string', ['x\u0000y', 'z'], [2]) });
    expect(out.x_out!.data).toEqual(['x', 'z']);
  });
});

describe('text', async () => {
  const vocabulary = parseVocabulary(await readFile(join(DATA, 'vocab.txt'), 'utf8'));

  it('lower-cases each string and maps it to its vocabulary id', async () => {
    const s = await session('text/1/model.onnx');
    const text = ['Hello', 'WORLD', 'sibyl', 'ÉCOLE', 'Straße', 'not-a-token', vocabulary.at(-1)!.toUpperCase()];
    const out = await s.run({ text: new ort.Tensor('string', text, [text.length]) });
    const lower = ['hello', 'world', 'sibyl', 'école', 'straße', 'not-a-token', vocabulary.at(-1)!];
    expect(out.lower!.data).toEqual(lower);
    expect(Array.from(out.token_id!.data as BigInt64Array, Number)).toEqual(
      lower.map((t) => (vocabulary.includes(t) ? vocabulary.indexOf(t) : UNKNOWN_TOKEN_ID)),
    );
    expect(vocabulary.indexOf('hello')).toBe(0);
  });

  it('refuses an empty input, as its README says', async () => {
    // Fatal-only logging: the refusal is expected here, not worth an error line in the test output.
    const s = await ort.InferenceSession.create(join(MODELS, 'text/1/model.onnx'), { logSeverityLevel: 4 });
    await expect(s.run({ text: new ort.Tensor('string', [], [0]) })).rejects.toThrow(/greater than 0/);
  });
});

describe('identity', () => {
  it('echoes a 16 MiB FP32 tensor', async () => {
    const s = await session('identity/1/model.onnx');
    const input = Float32Array.from({ length: 4 * 1024 * 1024 }, (_, i) => i * 0.5 - 1);
    const out = await s.run({ input: new ort.Tensor('float32', input, [input.length]) });
    expect(Buffer.from((out.output!.data as Float32Array).buffer).equals(Buffer.from(input.buffer))).toBe(true);
  });
});

describe('examples/requests', async () => {
  const files = (await readdir(REQUESTS)).filter((f) => f.endsWith('.json')).sort();
  type Request = { inputs: Array<{ name: string; datatype: Datatype; shape: number[]; data: unknown[] }>; outputs?: Array<{ name: string }> };
  const load = async (file: string): Promise<Request> => JSON.parse(await readFile(join(REQUESTS, file), 'utf8'));
  const run = async (model: string, request: Request) => {
    const s = await session(`${model}/1/model.onnx`);
    expect(request.inputs.map((i) => i.name).sort()).toEqual([...s.inputNames].sort());
    for (const o of request.outputs ?? []) expect(s.outputNames).toContain(o.name);
    const feeds = Object.fromEntries(request.inputs.map((i) => [i.name, ortTensor(i)]));
    for (const meta of s.inputMetadata) {
      if (meta.isTensor) expect(feeds[meta.name]!.type, meta.name).toBe(meta.type);
    }
    return s.run(feeds);
  };

  it('has one request per example model', () => {
    // iris_tf.json is sent to the TF.js model by packages/runtime-tf/src/tf-engine.test.ts.
    expect(files).toEqual(['datatypes.json', 'identity.json', 'iris.json', 'iris_tf.json', 'text.json']);
  });

  it('iris.json: two rows of the data set, predicted right', async () => {
    const request = await load('iris.json');
    const iris = parseIrisCsv(await readFile(join(DATA, 'iris.csv'), 'utf8'));
    const data = request.inputs[0]!.data as number[];
    expect(request.inputs[0]!.shape).toEqual([2, 4]);
    const rows = [data.slice(0, 4), data.slice(4)].map((r) => iris.rows.findIndex((x) => x.every((v, j) => v === r[j])));
    expect(rows.every((r) => r >= 0)).toBe(true);
    const out = await run('iris', request);
    expect(Array.from(out.label!.data as BigInt64Array, Number)).toEqual(rows.map((r) => iris.labels[r]));
  });

  it('datatypes.json: every datatype comes back as sent', async () => {
    const request = await load('datatypes.json');
    const out = await run('datatypes', request);
    for (const input of request.inputs) {
      expect(elements(out[`${input.name}_out`]!), input.name).toEqual(elements(ortTensor(input)));
    }
  });

  it('text.json: lower-cased with token ids', async () => {
    const out = await run('text', await load('text.json'));
    expect(out.lower!.data).toEqual(['hello', 'world', 'sibyl', 'école', 'unknown']);
    expect(Array.from(out.token_id!.data as BigInt64Array, Number)).toEqual([0, 1, 2, 16, -1]);
  });

  it('identity.json: echoed', async () => {
    const request = await load('identity.json');
    const out = await run('identity', request);
    expect(Array.from(out.output!.data as Float32Array)).toEqual(request.inputs[0]!.data);
  });
});
