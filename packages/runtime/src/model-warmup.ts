/**
 * Triton's `model_warmup`: samples a version runs on every instance before it is marked READY, so that
 * no client request pays a fresh session's first runs (allocations, kernel selection, JIT), with
 * inputs that are valid for the model (zeros are not, for an index or a token id).
 *
 * ```json
 * "model_warmup": [{ "name": "one row", "batch_size": 1, "count": 3,
 *                    "inputs": { "input": { "data_type": "TYPE_FP32", "dims": [4], "random_data": true } } }]
 * ```
 *
 * Each sample names every input of the model, with Triton's fields: `data_type`, `dims` (without the
 * batch dimension when the model batches; `batch_size` rows are sent), and one of `zero_data`,
 * `random_data` or `input_data_file`. A data file holds the tensor's bytes as the binary tensor data
 * extension does (little-endian; BYTES elements each prefixed by a 4-byte length) and is read from the
 * version directory's `warmup/` folder: Triton keeps it in `<model>/warmup/`, but a Sibyl version is
 * uploaded and stored on its own, so its warm-up data travels with it. `count` runs the sample that many
 * times (0, the default, once).
 *
 * Parsing checks the sample itself (config-reader's rules); `prepareWarmup` checks it against the
 * model's signature and reads the files; a sample that disagrees is SIBYL_CONFIG_MISMATCH naming the
 * field, one that fails to run is SIBYL_WARMUP_FAILED: either way the version does not serve.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Datatype } from '@sibyl/protocol';
import { arrayAt, booleanAt, fail, integerAt, objectAt, stringAt, type ConfigContext } from './config-reader.js';
import { datatypeOfTriton, ORT_TYPE, TYPED_ARRAY } from './datatype-mapping.js';
import { configMismatch } from './errors.js';
import type { ModelLocation } from './model-source.js';
import type { ModelWarmupConfig } from './model-config.js';
import type { Signature } from './model-signature.js';
import type { FixedData, OrtTensorType, WireTensor } from './wire.js';

export type WarmupData = { kind: 'zero' } | { kind: 'random' } | { kind: 'file'; file: string };

export interface WarmupInput {
  /** As the config spells it (TYPE_FP32), and as v2 names it. */
  dataType: string;
  datatype: Datatype;
  /** Without the batch dimension when the model batches. */
  dims: number[];
  data: WarmupData;
}

export interface WarmupSample {
  name: string;
  /** Rows sent when the model batches; 1 (or 0) otherwise. */
  batchSize: number;
  /** Runs of this sample on each instance (Triton's `count`, 0 meaning once). */
  runs: number;
  inputs: Map<string, WarmupInput>;
}

const SAMPLE_FIELDS = ['name', 'batch_size', 'inputs', 'count'];
const INPUT_FIELDS = ['data_type', 'dims', 'zero_data', 'random_data', 'input_data_file'];
/** A sample that would run longer than anyone waits for a load is a mistake, not a warm-up. */
const MAX_RUNS = 1000;

function checkFields(ctx: ConfigContext, path: string, obj: Record<string, unknown>, known: readonly string[]): void {
  for (const key of Object.keys(obj)) if (!known.includes(key)) fail(ctx, `${path}.${key}`, `unknown field (a warm-up ${path.endsWith(']') ? 'sample' : 'input'} has ${known.map((k) => `'${k}'`).join(', ')})`);
}

function warmupInput(ctx: ConfigContext, path: string, value: unknown): WarmupInput {
  const obj = objectAt(ctx, path, value);
  checkFields(ctx, path, obj, INPUT_FIELDS);
  if (obj['data_type'] === undefined) fail(ctx, `${path}.data_type`, 'is required (e.g. "TYPE_FP32")');
  const dataType = stringAt(ctx, `${path}.data_type`, obj['data_type']);
  const datatype = datatypeOfTriton(dataType);
  if (datatype === undefined) fail(ctx, `${path}.data_type`, `'${dataType}' is not a Triton data type (TYPE_BOOL, TYPE_UINT8, ... TYPE_FP32, TYPE_STRING)`);
  if (obj['dims'] === undefined) fail(ctx, `${path}.dims`, 'is required (the tensor\'s shape without the batch dimension; [] for a scalar)');
  const dims = arrayAt(ctx, `${path}.dims`, obj['dims']).map((d, j) => integerAt(ctx, `${path}.dims[${j}]`, d, 1, 'a positive integer (warm-up data has a fixed shape)'));
  const chosen = ['zero_data', 'random_data', 'input_data_file'].filter((k) => obj[k] !== undefined && obj[k] !== false);
  if (chosen.length !== 1) {
    fail(ctx, path, `must set exactly one of 'zero_data', 'random_data', 'input_data_file', got ${chosen.length === 0 ? 'none' : chosen.map((k) => `'${k}'`).join(', ')}`);
  }
  let data: WarmupData;
  if (chosen[0] === 'input_data_file') {
    const file = stringAt(ctx, `${path}.input_data_file`, obj['input_data_file']);
    if (file === '' || file === '.' || file === '..' || /[/\\]/.test(file)) fail(ctx, `${path}.input_data_file`, `'${file}' must be a plain file name in the version directory's warmup/ folder`);
    data = { kind: 'file', file };
  } else {
    const key = chosen[0]!;
    if (!booleanAt(ctx, `${path}.${key}`, obj[key])) fail(ctx, `${path}.${key}`, 'must be true when set');
    data = { kind: key === 'zero_data' ? 'zero' : 'random' };
  }
  return { dataType, datatype, dims, data };
}

/** Reads `model_warmup` of a config.json (Triton's ModelWarmup list). */
export function parseModelWarmup(ctx: ConfigContext, value: unknown): WarmupSample[] {
  const names = new Set<string>();
  return arrayAt(ctx, 'model_warmup', value).map((item, i) => {
    const path = `model_warmup[${i}]`;
    const obj = objectAt(ctx, path, item);
    checkFields(ctx, path, obj, SAMPLE_FIELDS);
    if (obj['name'] === undefined) fail(ctx, `${path}.name`, 'is required');
    const name = stringAt(ctx, `${path}.name`, obj['name']);
    if (name === '') fail(ctx, `${path}.name`, 'must not be empty');
    if (names.has(name)) fail(ctx, `${path}.name`, `'${name}' names two samples`);
    names.add(name);
    const batchSize = obj['batch_size'] === undefined ? 1 : integerAt(ctx, `${path}.batch_size`, obj['batch_size'], 0, 'a non-negative integer');
    const count = obj['count'] === undefined ? 0 : integerAt(ctx, `${path}.count`, obj['count'], 0, 'a non-negative integer');
    if (count > MAX_RUNS) fail(ctx, `${path}.count`, `${count} runs per instance is more than a warm-up needs (at most ${MAX_RUNS})`);
    if (obj['inputs'] === undefined) fail(ctx, `${path}.inputs`, 'is required (one entry per model input)');
    const inputsObj = objectAt(ctx, `${path}.inputs`, obj['inputs']);
    const inputs = new Map(Object.entries(inputsObj).map(([inputName, v]) => [inputName, warmupInput(ctx, `${path}.inputs.${inputName}`, v)] as const));
    return { name, batchSize, runs: Math.max(1, count), inputs };
  });
}

/** The samples in Triton's form, as the normalised configuration serves them. */
export function warmupConfig(samples: readonly WarmupSample[]): ModelWarmupConfig[] {
  return samples.map((sample) => ({
    name: sample.name,
    batch_size: sample.batchSize,
    count: sample.runs,
    inputs: Object.fromEntries(
      [...sample.inputs].map(([name, input]) => [
        name,
        {
          data_type: input.dataType,
          dims: [...input.dims],
          ...(input.data.kind === 'zero' ? { zero_data: true as const } : input.data.kind === 'random' ? { random_data: true as const } : { input_data_file: input.data.file }),
        },
      ]),
    ),
  }));
}

// ---- at load ----------------------------------------------------------------------------------------

/** A sample ready to run: fresh feeds per run (a thread instance takes ownership of their buffers). */
export interface PreparedWarmup {
  name: string;
  runs: number;
  feeds(): WireTensor[];
}

interface Where {
  model: string;
  version: string;
  file: string;
}

const BYTES_PER_ELEMENT: Readonly<Record<Exclude<OrtTensorType, 'string'>, number>> = {
  bool: 1, uint8: 1, int8: 1, uint16: 2, float16: 2, int16: 2, uint32: 4, int32: 4, uint64: 8, int64: 8, float32: 4, float64: 8,
};

/** Random bytes that are valid values of the type: BOOL 0 or 1, floats in [0, 1) (FP16 as its bits). */
function randomData(type: Exclude<OrtTensorType, 'string'>, count: number): FixedData {
  if (type === 'float32') return Float32Array.from({ length: count }, () => Math.random());
  if (type === 'float64') return Float64Array.from({ length: count }, () => Math.random());
  if (type === 'bool') return Uint8Array.from({ length: count }, () => (Math.random() < 0.5 ? 0 : 1));
  // FP16 in [0, 1): exponent below 15, any mantissa.
  if (type === 'float16') return Uint16Array.from({ length: count }, () => (Math.floor(Math.random() * 15) << 10) | Math.floor(Math.random() * 1024));
  const bytes = new Uint8Array(count * BYTES_PER_ELEMENT[type]);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  return new TYPED_ARRAY[type](bytes.buffer);
}

/** BYTES elements as the binary extension lays them out: a 4-byte little-endian length, then the bytes. */
function parseBytesElements(buffer: Buffer, count: number): string[] | string {
  const out: string[] = [];
  let at = 0;
  while (at < buffer.length) {
    if (at + 4 > buffer.length) return `ends inside the length of element ${out.length}`;
    const length = buffer.readUInt32LE(at);
    at += 4;
    if (at + length > buffer.length) return `element ${out.length} says ${length} bytes, ${buffer.length - at} remain`;
    out.push(buffer.toString('utf8', at, at + length));
    at += length;
  }
  if (out.length !== count) return `holds ${out.length} elements, the shape needs ${count}`;
  return out;
}

/**
 * The config's samples checked against the model's signature, with their data files read: an input
 * the model lacks, a model input the sample leaves out, another datatype, dims that do not fit, a batch
 * larger than max_batch_size, or a file of the wrong size is SIBYL_CONFIG_MISMATCH naming the field.
 */
export async function prepareWarmup(where: Where, samples: readonly WarmupSample[], signature: Signature, location: ModelLocation): Promise<PreparedWarmup[]> {
  const { model, version, file } = where;
  const mismatch = (field: string, why: string) => configMismatch(model, version, file, field, why);
  const batching = signature.maxBatchSize > 0;
  const prepared: PreparedWarmup[] = [];
  for (const [i, sample] of samples.entries()) {
    const path = `model_warmup[${i}]`;
    if (batching && (sample.batchSize < 1 || sample.batchSize > signature.maxBatchSize)) {
      throw mismatch(`${path}.batch_size`, `${sample.batchSize} is not within 1 to max_batch_size ${signature.maxBatchSize}`);
    }
    if (!batching && sample.batchSize > 1) throw mismatch(`${path}.batch_size`, `${sample.batchSize}: the model does not batch (max_batch_size 0), so a sample is one request of batch 1`);
    for (const name of sample.inputs.keys()) {
      if (!signature.inputs.some((t) => t.name === name)) throw mismatch(`${path}.inputs.${name}`, `the model has no input '${name}' (it has ${signature.inputs.map((t) => `'${t.name}'`).join(', ')})`);
    }
    const makers: Array<() => WireTensor> = [];
    for (const tensor of signature.inputs) {
      const field = `${path}.inputs.${tensor.name}`;
      const input = sample.inputs.get(tensor.name);
      if (input === undefined) throw mismatch(`${path}.inputs`, `input '${tensor.name}' has no warm-up data: a sample names every input of the model`);
      if (input.datatype !== tensor.datatype) throw mismatch(`${field}.data_type`, `${input.dataType} given, the model's input is ${tensor.datatype}`);
      const dims = batching ? [sample.batchSize, ...input.dims] : [...input.dims];
      const fits = dims.length === tensor.shape.length && tensor.shape.every((d, j) => d < 0 || d === dims[j]);
      if (!fits) throw mismatch(`${field}.dims`, `[${input.dims.join(',')}]${batching ? ` at batch ${sample.batchSize}` : ''} does not fit the input's shape [${tensor.shape.join(',')}]`);
      const count = dims.reduce((n, d) => n * d, 1);
      const type = ORT_TYPE[tensor.datatype]!;
      const name = tensor.name;
      if (input.data.kind === 'file') {
        if (!('dir' in location)) throw mismatch(`${field}.input_data_file`, `'${input.data.file}' cannot be read: the version is a single model file; upload it as a directory holding warmup/${input.data.file}`);
        const path = join(location.dir, 'warmup', input.data.file);
        const bytes = await readFile(path).catch((err: NodeJS.ErrnoException) => {
          throw mismatch(`${field}.input_data_file`, `cannot read ${path}: ${err.code ?? err.message}`);
        });
        if (type === 'string') {
          const strings = parseBytesElements(bytes, count);
          if (typeof strings === 'string') throw mismatch(`${field}.input_data_file`, `${path} ${strings}`);
          makers.push(() => ({ name, type, dims, data: [...strings] }));
        } else {
          const want = count * BYTES_PER_ELEMENT[type];
          if (bytes.length !== want) throw mismatch(`${field}.input_data_file`, `${path} holds ${bytes.length} bytes; ${count} ${tensor.datatype} elements are ${want}`);
          const copy = new Uint8Array(bytes);
          makers.push(() => ({ name, type, dims, data: new TYPED_ARRAY[type](copy.slice().buffer) }));
        }
      } else if (type === 'string') {
        // Triton sends empty strings for zero and random BYTES data alike.
        makers.push(() => ({ name, type, dims, data: new Array<string>(count).fill('') }));
      } else if (input.data.kind === 'zero') {
        makers.push(() => ({ name, type, dims, data: new TYPED_ARRAY[type](new ArrayBuffer(count * BYTES_PER_ELEMENT[type])) }));
      } else {
        makers.push(() => ({ name, type, dims, data: randomData(type, count) }));
      }
    }
    prepared.push({ name: sample.name, runs: sample.runs, feeds: () => makers.map((make) => make()) });
  }
  return prepared;
}
