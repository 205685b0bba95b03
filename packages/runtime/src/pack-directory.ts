/**
 * A version directory as one artifact: a `.tar.gz` whose bytes depend only on the files' paths and
 * contents (sorted entries, zero times and owners, fixed modes), so importing the same directory
 * twice gives the same sha256 and no new version. Symbolic links are followed; anything that is
 * neither a file nor a directory is left out.
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';

interface Entry {
  /** '/'-separated, relative to the packed directory. */
  name: string;
  path: string;
  type: 'file' | 'directory';
  size: number;
}

async function walk(root: string, relative = ''): Promise<Entry[]> {
  const out: Entry[] = [];
  const names = (await readdir(join(root, relative))).sort();
  for (const name of names) {
    const rel = relative === '' ? name : `${relative}/${name}`;
    const path = join(root, rel);
    const info = await stat(path).catch(() => undefined);
    if (info?.isDirectory()) {
      out.push({ name: rel, path, type: 'directory', size: 0 });
      out.push(...(await walk(root, rel)));
    } else if (info?.isFile()) {
      out.push({ name: rel, path, type: 'file', size: info.size });
    }
  }
  return out;
}

/** Streams the deterministic `.tar.gz` of `dir`; a read error destroys the stream with it. */
export function packDirectory(dir: string): Readable {
  const pack = tar.pack();
  const out = new PassThrough();
  const epoch = new Date(0);
  const fill = async () => {
    for (const entry of await walk(dir)) {
      const header = { name: entry.name, mtime: epoch, uid: 0, gid: 0, uname: '', gname: '' };
      if (entry.type === 'directory') {
        pack.entry({ ...header, type: 'directory', mode: 0o755 });
        continue;
      }
      await pipeline(createReadStream(entry.path), pack.entry({ ...header, type: 'file', mode: 0o644, size: entry.size }));
    }
    pack.finalize();
  };
  fill().catch((err: unknown) => pack.destroy(err instanceof Error ? err : new Error(String(err))));
  pipeline(pack, createGzip({ level: 1 }), out).catch((err: unknown) => out.destroy(err instanceof Error ? err : new Error(String(err))));
  return out;
}
