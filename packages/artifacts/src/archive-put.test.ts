/**
 * Directory artifacts: `.tar.gz` uploads through `put()`, the happy path and every kind of archive
 * the store must refuse, each of which must leave the store exactly as empty as it was.
 */
import { readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SibylError } from '@sibyl/protocol';
import { createArtifactStore, type ArtifactStore, type DirectoryArtifact } from './artifact-store.js';
import {
  EMPTY_STORE_TREE,
  pseudoRandomBytes,
  sha256Of,
  streamOf,
  tarGzOf,
  tarOf,
  tempDir,
  treeOf,
  type EntrySpec,
} from './test-support/fixtures.js';

let dir: string;
let cleanup: () => Promise<void>;
let store: ArtifactStore;
const LIMIT = 1024 * 1024;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  store = await createArtifactStore({ dir, maxArtifactBytes: LIMIT });
});
afterEach(async () => cleanup());

async function failure(promise: Promise<unknown>): Promise<SibylError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SibylError);
  return err as SibylError;
}

const weights = pseudoRandomBytes(200_000, 11);
const TFJS_MODEL: EntrySpec[] = [
  { name: 'model/', type: 'directory' },
  { name: 'model/model.json', content: '{"format":"layers-model"}' },
  { name: 'model/weights/group1-shard1of2.bin', content: weights.subarray(0, 100_000) },
  { name: 'model/weights/group1-shard2of2.bin', content: weights.subarray(100_000) },
  { name: 'model/weights/deeper/still/notes.txt', content: 'nested' },
  { name: 'model/empty-dir/', type: 'directory' },
];

describe('put: .tar.gz directory artifacts', () => {
  it('extracts nested directories once into <sha256>.d beside the archive', async () => {
    const archive = await tarGzOf(TFJS_MODEL);
    const sha256 = sha256Of(archive);
    const stored = await store.put(streamOf(archive), { filename: 'model.tar.gz', expectedSha256: sha256 });
    const shard = path.join(dir, 'sha256', sha256.slice(0, 2));
    expect(stored).toEqual({
      format: 'tar.gz',
      sha256,
      size: archive.length,
      path: path.join(shard, `${sha256}.d`),
      archivePath: path.join(shard, sha256),
      files: [
        'model/model.json',
        'model/weights/deeper/still/notes.txt',
        'model/weights/group1-shard1of2.bin',
        'model/weights/group1-shard2of2.bin',
      ],
      filename: 'model.tar.gz',
      alreadyStored: false,
    });
    expect(await readFile(path.join(stored.path, 'model/model.json'), 'utf8')).toBe('{"format":"layers-model"}');
    const shards = await Promise.all([1, 2].map((n) => readFile(path.join(stored.path, `model/weights/group1-shard${n}of2.bin`))));
    expect(sha256Of(Buffer.concat(shards))).toBe(sha256Of(weights));
    expect((await stat(path.join(stored.path, 'model/empty-dir'))).isDirectory()).toBe(true);
    expect(sha256Of(await readFile(path.join(shard, sha256)))).toBe(sha256);
    expect(await treeOf(path.join(dir, 'tmp'))).toEqual([]);
    const { filename: _filename, alreadyStored: _alreadyStored, ...info } = stored;
    expect(await store.stat(sha256)).toEqual(info);
  });

  it('ignores modes in the archive: files 0644, directories 0755', async () => {
    const archive = await tarGzOf([
      { name: 'bin/', type: 'directory', mode: 0o777 },
      { name: 'bin/model.onnx', content: 'x', mode: 0o4777 },
    ]);
    const stored = await store.put(streamOf(archive), { filename: 'm.tgz' });
    expect((await stat(path.join(stored.path, 'bin/model.onnx'))).mode & 0o7777).toBe(0o644);
    expect((await stat(path.join(stored.path, 'bin'))).mode & 0o7777).toBe(0o755);
  });

  it('normalizes ./ prefixes and accepts the root entry ./', async () => {
    const archive = await tarGzOf([
      { name: './', type: 'directory' },
      { name: './model.onnx', content: 'onnx' },
      { name: './sub//config.pbtxt', content: 'cfg' },
    ]);
    const stored = (await store.put(streamOf(archive), { filename: 'm.tar.gz', entryPoints: ['model.onnx'] })) as DirectoryArtifact;
    expect(stored.files).toEqual(['model.onnx', 'sub/config.pbtxt']);
  });

  it('recognizes gzip content by its magic bytes whatever the filename', async () => {
    const archive = await tarGzOf([{ name: 'model.json', content: '{}' }]);
    const stored = await store.put(streamOf(archive), { filename: 'upload.bin' });
    expect(stored.format).toBe('tar.gz');
  });

  it('is idempotent for archives, and finishes a put that crashed between its two renames', async () => {
    const archive = await tarGzOf([{ name: 'model.json', content: '{}' }]);
    const first = await store.put(streamOf(archive), { filename: 'm.tar.gz' });
    const again = await store.put(streamOf(archive), { filename: 'm.tar.gz' });
    expect(again).toEqual({ ...first, alreadyStored: true });
    // A crash after the directory was renamed into place but before the archive was: the archive is
    // missing, so the artifact does not exist, and the next put completes it with the directory there.
    await rm(store.pathOf(first.sha256));
    expect(await store.has(first.sha256)).toBe(false);
    const completed = await store.put(streamOf(archive), { filename: 'm.tar.gz' });
    expect(completed).toEqual({ ...first, alreadyStored: false });
    expect(await store.has(first.sha256)).toBe(true);
  });

  it('extracts concurrent puts of the same archive once', async () => {
    const archive = await tarGzOf(TFJS_MODEL);
    const results = await Promise.all([1, 2, 3].map(() => store.put(streamOf(archive), { filename: 'm.tar.gz' })));
    expect(new Set(results.map((r) => r.path)).size).toBe(1);
    const shard = `sha256/${sha256Of(archive).slice(0, 2)}/`;
    const tree = await treeOf(dir);
    const shardChildren = tree.filter((p) => p.startsWith(shard) && p.slice(shard.length).split('/').filter(Boolean).length === 1);
    expect(shardChildren).toEqual([`${shard}${sha256Of(archive)}`, `${shard}${sha256Of(archive)}.d/`]);
    expect(await treeOf(path.join(dir, 'tmp'))).toEqual([]);
  });

  it('refuses a directory without a required entry point, and keeps nothing', async () => {
    const archive = await tarGzOf([{ name: 'weights.bin', content: 'w' }]);
    const err = await failure(store.put(streamOf(archive), { filename: 'm.tar.gz', entryPoints: ['model.onnx', 'model.json'] }));
    expect(err.code).toBe('SIBYL_ARTIFACT_ENTRY_POINT_MISSING');
    expect(err.message).toContain("'model.onnx', 'model.json'");
    expect(await treeOf(dir)).toEqual(EMPTY_STORE_TREE);
  });

  it('never interleaves puts and removes of the same bytes: the artifact is whole or absent', async () => {
    const archive = await tarGzOf(TFJS_MODEL);
    const sha256 = sha256Of(archive);
    const operations: Promise<unknown>[] = [];
    for (let i = 0; i < 6; i++) {
      operations.push(store.put(streamOf(archive), { filename: 'm.tar.gz' }), store.remove(sha256));
    }
    operations.push(store.put(streamOf(archive), { filename: 'm.tar.gz' }));
    await Promise.all(operations);
    const info = await store.stat(sha256);
    expect(info.format).toBe('tar.gz');
    expect(info.format === 'tar.gz' && info.files.length).toBe(4);
    expect(await treeOf(path.join(dir, 'tmp'))).toEqual([]);
  });

  it('remove deletes both the archive and its directory', async () => {
    const stored = await store.put(streamOf(await tarGzOf(TFJS_MODEL)), { filename: 'm.tar.gz' });
    expect(await store.remove(stored.sha256)).toBe(true);
    expect(await treeOf(dir)).toEqual([...EMPTY_STORE_TREE, `sha256/${stored.sha256.slice(0, 2)}/`].sort());
  });
});

describe('put: archives refused, leaving nothing behind', () => {
  const refused: Array<[string, () => Promise<Buffer>, string, string | RegExp]> = [
    ['an absolute path', () => tarGzOf([{ name: '/etc/model.onnx', content: 'x' }]), 'SIBYL_ARTIFACT_ARCHIVE_ENTRY_UNSAFE', "'/etc/model.onnx' is refused: its path is absolute"],
    ['../x', () => tarGzOf([{ name: '../x', content: 'x' }]), 'SIBYL_ARTIFACT_ARCHIVE_ENTRY_UNSAFE', "'../x' is refused: its path contains a '..' segment"],
    ['a/../../x', () => tarGzOf([{ name: 'a/../../x', content: 'x' }]), 'SIBYL_ARTIFACT_ARCHIVE_ENTRY_UNSAFE', "'a/../../x'"],
    ['a/.. (even one that stays inside)', () => tarGzOf([{ name: 'a/../model.onnx', content: 'x' }]), 'SIBYL_ARTIFACT_ARCHIVE_ENTRY_UNSAFE', "'a/../model.onnx'"],
    ['a directory ../', () => tarGzOf([{ name: '../', type: 'directory' }]), 'SIBYL_ARTIFACT_ARCHIVE_ENTRY_UNSAFE', "'../'"],
    ['a backslash path', () => tarGzOf([{ name: '..\\x', content: 'x' }]), 'SIBYL_ARTIFACT_ARCHIVE_ENTRY_UNSAFE', 'backslash'],
    ['a drive letter', () => tarGzOf([{ name: 'C:/x', content: 'x' }]), 'SIBYL_ARTIFACT_ARCHIVE_ENTRY_UNSAFE', 'drive letter'],
    ['a long ../ path (pax header)', () => tarGzOf([{ name: `${'d/'.repeat(80)}${'../'.repeat(81)}x`, content: 'x' }]), 'SIBYL_ARTIFACT_ARCHIVE_ENTRY_UNSAFE', "'..' segment"],
    ['a symlink', () => tarGzOf([{ name: 'model.onnx', type: 'symlink', linkname: '/etc/passwd' }]), 'SIBYL_ARTIFACT_ARCHIVE_ENTRY_TYPE', "'model.onnx' is a symbolic link"],
    ['a hard link', () => tarGzOf([{ name: 'a', content: 'x' }, { name: 'model.onnx', type: 'link', linkname: 'a' }]), 'SIBYL_ARTIFACT_ARCHIVE_ENTRY_TYPE', "'model.onnx' is a hard link"],
    ['a character device', () => tarGzOf([{ name: 'null', type: 'character-device', devmajor: 1, devminor: 3 }]), 'SIBYL_ARTIFACT_ARCHIVE_ENTRY_TYPE', "'null' is a character device"],
    ['a block device', () => tarGzOf([{ name: 'sda', type: 'block-device', devmajor: 8, devminor: 0 }]), 'SIBYL_ARTIFACT_ARCHIVE_ENTRY_TYPE', "'sda' is a block device"],
    ['a fifo', () => tarGzOf([{ name: 'pipe', type: 'fifo' }]), 'SIBYL_ARTIFACT_ARCHIVE_ENTRY_TYPE', "'pipe' is a fifo"],
    ['a duplicate file', () => tarGzOf([{ name: 'model.onnx', content: 'a' }, { name: './model.onnx', content: 'b' }]), 'SIBYL_ARTIFACT_ARCHIVE_ENTRY_DUPLICATE', "'./model.onnx' is refused: 'model.onnx' appears more than once"],
    ['a duplicate directory', () => tarGzOf([{ name: 'd/', type: 'directory' }, { name: 'd', type: 'directory' }]), 'SIBYL_ARTIFACT_ARCHIVE_ENTRY_DUPLICATE', 'more than once'],
    ['a file where a directory is', () => tarGzOf([{ name: 'd/model.onnx', content: 'a' }, { name: 'd', content: 'b' }]), 'SIBYL_ARTIFACT_ARCHIVE_ENTRY_DUPLICATE', 'both a file and a directory'],
    ['a file under a file', () => tarGzOf([{ name: 'm', content: 'a' }, { name: 'm/x', content: 'b' }]), 'SIBYL_ARTIFACT_ARCHIVE_ENTRY_DUPLICATE', "'m' is a file, not a directory"],
    [
      'files past the extracted-size limit (a gzip bomb)',
      () => tarGzOf([{ name: 'a.bin', content: Buffer.alloc(LIMIT / 2) }, { name: 'b.bin', content: Buffer.alloc(LIMIT / 2 + 1) }]),
      'SIBYL_ARTIFACT_ARCHIVE_TOO_LARGE',
      "'b.bin' is refused: the extracted files exceed the limit of 1048576 bytes",
    ],
    ['truncated gzip', async () => (await tarGzOf(TFJS_MODEL)).subarray(0, 30_000), 'SIBYL_ARTIFACT_ARCHIVE_CORRUPT', 'the gzip stream is truncated'],
    ['a truncated tar inside whole gzip', async () => gzipSync((await tarOf(TFJS_MODEL)).subarray(0, 50_000)), 'SIBYL_ARTIFACT_ARCHIVE_CORRUPT', 'Unexpected end of data'],
    ['a corrupt tar header', async () => gzipSync(Buffer.alloc(1024, 0x41)), 'SIBYL_ARTIFACT_ARCHIVE_CORRUPT', /Invalid tar header/],
    ['gzip with a flipped byte', async () => flipByte(await tarGzOf(TFJS_MODEL), 2000), 'SIBYL_ARTIFACT_ARCHIVE_CORRUPT', 'not a readable .tar.gz'],
    ['not gzip (a plain tar named .tar.gz)', () => tarOf([{ name: 'model.onnx', content: 'x' }]), 'SIBYL_ARTIFACT_ARCHIVE_CORRUPT', 'not gzip'],
    ['an archive without files', () => tarGzOf([{ name: 'empty/', type: 'directory' }]), 'SIBYL_ARTIFACT_ARCHIVE_EMPTY', 'contains no files'],
  ];

  it.each(refused)('%s', async (_kind, build, code, message) => {
    const archive = await build();
    const err = await failure(store.put(streamOf(archive), { filename: 'evil.tar.gz' }));
    expect(err.code).toBe(code);
    expect(err.message).toMatch(typeof message === 'string' ? escapeRegExp(message) : message);
    expect(err.message).toContain("upload 'evil.tar.gz'");
    expect(err.httpStatus).toBe(code === 'SIBYL_ARTIFACT_ARCHIVE_TOO_LARGE' ? 413 : 400);
    expect(await treeOf(dir)).toEqual(EMPTY_STORE_TREE);
  });

  it('refuses a malicious entry after good ones, removing what was already extracted', async () => {
    const archive = await tarGzOf([...TFJS_MODEL, { name: 'model/escape', type: 'symlink', linkname: '../../..' }]);
    const err = await failure(store.put(streamOf(archive), { filename: 'm.tar.gz' }));
    expect(err.code).toBe('SIBYL_ARTIFACT_ARCHIVE_ENTRY_TYPE');
    expect(await treeOf(dir)).toEqual(EMPTY_STORE_TREE);
  });

  it('refuses more entries than maxArchiveEntries with 413', async () => {
    const few = await createArtifactStore({ dir, maxArchiveEntries: 3 });
    const archive = await tarGzOf(['a', 'b', 'c', 'd'].map((name) => ({ name, content: '' })));
    const err = await failure(few.put(streamOf(archive), { filename: 'm.tar.gz' }));
    expect(err.code).toBe('SIBYL_ARTIFACT_ARCHIVE_TOO_LARGE');
    expect(err.message).toContain("'d' is refused: the archive has more than 3 entries");
    expect(await treeOf(dir)).toEqual(EMPTY_STORE_TREE);
  });

  it('applies maxExtractedBytes on its own when it is set below maxArtifactBytes', async () => {
    const tight = await createArtifactStore({ dir, maxArtifactBytes: LIMIT, maxExtractedBytes: 1000 });
    const archive = await tarGzOf([{ name: 'model.json', content: Buffer.alloc(1001) }]);
    expect(archive.length).toBeLessThan(1000);
    const err = await failure(tight.put(streamOf(archive), { filename: 'm.tar.gz' }));
    expect(err.code).toBe('SIBYL_ARTIFACT_ARCHIVE_TOO_LARGE');
    expect(await treeOf(dir)).toEqual(EMPTY_STORE_TREE);
  });
});

function flipByte(bytes: Buffer, at: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[at] = (copy[at] ?? 0) ^ 0xff;
  return copy;
}

function escapeRegExp(text: string): RegExp {
  return new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
}
