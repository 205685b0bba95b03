/**
 * A minimal writer of gzipped POSIX ustar archives, enough to pack the files of a repository load
 * (`file:<version>/<path>` parameters) into one directory artifact. Entries are regular files in the
 * order given, mode 0644, mtime 0 (the same files always give the same bytes, so the same sha256).
 * Names are written as given; checking them is the caller's job (the artifact store refuses unsafe
 * ones on extraction).
 */
import { gzipSync } from 'node:zlib';

export interface TarFile {
  /** '/'-separated path inside the archive; at most 255 bytes, with a '/' within the last 100. */
  name: string;
  content: Uint8Array;
}

const BLOCK = 512;

export function tarGz(files: readonly TarFile[]): Buffer {
  const blocks: Buffer[] = [];
  for (const file of files) {
    blocks.push(header(file.name, file.content.byteLength));
    blocks.push(Buffer.from(file.content.buffer, file.content.byteOffset, file.content.byteLength));
    const pad = (BLOCK - (file.content.byteLength % BLOCK)) % BLOCK;
    if (pad > 0) blocks.push(Buffer.alloc(pad));
  }
  blocks.push(Buffer.alloc(2 * BLOCK));
  return gzipSync(Buffer.concat(blocks));
}

function header(name: string, size: number): Buffer {
  const block = Buffer.alloc(BLOCK);
  const [prefix, base] = splitName(name);
  block.write(base, 0, 100, 'utf8');
  writeOctal(block, 100, 8, 0o644);
  writeOctal(block, 108, 8, 0);
  writeOctal(block, 116, 8, 0);
  writeOctal(block, 124, 12, size);
  writeOctal(block, 136, 12, 0);
  block.fill(0x20, 148, 156); // the checksum counts its own field as spaces
  block.write('0', 156, 1, 'ascii');
  block.write('ustar\u000000', 257, 8, 'binary');
  block.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'ascii');
  return block;
}

/** ustar keeps up to 100 bytes in `name` and 155 more, before a '/', in `prefix`. */
function splitName(name: string): [string, string] {
  if (Buffer.byteLength(name) <= 100) return ['', name];
  for (let i = name.indexOf('/'); i !== -1; i = name.indexOf('/', i + 1)) {
    const prefix = name.slice(0, i);
    const base = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(base) <= 100 && base !== '') return [prefix, base];
  }
  throw new RangeError(`tar entry name is too long for ustar: ${name}`);
}

function writeOctal(block: Buffer, offset: number, length: number, value: number): void {
  if (value > 8 ** (length - 1) - 1) throw new RangeError(`tar header field of ${length} bytes cannot hold ${value}`);
  block.write(`${value.toString(8).padStart(length - 1, '0')}\u0000`, offset, length, 'ascii');
}
