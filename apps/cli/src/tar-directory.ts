/**
 * Packs a model directory (e.g. a TensorFlow.js model: model.json plus weight shards) into a
 * `.tar.gz`, the form the management API takes for directory models.
 *
 * The archive is reproducible: entries sorted, paths relative to the directory (no `./`, no leading
 * `/`), owner 0, mtime 0, so the same files give the same sha256 and a re-upload is recognised.
 * Only regular files and directories go in: the server refuses links and devices, so they are
 * refused here first, naming the path.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { inputError } from './cli-error.js';

const BLOCK = 512;
/** ustar's size field holds 11 octal digits. */
const MAX_ENTRY_BYTES = 8 ** 11 - 1;

interface Entry {
  /** Relative, `/`-separated; directories end in `/`. */
  readonly name: string;
  readonly path: string;
  readonly kind: 'file' | 'directory';
  readonly size: number;
  readonly executable: boolean;
}

async function collect(root: string, relative: string, out: Entry[]): Promise<void> {
  const names = (await readdir(join(root, relative))).sort();
  for (const name of names) {
    const rel = relative === '' ? name : `${relative}/${name}`;
    const path = join(root, rel);
    const stat = await lstat(path);
    if (stat.isDirectory()) {
      out.push({ name: `${rel}/`, path, kind: 'directory', size: 0, executable: true });
      await collect(root, rel, out);
    } else if (stat.isFile()) {
      if (stat.size > MAX_ENTRY_BYTES) throw inputError(`${path}: larger than a tar entry can hold (8 GiB)`);
      out.push({ name: rel, path, kind: 'file', size: stat.size, executable: (stat.mode & 0o111) !== 0 });
    } else {
      throw inputError(`${path}: only regular files and directories can be uploaded (this is a ${stat.isSymbolicLink() ? 'symbolic link' : 'special file'})`);
    }
  }
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

/** Splits a long name into ustar's prefix (155 bytes) and name (100 bytes) at a `/`. */
function splitName(name: string): [prefix: string, name: string] {
  if (Buffer.byteLength(name) <= 100) return ['', name];
  const trimmed = name.endsWith('/') ? name.slice(0, -1) : name;
  for (let at = trimmed.indexOf('/'); at !== -1; at = trimmed.indexOf('/', at + 1)) {
    const prefix = trimmed.slice(0, at);
    const rest = name.slice(at + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100) return [prefix, rest];
  }
  throw inputError(`${name}: path too long for a tar archive`);
}

export function tarHeader(entry: Pick<Entry, 'name' | 'kind' | 'size' | 'executable'>): Buffer {
  const header = Buffer.alloc(BLOCK);
  const [prefix, name] = splitName(entry.name);
  header.write(name, 0, 100, 'utf8');
  header.write(octal(entry.kind === 'directory' || entry.executable ? 0o755 : 0o644, 8), 100, 'ascii');
  header.write(octal(0, 8), 108, 'ascii'); // uid
  header.write(octal(0, 8), 116, 'ascii'); // gid
  header.write(octal(entry.kind === 'file' ? entry.size : 0, 12), 124, 'ascii');
  header.write(octal(0, 12), 136, 'ascii'); // mtime
  header.write('        ', 148, 'ascii'); // checksum, counted as spaces
  header.write(entry.kind === 'directory' ? '5' : '0', 156, 'ascii');
  header.write('ustar\0', 257, 'ascii');
  header.write('00', 263, 'ascii');
  header.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return header;
}

async function* archive(entries: readonly Entry[]): AsyncGenerator<Buffer> {
  for (const entry of entries) {
    yield tarHeader(entry);
    if (entry.kind !== 'file') continue;
    let written = 0;
    for await (const chunk of createReadStream(entry.path)) {
      written += (chunk as Buffer).length;
      if (written > entry.size) throw inputError(`${entry.path}: the file grew while it was being packed`);
      yield chunk as Buffer;
    }
    if (written !== entry.size) throw inputError(`${entry.path}: the file shrank while it was being packed`);
    const pad = (BLOCK - (entry.size % BLOCK)) % BLOCK;
    if (pad > 0) yield Buffer.alloc(pad);
  }
  yield Buffer.alloc(BLOCK * 2);
}

export interface PackResult {
  readonly files: number;
  /** Total size of the files packed, before compression. */
  readonly bytes: number;
}

/** Writes `dir`'s tree to `dest` as a gzip-compressed ustar archive. */
export async function packDirectory(dir: string, dest: string): Promise<PackResult> {
  const entries: Entry[] = [];
  await collect(dir, '', entries);
  const files = entries.filter((e) => e.kind === 'file');
  if (files.length === 0) throw inputError(`${dir}: the directory has no files to upload`);
  await pipeline(Readable.from(archive(entries)), createGzip(), createWriteStream(dest));
  return { files: files.length, bytes: files.reduce((sum, e) => sum + e.size, 0) };
}
