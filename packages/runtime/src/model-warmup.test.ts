/**
 * Triton's model_warmup on real onnxruntime sessions: the samples run on every instance before the
 * version is READY, with the data they name; a sample that does not fit the model, or fails to run,
 * fails the load with a message naming the field or the sample.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildOnnxModel, writeModelRepository, type RepositoryModel } from '@sibyl/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseModelConfig } from './model-config.js';
import { createHarness, tempDir, type Harness } from './test-support/service-harness.js';

/** y = table[i]: an index out of range fails the run, so the data a warm-up sends shows. */
function lookup(name: string): Uint8Array {
  return buildOnnxModel({
    name,
    inputs: [{ name: 'i', datatype: 'INT64', shape: [1] }],
    outputs: [{ name: 'y', datatype: 'FP32', shape: [1] }],
    initializers: [{ name: 'table', datatype: 'FP32', dims: [3], values: new Float32Array([10, 20, 30]) }],
    nodes: [{ op: 'Gather', inputs: ['table', 'i'], outputs: ['y'] }],
  });
}

const sample = (input: object, extra: object = {}) => ({ name: 'w', batch_size: 1, count: 3, inputs: { i: { data_type: 'TYPE_INT64', dims: [1], ...input } }, ...extra });
const model = (name: string, warmup: object[]): RepositoryModel => ({ name, versions: { '1': lookup(name) }, config: { model_warmup: warmup } });
const int64File = (value: bigint) => Buffer.from(new BigInt64Array([value]).buffer);

describe('model_warmup', () => {
  let root: { dir: string; cleanup: () => Promise<void> };
  let h: Harness;

  beforeAll(async () => {
    root = await tempDir();
    await writeModelRepository(root.dir, [
      model('from-file', [sample({ input_data_file: 'index.bin' })]),
      model('zeros', [sample({ zero_data: true })]),
      model('random', [sample({ random_data: true }, { count: 20 })]),
      model('short-file', [sample({ input_data_file: 'short.bin' })]),
      model('no-file', [sample({ input_data_file: 'absent.bin' })]),
      model('wrong-type', [{ name: 'w', inputs: { i: { data_type: 'TYPE_INT32', dims: [1], zero_data: true } } }]),
      model('wrong-input', [{ name: 'w', inputs: { i: { data_type: 'TYPE_INT64', dims: [1], zero_data: true }, j: { data_type: 'TYPE_INT64', dims: [1], zero_data: true } } }]),
      model('wrong-dims', [sample({ dims: [2], zero_data: true })]),
    ]);
    for (const [name, bytes] of [['from-file', int64File(2n)], ['short-file', Buffer.alloc(4)]] as const) {
      await mkdir(join(root.dir, name, '1', 'warmup'), { recursive: true });
      await writeFile(join(root.dir, name, '1', 'warmup', name === 'from-file' ? 'index.bin' : 'short.bin'), bytes);
    }
    h = createHarness({ repositories: [root.dir], strictReadiness: false });
    await h.service.load();
  }, 60_000);

  afterAll(async () => {
    await h?.service.close();
    await root?.cleanup();
  });

  const reason = async (name: string) => (await h.service.repositoryIndex()).find((e) => e.name === name && e.version === '1')?.reason ?? '';
  const state = async (name: string) => (await h.service.repositoryIndex()).find((e) => e.name === name && e.version === '1')?.state;

  it('runs the samples and serves: data from the version directory\'s warmup/ folder, or zeros', async () => {
    expect(await state('from-file')).toBe('READY');
    expect(await state('zeros')).toBe('READY');
    const r = await h.service.infer({ modelName: 'from-file', inputs: [{ name: 'i', datatype: 'INT64', shape: [1], data: new BigInt64Array([1n]) }] });
    expect(Array.from(r.outputs[0]!.data as Float32Array)).toEqual([20]);
    expect((await h.service.modelConfig('from-file')).model_warmup).toEqual([
      { name: 'w', batch_size: 1, count: 3, inputs: { i: { data_type: 'TYPE_INT64', dims: [1], input_data_file: 'index.bin' } } },
    ]);
  });

  it('fails the load when a sample fails to run, naming the sample and the runtime\'s reason (random indices leave the table)', async () => {
    expect(await state('random')).toBe('UNAVAILABLE');
    expect(await reason('random')).toMatch(/^model 'random' version 1: warm-up sample 'w' failed: .*indices element out of data bounds/);
  });

  it('refuses a sample that does not fit the model, naming the field', async () => {
    expect(await reason('short-file')).toMatch(/model_warmup\[0\]\.inputs\.i\.input_data_file.*short\.bin holds 4 bytes; 1 INT64 elements are 8/);
    expect(await reason('no-file')).toMatch(/model_warmup\[0\]\.inputs\.i\.input_data_file.*cannot read .*warmup\/absent\.bin: ENOENT/);
    expect(await reason('wrong-type')).toMatch(/model_warmup\[0\]\.inputs\.i\.data_type.*TYPE_INT32 given, the model's input is INT64/);
    expect(await reason('wrong-input')).toMatch(/model_warmup\[0\]\.inputs\.j.*the model has no input 'j'/);
    expect(await reason('wrong-dims')).toMatch(/model_warmup\[0\]\.inputs\.i\.dims.*\[2\] does not fit the input's shape \[1\]/);
    for (const name of ['short-file', 'no-file', 'wrong-type', 'wrong-input', 'wrong-dims']) expect(await state(name)).toBe('UNAVAILABLE');
  });
});

describe('model_warmup: what a config may say', () => {
  const parse = (warmup: unknown) => () => parseModelConfig('m', 'config.json', { model_warmup: warmup });

  it('reads Triton\'s fields, with count 0 meaning one run', () => {
    const config = parseModelConfig('m', 'config.json', { model_warmup: [{ name: 'a', inputs: { x: { data_type: 'TYPE_FP32', dims: ['4'], random_data: true } } }] });
    expect(config.warmup).toHaveLength(1);
    expect(config.warmup[0]).toMatchObject({ name: 'a', batchSize: 1, runs: 1 });
    expect(config.warmup[0]!.inputs.get('x')).toEqual({ dataType: 'TYPE_FP32', datatype: 'FP32', dims: [4], data: { kind: 'random' } });
  });

  it('names the field and says why', () => {
    expect(parse({})).toThrow(/model_warmup.*an array/);
    expect(parse([{ inputs: {} }])).toThrow(/model_warmup\[0\]\.name.*is required/);
    expect(parse([{ name: 'a' }])).toThrow(/model_warmup\[0\]\.inputs.*is required/);
    expect(parse([{ name: 'a', inputs: { x: { data_type: 'TYPE_FP32', dims: [1] } } }])).toThrow(/model_warmup\[0\]\.inputs\.x.*exactly one of 'zero_data', 'random_data', 'input_data_file', got none/);
    expect(parse([{ name: 'a', inputs: { x: { data_type: 'TYPE_FP32', dims: [1], zero_data: true, random_data: true } } }])).toThrow(/got 'zero_data', 'random_data'/);
    expect(parse([{ name: 'a', inputs: { x: { data_type: 'TYPE_FP32', dims: [-1], zero_data: true } } }])).toThrow(/model_warmup\[0\]\.inputs\.x\.dims\[0\].*positive integer/);
    expect(parse([{ name: 'a', inputs: { x: { data_type: 'FLOAT', dims: [1], zero_data: true } } }])).toThrow(/data_type.*'FLOAT' is not a Triton data type/);
    expect(parse([{ name: 'a', inputs: { x: { data_type: 'TYPE_FP32', dims: [1], input_data_file: '../x' } } }])).toThrow(/input_data_file.*plain file name/);
    expect(parse([{ name: 'a', inputs: {}, count: 5000 }])).toThrow(/model_warmup\[0\]\.count.*at most 1000/);
    expect(parse([{ name: 'a', inputs: {}, batch: 2 }])).toThrow(/model_warmup\[0\]\.batch.*unknown field/);
    expect(parse([{ name: 'a', inputs: {} }, { name: 'a', inputs: {} }])).toThrow(/model_warmup\[1\]\.name.*'a' names two samples/);
  });
});
