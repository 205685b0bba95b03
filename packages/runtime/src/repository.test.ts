import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isSibylError } from '@sibyl/protocol';
import { buildOnnxModel, identityModel, writeModelRepository, type RepositoryModel } from '@sibyl/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, tempDir, type Harness } from './test-support/service-harness.js';

const INLINE = { execution_mode: { string_value: 'inline' } };
const fp32 = (name: string, shape: Array<number | string>) => ({ name, datatype: 'FP32' as const, shape });

/** A model whose config disagrees with its file: x is FP32 ['batch', 3], y is INT64 [2, 'n']. */
function mismatch(name: string, config: object): RepositoryModel {
  return {
    name,
    versions: { '1': identityModel(name, [fp32('x', ['batch', 3]), { name: 'y', datatype: 'INT64', shape: [2, 'n'] }]) },
    config: { ...config, parameters: INLINE },
  };
}

async function rejection(promise: Promise<unknown>): Promise<{ code: string; category: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    if (!isSibylError(err)) throw err;
    return { code: err.code, category: err.category, message: err.message };
  }
  throw new Error('expected a rejection');
}

describe('model repository: loading, metadata, failures', () => {
  let root: { dir: string; cleanup: () => Promise<void> };
  let second: { dir: string; cleanup: () => Promise<void> };
  let h: Harness;
  let summary: Awaited<ReturnType<Harness['service']['load']>>;
  let readyBeforeLoad: boolean;

  beforeAll(async () => {
    root = await tempDir();
    second = await tempDir();
    await writeModelRepository(root.dir, [
      // Metadata from the file: symbolic dims are -1; y's fixed first dim means no batching.
      { name: 'symbolic', versions: { '1': identityModel('symbolic', [fp32('x', ['batch', 3]), { name: 'y', datatype: 'INT64', shape: [2, 'n'] }]) } },
      // Every first dim variable: batching, auto-completed max_batch_size.
      { name: 'batchable', versions: { '1': identityModel('batchable', [fp32('x', ['batch', 3])]) }, config: { parameters: INLINE } },
      {
        name: 'configured',
        versions: { '1': identityModel('configured', [fp32('x', ['batch', 3])]) },
        config: {
          name: 'configured',
          max_batch_size: 8,
          input: [{ name: 'x', data_type: 'TYPE_FP32', dims: [3] }],
          output: [{ name: 'x_out', data_type: 'TYPE_FP32', dims: ['3'] }],
          parameters: INLINE,
          dynamic_batching: { max_queue_delay_microseconds: 100 },
          response_cache: { enable: true },
        },
      },
      {
        // A config may fix a dimension the file leaves variable.
        name: 'narrowed',
        versions: { '1': identityModel('narrowed', [fp32('x', ['n', 'm'])]) },
        config: { max_batch_size: 0, input: [{ name: 'x', data_type: 'TYPE_FP32', dims: [-1, 5] }], parameters: INLINE },
      },
      {
        // Config dims of full rank and no max_batch_size: the author described a model without batching.
        name: 'fullrank',
        versions: { '1': identityModel('fullrank', [fp32('x', ['batch', 3])]) },
        config: { input: [{ name: 'x', data_type: 'TYPE_FP32', dims: [-1, 3] }], parameters: INLINE },
      },
      mismatch('mm-name', { input: [{ name: 'z', data_type: 'TYPE_FP32', dims: [-1, 3] }, { name: 'y', data_type: 'TYPE_INT64', dims: [2, -1] }] }),
      mismatch('mm-type', { input: [{ name: 'x', data_type: 'TYPE_INT32', dims: [-1, 3] }, { name: 'y', data_type: 'TYPE_INT64', dims: [2, -1] }] }),
      mismatch('mm-dims', { input: [{ name: 'x', data_type: 'TYPE_FP32', dims: [-1, 4] }, { name: 'y', data_type: 'TYPE_INT64', dims: [2, -1] }] }),
      mismatch('mm-rank', { input: [{ name: 'x', data_type: 'TYPE_FP32', dims: [3] }, { name: 'y', data_type: 'TYPE_INT64', dims: [2, -1] }] }),
      mismatch('mm-batch', { max_batch_size: 4 }),
      mismatch('mm-missing', { input: [{ name: 'x', data_type: 'TYPE_FP32', dims: [-1, 3] }] }),
      mismatch('mm-output', { output: [{ name: 'nope', data_type: 'TYPE_FP32', dims: [-1, 3] }] }),
      { name: 'corrupt', versions: { '1': new Uint8Array([8, 1, 18, 4, 0xff, 0xff, 0xff, 0xff, 1, 2, 3]) } },
      { name: 'bf16', versions: { '1': identityModel('bf16', [{ name: 'h', datatype: 'BF16', shape: [2] }]) } },
      { name: 'badconfig', versions: { '1': identityModel('badconfig', [fp32('x', [1])]) }, config: { instance_group: [{ kind: 'KIND_GPU' }] } },
      { name: 'twice', versions: { '1': identityModel('twice', [fp32('x', [1])]) }, config: { parameters: INLINE } },
    ]);
    // Triton's layout details the testkit writer does not produce.
    const renamed = join(root.dir, 'renamed-file', '1');
    await mkdir(renamed, { recursive: true });
    await writeFile(join(renamed, 'net.onnx'), identityModel('renamed-file', [fp32('x', [2])]));
    await writeFile(join(root.dir, 'renamed-file', 'config.json'), JSON.stringify({ default_model_filename: 'net.onnx', parameters: INLINE }));
    await mkdir(join(root.dir, 'onnx-dir', '1', 'model.onnx'), { recursive: true });
    await writeFile(join(root.dir, 'onnx-dir', '1', 'model.onnx', 'model.onnx'), identityModel('onnx-dir', [fp32('x', [2])]));
    await writeFile(join(root.dir, 'onnx-dir', 'config.json'), JSON.stringify({ parameters: INLINE }));
    await mkdir(join(root.dir, 'no-file', '1'), { recursive: true });
    await mkdir(join(root.dir, 'no-versions', '01'), { recursive: true });
    await mkdir(join(root.dir, 'no-versions', 'v2'), { recursive: true });
    await mkdir(join(root.dir, 'no-versions', '0'), { recursive: true });
    await mkdir(join(root.dir, 'bad json', '1'), { recursive: true });
    await mkdir(join(root.dir, 'badjson', '1'), { recursive: true });
    await writeFile(join(root.dir, 'badjson', '1', 'model.onnx'), identityModel('badjson', [fp32('x', [1])]));
    await writeFile(join(root.dir, 'badjson', 'config.json'), '{"max_batch_size": 1,}');
    await writeFile(join(root.dir, 'README.md'), 'not a model');
    await writeModelRepository(second.dir, [{ name: 'twice', versions: { '1': identityModel('twice', [fp32('x', [1])]) } }]);

    h = createHarness({ repositories: [root.dir, second.dir] });
    readyBeforeLoad = await h.service.serverReady();
    summary = await h.service.load();
  }, 120_000);

  afterAll(async () => {
    await h?.service.close();
    await root?.cleanup();
    await second?.cleanup();
  });

  it('derives metadata from the file: symbolic dims are -1, platform onnxruntime_onnx', async () => {
    expect(await h.service.modelMetadata('symbolic')).toEqual({
      name: 'symbolic',
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [
        { name: 'x', datatype: 'FP32', shape: [-1, 3] },
        { name: 'y', datatype: 'INT64', shape: [2, -1] },
      ],
      outputs: [
        { name: 'x_out', datatype: 'FP32', shape: [-1, 3] },
        { name: 'y_out', datatype: 'INT64', shape: [2, -1] },
      ],
    });
    expect((await h.service.modelConfig('symbolic')).max_batch_size).toBe(0);
  });

  it("auto-completes batching when every first dim is variable, with Triton's default max_batch_size 4", async () => {
    const meta = await h.service.modelMetadata('batchable');
    expect(meta.inputs).toEqual([{ name: 'x', datatype: 'FP32', shape: [-1, 3] }]);
    const config = await h.service.modelConfig('batchable');
    expect(config.max_batch_size).toBe(4);
    expect(config.input).toEqual([{ name: 'x', data_type: 'TYPE_FP32', dims: [3] }]);
    expect(config.output).toEqual([{ name: 'x_out', data_type: 'TYPE_FP32', dims: [3] }]);
  });

  it('serves a config: dims without the batch dim, -1 in front in metadata; normalised config', async () => {
    const meta = await h.service.modelMetadata('configured');
    expect(meta.inputs).toEqual([{ name: 'x', datatype: 'FP32', shape: [-1, 3] }]);
    expect(meta.outputs).toEqual([{ name: 'x_out', datatype: 'FP32', shape: [-1, 3] }]);
    expect(await h.service.modelConfig('configured', '1')).toEqual({
      name: 'configured',
      platform: 'onnxruntime_onnx',
      backend: 'onnxruntime',
      version_policy: { all: {} },
      max_batch_size: 8,
      input: [{ name: 'x', data_type: 'TYPE_FP32', dims: [3] }],
      output: [{ name: 'x_out', data_type: 'TYPE_FP32', dims: [3] }],
      instance_group: [{ name: 'configured_0', kind: 'KIND_CPU', count: 1 }],
      default_model_filename: 'model.onnx',
      parameters: { execution_mode: { string_value: 'inline' } },
      dynamic_batching: {
        preferred_batch_size: [],
        max_queue_delay_microseconds: 100,
        preserve_ordering: false,
        priority_levels: 0,
        default_priority_level: 0,
        default_queue_policy: { timeout_action: 'REJECT', default_timeout_microseconds: 0, allow_timeout_override: false, max_queue_size: 0 },
      },
    });
    expect((await h.service.modelMetadata('narrowed')).inputs).toEqual([{ name: 'x', datatype: 'FP32', shape: [-1, 5] }]);
    expect((await h.service.modelConfig('fullrank')).max_batch_size).toBe(0);
    expect((await h.service.modelMetadata('fullrank')).inputs).toEqual([{ name: 'x', datatype: 'FP32', shape: [-1, 3] }]);
  });

  it('finds the file by default_model_filename, and a model.onnx directory as Triton does', async () => {
    expect(await h.service.modelReady('renamed-file')).toBe(true);
    expect(await h.service.modelReady('onnx-dir')).toBe(true);
  });

  it.each([
    ['mm-name', "config field 'input[0].name'", "'z' is not an input of the model file; its inputs are 'x', 'y'"],
    ['mm-type', "config field 'input[0].data_type'", "config says TYPE_INT32 but the model file's 'x' is TYPE_FP32"],
    ['mm-dims', "config field 'input[0].dims'", "config dims [-1,4] differ from the model file's 'x' dims [-1,3]"],
    ['mm-rank', "config field 'input[0].dims'", 'config dims [3] have rank 1'],
    ['mm-batch', "config field 'max_batch_size'", "max_batch_size 4 needs a variable first dimension (the batch) on every input and output, but input 'y' has shape [2,-1]"],
    ['mm-missing', "config field 'input'", "the model file's input 'y' is not in the config"],
    ['mm-output', "config field 'output[0].name'", "'nope' is not an output of the model file"],
  ])('fails %s on a config/file mismatch, naming the field and why', async (name, field, why) => {
    const row = (await h.service.repositoryIndex()).find((r) => r.name === name);
    expect(row).toMatchObject({ name, version: '1', state: 'UNAVAILABLE' });
    expect(row!.reason).toContain(`model '${name}' version 1: ${field} does not match '${join(root.dir, name, '1', 'model.onnx')}'`);
    expect(row!.reason).toContain(why);
    expect(await h.service.modelReady(name)).toBe(false);
  });

  it('reports a corrupt model file UNAVAILABLE with the reason, while the others serve', async () => {
    const row = (await h.service.repositoryIndex()).find((r) => r.name === 'corrupt');
    expect(row?.state).toBe('UNAVAILABLE');
    expect(row?.reason).toContain(`model 'corrupt' version 1: onnxruntime cannot load '${join(root.dir, 'corrupt', '1', 'model.onnx')}'`);
    expect(await h.service.modelReady('corrupt')).toBe(false);
    expect(await h.service.modelReady('corrupt', '1')).toBe(false);
    const err = await rejection(h.service.modelMetadata('corrupt'));
    expect(err).toMatchObject({ code: 'SIBYL_MODEL_NOT_READY', category: 'UNAVAILABLE' });
    expect(err.message).toContain('onnxruntime cannot load');
    const inferErr = await rejection(
      h.service.infer({ modelName: 'corrupt', inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: new Float32Array(1) }] }),
    );
    expect(inferErr.code).toBe('SIBYL_MODEL_NOT_READY');
    const out = await h.service.infer({
      modelName: 'batchable',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3], data: new Float32Array([1, 2, 3]) }],
    });
    expect(Array.from(out.outputs[0]!.data as Float32Array)).toEqual([1, 2, 3]);
    expect(h.logs.some((l) => l.level === 'error' && l['model'] === 'corrupt' && String(l.msg).includes('failed to load'))).toBe(true);
  });

  it('names the BF16 tensor onnxruntime-node cannot exchange', async () => {
    const row = (await h.service.repositoryIndex()).find((r) => r.name === 'bf16');
    expect(row?.state).toBe('UNAVAILABLE');
    expect(row?.reason).toContain("model 'bf16' version 1: tensor 'h': input of type BF16 (bfloat16) is not supported");
  });

  it('reports model-level failures as one UNAVAILABLE row: bad config, bad JSON, no versions, name in two repositories', async () => {
    const rows = await h.service.repositoryIndex();
    const row = (name: string) => rows.filter((r) => r.name === name);
    expect(row('badconfig')).toEqual([
      { name: 'badconfig', state: 'UNAVAILABLE', reason: expect.stringContaining("field 'instance_group[0].kind': KIND_GPU is not supported") },
    ]);
    expect(row('badjson')[0]?.reason).toContain(`model 'badjson': ${join(root.dir, 'badjson', 'config.json')}: not valid JSON`);
    expect(row('no-versions')[0]?.reason).toContain("has no version directory (a positive integer such as '1'");
    expect(row('twice')[0]?.reason).toBe(
      `model 'twice' is in more than one repository ('${join(root.dir, 'twice')}', '${join(second.dir, 'twice')}'); none of them is loaded`,
    );
    expect(row('no-file')).toEqual([
      { name: 'no-file', version: '1', state: 'UNAVAILABLE', reason: expect.stringContaining(`model file '${join(root.dir, 'no-file', '1', 'model.onnx')}' not found`) },
    ]);
    const err = await rejection(h.service.modelMetadata('twice'));
    expect(err.code).toBe('SIBYL_MODEL_NOT_READY');
  });

  it('skips and reports a directory whose name is not a model name; ignores plain files', async () => {
    const rows = await h.service.repositoryIndex();
    expect(rows.some((r) => r.name === 'bad json' || r.name === 'README.md')).toBe(false);
    expect(summary.skipped).toEqual([
      { path: join(root.dir, 'bad json'), reason: expect.stringContaining('is not a valid model name') },
    ]);
    expect(h.logs.some((l) => l.level === 'warn' && String(l.msg).includes(`directory '${join(root.dir, 'bad json')}' is not a valid model name`))).toBe(true);
    expect((await rejection(h.service.modelMetadata('bad json'))).code).toBe('SIBYL_MODEL_NOT_FOUND');
  });

  it('summarises the load and logs one line per loaded version', () => {
    const ready = ['batchable', 'configured', 'fullrank', 'narrowed', 'onnx-dir', 'renamed-file', 'symbolic'];
    expect(summary.results.filter((r) => r.state === 'READY').map((r) => r.name).sort()).toEqual(ready);
    expect(summary.loaded).toBe(ready.length);
    expect(summary.failed).toBe(summary.results.length - ready.length);
    const line = h.logs.find((l) => l['model'] === 'configured' && l.level === 'info');
    expect(line).toMatchObject({ version: '1', platform: 'onnxruntime_onnx', executionMode: 'inline', instances: 1 });
    expect(typeof line?.['loadMs']).toBe('number');
    expect(line).toMatchObject({ engine: 'onnxruntime-node (CPU)' });
    expect(line?.msg).toMatch(/^loaded model 'configured' version 1 \(onnxruntime_onnx on onnxruntime-node \(CPU\), inline\) in \d+ ms$/);
    expect(h.logs.filter((l) => l.level === 'info' && String(l.msg).startsWith('loaded model'))).toHaveLength(ready.length);
  });

  it('logs a warning for each Triton field it accepts but ignores', () => {
    expect(h.logs).toContainEqual(
      expect.objectContaining({ level: 'warn', model: 'configured', field: 'response_cache' }),
    );
  });

  it('is not ready before load, nor (strict readiness) while a model failed', async () => {
    expect(readyBeforeLoad).toBe(false);
    expect(await h.service.serverReady()).toBe(false);
    expect(await h.service.serverLive()).toBe(true);
  });

  it('unknown model: NOT_FOUND naming it', async () => {
    const err = await rejection(h.service.modelMetadata('nope'));
    expect(err).toMatchObject({ code: 'SIBYL_MODEL_NOT_FOUND', category: 'NOT_FOUND' });
    expect(err.message).toBe("unknown model 'nope': it is in none of the model repositories");
    expect((await rejection(h.service.modelReady('nope'))).code).toBe('SIBYL_MODEL_NOT_FOUND');
    expect((await rejection(h.service.infer({ modelName: 'nope', inputs: [] }))).code).toBe('SIBYL_MODEL_NOT_FOUND');
  });
});

describe('readiness and repositories', () => {
  it('with strictReadiness false, is ready once loading finished even though a model failed', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await writeModelRepository(dir, [
        { name: 'good', versions: { '1': identityModel('good', [fp32('x', [1])]) }, config: { parameters: INLINE } },
        { name: 'broken', versions: { '1': new Uint8Array([1, 2, 3]) } },
      ]);
      const strict = createHarness({ repositories: [dir] });
      const lenient = createHarness({ repositories: [dir], strictReadiness: false });
      await Promise.all([strict.service.load(), lenient.service.load()]);
      expect(await strict.service.serverReady()).toBe(false);
      expect(await lenient.service.serverReady()).toBe(true);
      await Promise.all([strict.service.close(), lenient.service.close()]);
      expect(await lenient.service.serverReady()).toBe(false);
    } finally {
      await cleanup();
    }
  });

  it('with every model loaded, is ready (strict); serverMetadata names the server and extensions', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await writeModelRepository(dir, [{ name: 'good', versions: { '1': identityModel('good', [fp32('x', [1])]) }, config: { parameters: INLINE } }]);
      const h = createHarness({ repositories: [dir, dir], serverVersion: '1.2.3', extensions: ['model_repository', 'binary_tensor_data'] });
      const summary = await h.service.load();
      expect(summary).toMatchObject({ loaded: 1, failed: 0 });
      expect(await h.service.serverReady()).toBe(true);
      expect(await h.service.serverMetadata()).toEqual({ name: 'sibyl', version: '1.2.3', extensions: ['model_repository', 'binary_tensor_data'], runtimes: ['onnxruntime-node (CPU)'] });
      await h.service.close();
    } finally {
      await cleanup();
    }
  });

  it('an empty repository list loads nothing and is ready', async () => {
    const h = createHarness({ repositories: [] });
    expect(await h.service.load()).toEqual({ loaded: 0, failed: 0, results: [], skipped: [] });
    expect(await h.service.serverReady()).toBe(true);
  });

  it('a repository that does not exist rejects load() naming it', async () => {
    const h = createHarness({ repositories: ['/nonexistent/sibyl-models'] });
    const err = await rejection(h.service.load());
    expect(err.code).toBe('SIBYL_REPOSITORY_UNREADABLE');
    expect(err.message).toBe("model repository '/nonexistent/sibyl-models' cannot be read: no such directory");
    expect(await h.service.serverReady()).toBe(false);
  });

  it("lists outputs in the model file's order", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const bytes = buildOnnxModel({
        name: 'two',
        inputs: [fp32('a', [2])],
        outputs: [fp32('s', [2]), fp32('p', [2])],
        nodes: [
          { op: 'Add', inputs: ['a', 'a'], outputs: ['s'] },
          { op: 'Mul', inputs: ['a', 'a'], outputs: ['p'] },
        ],
      });
      await writeModelRepository(dir, [{ name: 'two', versions: { '1': bytes }, config: { parameters: INLINE } }]);
      const h = createHarness({ repositories: [dir] });
      await h.service.load();
      expect((await h.service.modelMetadata('two')).outputs.map((o) => o.name)).toEqual(['s', 'p']);
      await h.service.close();
    } finally {
      await cleanup();
    }
  });
});
