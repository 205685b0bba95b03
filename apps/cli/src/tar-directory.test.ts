import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { packDirectory, tarHeader } from './tar-directory.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sibyl-cli-tar-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function modelDir(): Promise<string> {
  const model = join(dir, 'tfjs');
  await mkdir(join(model, 'shards'), { recursive: true });
  await writeFile(join(model, 'model.json'), '{"format":"layers-model"}');
  await writeFile(join(model, 'shards', 'group1-shard1of1.bin'), Buffer.alloc(1000, 7));
  return model;
}

describe('packDirectory', () => {
  it('writes a .tar.gz that tar reads back, paths relative, files intact', async () => {
    const model = await modelDir();
    const archive = join(dir, 'tfjs.tar.gz');
    expect(await packDirectory(model, archive)).toEqual({ files: 2, bytes: 1025 });
    expect(execFileSync('tar', ['-tzf', archive], { encoding: 'utf8' }).split('\n').filter(Boolean)).toEqual([
      'model.json',
      'shards/',
      'shards/group1-shard1of1.bin',
    ]);
    const out = join(dir, 'out');
    await mkdir(out);
    execFileSync('tar', ['-xzf', archive, '-C', out]);
    expect(await readFile(join(out, 'shards', 'group1-shard1of1.bin'))).toEqual(Buffer.alloc(1000, 7));
  });

  it('is reproducible: the same files give the same sha256', async () => {
    const model = await modelDir();
    const sha = async (name: string) => {
      await packDirectory(model, join(dir, name));
      return createHash('sha256').update(await readFile(join(dir, name))).digest('hex');
    };
    expect(await sha('a.tar.gz')).toBe(await sha('b.tar.gz'));
  });

  it('refuses symbolic links and empty directories, naming the path', async () => {
    const model = await modelDir();
    await symlink('/etc/passwd', join(model, 'link'));
    await expect(packDirectory(model, join(dir, 'x.tar.gz'))).rejects.toThrow(`${join(model, 'link')}: only regular files and directories can be uploaded (this is a symbolic link)`);
    await mkdir(join(dir, 'empty'));
    await expect(packDirectory(join(dir, 'empty'), join(dir, 'y.tar.gz'))).rejects.toThrow('the directory has no files to upload');
  });

  it('splits long paths into the ustar prefix', () => {
    const name = `${'d'.repeat(120)}/${'f'.repeat(90)}`;
    const header = tarHeader({ name, kind: 'file', size: 1, executable: false });
    expect(header.subarray(0, 100).toString('utf8').replace(/\0+$/, '')).toBe('f'.repeat(90));
    expect(header.subarray(345, 500).toString('utf8').replace(/\0+$/, '')).toBe('d'.repeat(120));
  });
});
