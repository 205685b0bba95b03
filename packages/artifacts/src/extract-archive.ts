/**
 * Safe extraction of a `.tar.gz` into a new directory, streamed entry by entry.
 *
 * Refused, naming the entry: paths that could leave the directory, anything but regular files and
 * directories, a path named twice, more than `maxArchiveEntries` entries, files adding up to more
 * than `maxExtractedBytes` (checked against each header before its bytes are written, so a gzip bomb
 * stops at the first entry past the limit). File modes, owners and times in the archive are ignored:
 * files are 0644, directories 0755.
 *
 * Contract: `destDir` must not exist; on failure the caller deletes it.
 */
import { createReadStream } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { isSibylError } from '@sibyl/protocol';
import { entryKind, EntryPaths, normalizeEntryPath } from './archive-entry.js';
import { archiveCorrupt, archiveEmpty, archiveEntryUnsafe, archiveTooLarge } from './errors.js';
import { writeAll } from './receive-upload.js';

export interface ExtractLimits {
  /** Largest total size of the extracted files, in bytes. */
  maxExtractedBytes: number;
  /** Most entries (files and directories) in the archive. */
  maxArchiveEntries: number;
}

export interface ExtractedArchive {
  /** Every regular file, relative to the directory, '/'-separated, sorted. */
  files: string[];
  /** Sum of the files' sizes, in bytes. */
  extractedBytes: number;
}

export async function extractArchive(
  archivePath: string,
  destDir: string,
  what: string,
  limits: ExtractLimits,
): Promise<ExtractedArchive> {
  await mkdir(destDir, { mode: 0o755 });
  const extract = tar.extract();
  const feeding = pipeline(createReadStream(archivePath), createGunzip(), extract);
  // Awaited below; this only keeps an early failure from being reported as unhandled meanwhile.
  feeding.catch(() => {});

  const paths = new EntryPaths(what);
  const files: string[] = [];
  let entries = 0;
  let extractedBytes = 0;
  let failure: unknown;
  try {
    for await (const entry of extract) {
      const { header } = entry;
      if (++entries > limits.maxArchiveEntries) {
        throw archiveTooLarge(what, header.name, `the archive has more than ${limits.maxArchiveEntries} entries`);
      }
      const kind = entryKind(what, header);
      const relative = normalizeEntryPath(what, header.name);
      if (relative === '') {
        if (kind === 'file') throw archiveEntryUnsafe(what, header.name, 'its path is empty');
        entry.resume();
        continue;
      }
      paths.add(header.name, relative, kind);
      const target = path.join(destDir, relative);
      if (kind === 'directory') {
        entry.resume();
        await mkdir(target, { recursive: true, mode: 0o755 });
        continue;
      }
      const size = header.size ?? 0;
      if (extractedBytes + size > limits.maxExtractedBytes) {
        throw archiveTooLarge(what, header.name, `the extracted files exceed the limit of ${limits.maxExtractedBytes} bytes`);
      }
      extractedBytes += size;
      await mkdir(path.dirname(target), { recursive: true, mode: 0o755 });
      await writeEntry(entry, target);
      files.push(relative);
    }
  } catch (err) {
    failure = err;
  }
  try {
    await feeding;
  } catch (err) {
    failure ??= err;
  }
  if (failure !== undefined) throw asArchiveError(failure, what);
  if (files.length === 0) throw archiveEmpty(what);
  // Directory entries must be durable before the directory is renamed into place.
  for (const dir of ['', ...paths.directories()]) await syncDirectory(path.join(destDir, dir));
  return { files: files.sort(), extractedBytes };
}

async function writeEntry(entry: AsyncIterable<unknown>, target: string): Promise<void> {
  const file = await open(target, 'wx', 0o644);
  try {
    for await (const chunk of entry) await writeAll(file, chunk as Uint8Array);
    await file.sync();
  } finally {
    await file.close();
  }
}

export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Our refusals pass through; file system errors (they carry a `syscall`) are ours, not the archive's,
 * and pass through to become INTERNAL; everything else came from gunzip or the tar parser.
 */
function asArchiveError(err: unknown, what: string): unknown {
  if (isSibylError(err)) return err;
  if (err instanceof Error && (err as NodeJS.ErrnoException).syscall !== undefined) return err;
  const reason = err instanceof Error ? err.message : String(err);
  return archiveCorrupt(what, reason === 'unexpected end of file' ? 'the gzip stream is truncated' : reason);
}
