import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeModelRepository } from './model-repository.js';

describe('writeModelRepository', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sibyl-repo-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes Triton's layout and returns the sorted relative paths", async () => {
    const written = await writeModelRepository(dir, [
      {
        name: 'm',
        versions: { '2': new Uint8Array([2]), '1': new Uint8Array([1]) },
        config: { name: 'm', max_batch_size: 0 },
        files: { 'labels.txt': 'a\nb\n' },
      },
      { name: 'n', versions: { '7': new Uint8Array([7, 7]) } },
    ]);
    expect(written).toEqual(['m/1/model.onnx', 'm/2/model.onnx', 'm/config.json', 'm/labels.txt', 'n/7/model.onnx']);
    const onDisk = (await readdir(dir, { recursive: true, withFileTypes: true }))
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
      .sort();
    expect(onDisk).toEqual(written);
    expect([...(await readFile(join(dir, 'm/2/model.onnx')))]).toEqual([2]);
    expect(await readFile(join(dir, 'm/config.json'), 'utf8')).toBe('{\n  "name": "m",\n  "max_batch_size": 0\n}\n');
    expect(await readFile(join(dir, 'm/labels.txt'), 'utf8')).toBe('a\nb\n');
  });

  it.each([
    ['a path as a model name', { name: '../x', versions: { '1': new Uint8Array() } }, /model name/],
    ['no version', { name: 'x', versions: {} }, /no version/],
    ['version 0', { name: 'x', versions: { '0': new Uint8Array() } }, /positive integer/],
    ['a non-numeric version', { name: 'x', versions: { latest: new Uint8Array() } }, /positive integer/],
    ['a config naming another model', { name: 'x', versions: { '1': new Uint8Array() }, config: { name: 'y' } }, /differs/],
    ['an extra file in a subfolder', { name: 'x', versions: { '1': new Uint8Array() }, files: { 'a/b': '' } }, /extra file/],
    ['an extra file named like a version', { name: 'x', versions: { '1': new Uint8Array() }, files: { '3': '' } }, /extra file/],
  ])('refuses %s and writes nothing', async (_what, model, message) => {
    await expect(writeModelRepository(dir, [{ name: 'ok', versions: { '1': new Uint8Array() } }, model])).rejects.toThrow(message);
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses a model given twice', async () => {
    const m = { name: 'x', versions: { '1': new Uint8Array() } };
    await expect(writeModelRepository(dir, [m, m])).rejects.toThrow(/twice/);
  });
});
