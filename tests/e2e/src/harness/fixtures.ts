/**
 * The models and test vectors the suite uses, built with @sibyl/testkit into a temporary Triton-layout
 * repository per test file, so each test controls exactly what it checks.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildOnnxModel, identityModel, writeModelRepository, type RepositoryModel } from '@sibyl/testkit';
import { numberToHalf, type Dtype, type Element } from './binary.js';

export const DTYPES: readonly Dtype[] = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
];

/**
 * Four values per datatype (sent as shape [2, 2]), at the edges of each range: 64-bit integers past
 * 2^53, FP32/FP64 extremes and subnormals, FP16 values a half holds exactly, non-ASCII UTF-8.
 */
export const VECTORS: Record<Dtype, Element[]> = {
  BOOL: [true, false, false, true],
  UINT8: [0, 1, 128, 255],
  UINT16: [0, 1, 32768, 65535],
  UINT32: [0, 1, 2147483648, 4294967295],
  UINT64: [0n, 9007199254740993n, 9223372036854775809n, 18446744073709551615n],
  INT8: [-128, -1, 0, 127],
  INT16: [-32768, -1, 0, 32767],
  INT32: [-2147483648, -1, 0, 2147483647],
  INT64: [-9223372036854775808n, -9007199254740993n, 9007199254740993n, 9223372036854775807n],
  FP16: [1.5, -2.25, 65504, 1023 * 2 ** -24],
  FP32: [1.5, -0.1, 3.4028234663852886e38, 1.401298464324817e-45],
  FP64: [0.1, -1.7976931348623157e308, 5e-324, 123456789.12345679],
  BYTES: [Buffer.from('hello'), Buffer.from(''), Buffer.from('héllo wörld'), Buffer.from('日本語 🚀 ß')],
};

/** How an element is written in JSON tensor data (64-bit integers as bare literals via bigint). */
export function toJsonElement(datatype: Dtype, v: Element): unknown {
  if (datatype === 'BYTES') return (v as Buffer).toString('utf8');
  return v;
}

/** A canonical string per element, so values from JSON, binary and gRPC compare exactly. */
export function canonical(datatype: Dtype, values: readonly unknown[]): string[] {
  return values.map((v, i) => {
    const fail = (): never => {
      throw new Error(`element ${i} of ${datatype}: unexpected ${typeof v} ${String(v)}`);
    };
    switch (datatype) {
      case 'BOOL':
        return typeof v === 'boolean' ? String(v) : fail();
      case 'BYTES':
        if (typeof v === 'string') return Buffer.from(v, 'utf8').toString('hex');
        return Buffer.isBuffer(v) || v instanceof Uint8Array ? Buffer.from(v).toString('hex') : fail();
      case 'FP16':
        return typeof v === 'number' ? `h${numberToHalf(v).toString(16)}` : fail();
      case 'FP32':
        return typeof v === 'number' ? String(Math.fround(v)) : fail();
      case 'FP64':
        return typeof v === 'number' ? String(v) : fail();
      default:
        // Integers: a JSON number must be an integer, a bigint or a decimal string (gRPC int64) is exact.
        if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v).toString() : fail();
        if (typeof v === 'bigint') return v.toString();
        if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v).toString();
        return fail();
    }
  });
}

/** Nests a flat row-major array into `shape`. */
export function nest(flat: readonly unknown[], shape: readonly number[]): unknown[] {
  if (shape.length <= 1) return [...flat];
  const [, ...rest] = shape;
  const stride = rest.reduce((a, b) => a * b, 1);
  const out: unknown[] = [];
  for (let i = 0; i < shape[0]!; i++) out.push(nest(flat.slice(i * stride, (i + 1) * stride), rest));
  return out;
}

/** Input (and `<input>_out` output) name of a datatype in the all_types model: `bool`, `uint8`, … */
export const tensorName = (d: Dtype) => d.toLowerCase();
/** The one-input identity model of a datatype: `id_bool`, `id_fp16`, …, input `x`, output `x_out`. */
export const identityName = (d: Dtype) => `id_${d.toLowerCase()}`;

const fp32Scalar = (name: string, value: number) => ({
  name,
  datatype: 'FP32' as const,
  dims: [1],
  values: new Float32Array([value]),
});

/** y = x + c over FP32 [N]. */
function addConstantModel(name: string, c: number): Uint8Array {
  return buildOnnxModel({
    name,
    inputs: [{ name: 'x', datatype: 'FP32', shape: ['N'] }],
    outputs: [{ name: 'y', datatype: 'FP32', shape: ['N'] }],
    initializers: [fp32Scalar('c', c)],
    nodes: [{ op: 'Add', inputs: ['x', 'c'], outputs: ['y'] }],
  });
}

/**
 * The repository most test files serve:
 * - `id_<dtype>` for each datatype: x [N, 2] → x_out (Identity); id_fp32 with max_batch_size 0;
 * - `all_types`: one input per datatype (`bool`, …, `bytes`), each [N, 2], outputs `<name>_out`;
 * - `arith`: x FP32 [N, 2] → `sum` = x + x, `neg` = -x;
 * - `raw_bytes`: x BYTES [1] → x_out;
 * - `versioned`: versions 1 (y = x + 1) and 3 (y = x + 3), policy `all`;
 * - `latest_one`: the same two versions, policy `latest {num_versions: 1}`;
 * - `threaded`: x FP32 [N, 4] → y = 2x + 1, execution_mode thread, two instances, no batching.
 */
export function standardModels(): RepositoryModel[] {
  const models: RepositoryModel[] = DTYPES.map((d) => ({
    name: identityName(d),
    versions: { '1': identityModel(identityName(d), [{ name: 'x', datatype: d, shape: ['N', 2] }]) },
  }));
  // No batching for id_fp32, so requests of any number of rows reach it (Triton's auto-complete would
  // otherwise make the first dimension a batch of at most 4).
  models.find((m) => m.name === identityName('FP32'))!.config = { name: identityName('FP32'), max_batch_size: 0 };
  models.push({
    name: 'all_types',
    versions: { '1': identityModel('all_types', DTYPES.map((d) => ({ name: tensorName(d), datatype: d, shape: ['N', 2] }))) },
  });
  models.push({
    name: 'arith',
    versions: {
      '1': buildOnnxModel({
        name: 'arith',
        inputs: [{ name: 'x', datatype: 'FP32', shape: ['N', 2] }],
        outputs: [
          { name: 'sum', datatype: 'FP32', shape: ['N', 2] },
          { name: 'neg', datatype: 'FP32', shape: ['N', 2] },
        ],
        nodes: [
          { op: 'Add', inputs: ['x', 'x'], outputs: ['sum'] },
          { op: 'Neg', inputs: ['x'], outputs: ['neg'] },
        ],
      }),
    },
  });
  models.push({
    name: 'raw_bytes',
    versions: { '1': identityModel('raw_bytes', [{ name: 'x', datatype: 'BYTES', shape: [1] }]) },
  });
  models.push({
    name: 'versioned',
    versions: { '1': addConstantModel('versioned', 1), '3': addConstantModel('versioned', 3) },
    config: { name: 'versioned', version_policy: { all: {} } },
  });
  models.push({
    name: 'latest_one',
    versions: { '1': addConstantModel('latest_one', 1), '3': addConstantModel('latest_one', 3) },
    config: { name: 'latest_one', version_policy: { latest: { num_versions: 1 } } },
  });
  models.push({
    name: 'threaded',
    versions: {
      '1': buildOnnxModel({
        name: 'threaded',
        inputs: [{ name: 'x', datatype: 'FP32', shape: ['N', 4] }],
        outputs: [{ name: 'y', datatype: 'FP32', shape: ['N', 4] }],
        initializers: [fp32Scalar('two', 2), fp32Scalar('one', 1)],
        nodes: [
          { op: 'Mul', inputs: ['x', 'two'], outputs: ['x2'] },
          { op: 'Add', inputs: ['x2', 'one'], outputs: ['y'] },
        ],
      }),
    },
    config: {
      name: 'threaded',
      max_batch_size: 0,
      instance_group: [{ count: 2, kind: 'KIND_CPU' }],
      parameters: { execution_mode: { string_value: 'thread' } },
    },
  });
  return models;
}

/** Bytes that are not an ONNX model: its load must fail. */
export const CORRUPT_MODEL = Buffer.concat([Buffer.from('this is not an ONNX model\n'), Buffer.alloc(256, 0xff)]);

export interface TempRepository {
  dir: string;
  remove(): Promise<void>;
}

/** Writes `models` into a fresh temporary directory. */
export async function tempRepository(models: readonly RepositoryModel[]): Promise<TempRepository> {
  const dir = await mkdtemp(join(tmpdir(), 'sibyl-e2e-'));
  await writeModelRepository(dir, models);
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
