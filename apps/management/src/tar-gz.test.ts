import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createArtifactStore, type ArtifactStore } from '@sibyl/artifacts';
import { tarGz } from './tar-gz.js';

describe('tarGz', () => {
  let dir: string;
  let store: ArtifactStore;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sibyl-tar-'));
    store = await createArtifactStore({ dir });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const files = [
    { name: 'model.onnx', content: Buffer.from('model bytes') },
    { name: 'empty.txt', content: Buffer.alloc(0) },
    { name: 'exact/block.bin', content: Buffer.alloc(512, 9) },
    { name: `${'d'.repeat(120)}/${'f'.repeat(90)}.bin`, content: Buffer.from('a long path, split into prefix and name') },
  ];

  it('writes an archive the artifact store extracts file for file', async () => {
    const stored = await store.put(Readable.from([tarGz(files)]), { filename: 'files.tar.gz' });
    expect(stored.format).toBe('tar.gz');
    expect(stored.format === 'tar.gz' && stored.files).toEqual(files.map((f) => f.name).sort());
    for (const file of files) expect((await readFile(path.join(stored.path, file.name))).equals(file.content)).toBe(true);
  });

  it('gives the same bytes for the same files', () => {
    expect(tarGz(files).equals(tarGz(files))).toBe(true);
  });

  it('is read by tar(1) where it is installed', () => {
    let listing: string;
    try {
      listing = execFileSync('tar', ['-tzf', '-'], { input: tarGz(files), encoding: 'utf8' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    expect(listing.trim().split('\n')).toEqual(files.map((f) => f.name));
  });

  it('refuses a name ustar cannot hold', () => {
    expect(() => tarGz([{ name: 'x'.repeat(101), content: Buffer.alloc(1) }])).toThrow(/too long for ustar/);
  });
});
