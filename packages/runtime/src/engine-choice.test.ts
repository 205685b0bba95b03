import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSibylError } from '@sibyl/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseEngine } from './engine-choice.js';
import { defaultDeclaredConfig, parseModelConfig } from './model-config.js';
import type { ModelEngine } from './model-engine.js';
import { onnxEngine } from './onnx-engine.js';

/** The TF.js engine's description, for choosing only: nothing here opens a model. */
const tfLike: ModelEngine = {
  backend: 'tfjs',
  platforms: ['tensorflowjs_graph', 'tensorflowjs_layers'],
  modelFilename: 'model.json',
  kinds: ['thread'],
  runtimeName: 'TensorFlow.js',
  description: 'TensorFlow.js (test)',
  open: () => Promise.reject(new Error('not opened in this test')),
  explainLoadFailure: () => Promise.reject(new Error('not opened in this test')),
};

const where = { model: 'm', version: '1' };
let root: string;

async function versionDir(name: string, files: string[]): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  for (const f of files) await writeFile(join(dir, f), 'x');
  return dir;
}

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    if (isSibylError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('resolved');
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sibyl-engine-choice-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('chooseEngine', () => {
  it('goes by the file a version directory holds', async () => {
    const onnx = await versionDir('onnx', ['model.onnx']);
    const tf = await versionDir('tf', ['model.json', 'weights.bin']);
    const both = [onnxEngine, tfLike];
    expect(await chooseEngine(where, { dir: onnx }, defaultDeclaredConfig(), both)).toEqual({ engine: onnxEngine, file: join(onnx, 'model.onnx') });
    expect(await chooseEngine(where, { dir: tf }, defaultDeclaredConfig(), both)).toEqual({ engine: tfLike, file: join(tf, 'model.json') });
  });

  it('follows the platform the config names, and refuses one this server does not run, naming what it runs', async () => {
    const tf = await versionDir('tf-config', ['model.json']);
    const config = parseModelConfig('m', 'config.json', { platform: 'tensorflowjs_layers' });
    expect((await chooseEngine(where, { dir: tf }, config, [onnxEngine, tfLike])).engine).toBe(tfLike);
    expect(await failure(chooseEngine(where, { dir: tf }, config, [onnxEngine]))).toEqual({
      code: 'SIBYL_PLATFORM_NOT_SERVED',
      message: "model 'm' version 1: platform 'tensorflowjs_layers' is not served here; this server runs 'onnxruntime_onnx'",
    });
  });

  it("refuses a directory holding only another runtime's file, and names every file looked for when it holds none", async () => {
    const tf = await versionDir('tf-only', ['model.json']);
    expect(await failure(chooseEngine(where, { dir: tf }, defaultDeclaredConfig(), [onnxEngine]))).toMatchObject({
      code: 'SIBYL_PLATFORM_NOT_SERVED',
      message: expect.stringContaining("'model.json' (backend 'tfjs') is not served here"),
    });
    const empty = await versionDir('empty', ['labels.txt']);
    const missing = await failure(chooseEngine(where, { dir: empty }, defaultDeclaredConfig(), [onnxEngine, tfLike]));
    expect(missing.code).toBe('SIBYL_MODEL_FILE_MISSING');
    expect(missing.message).toContain(join(empty, 'model.onnx'));
    expect(missing.message).toContain(join(empty, 'model.json'));
  });

  it("takes the config's default_model_filename, by its extension", async () => {
    const dir = await versionDir('renamed', ['classifier.json']);
    const config = parseModelConfig('m', 'config.json', { default_model_filename: 'classifier.json' });
    expect(await chooseEngine(where, { dir }, config, [onnxEngine, tfLike])).toEqual({ engine: tfLike, file: join(dir, 'classifier.json') });
    const absent = parseModelConfig('m', 'config.json', { default_model_filename: 'other.onnx' });
    expect((await failure(chooseEngine(where, { dir }, absent, [onnxEngine, tfLike]))).code).toBe('SIBYL_MODEL_FILE_MISSING');
  });
});
