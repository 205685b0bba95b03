/**
 * The content-addressed model file store: a local directory (layout in store-layout.ts).
 *
 * Contracts:
 * - `put()` resolves only once the artifact is complete and durable (fsync, then an atomic rename);
 *   a registry row that points at it may be written after that, never before. A crash mid-upload
 *   leaves at most files in `<dir>/tmp/`, which opening the store removes.
 * - Stored artifacts are immutable: the same bytes always land at the same path, and putting them
 *   again returns the stored artifact.
 * - The directory belongs to one process; concurrent puts within it are safe, including of the same
 *   bytes.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { archiveCorrupt, artifactNotFound, entryPointMissing, filenameInvalid, hashMismatch, optionInvalid, sizeMismatch } from './errors.js';
import { extractArchive, syncDirectory } from './extract-archive.js';
import { receiveUpload } from './receive-upload.js';
import { resolveStoreOptions, type ArtifactStoreOptions, type ResolvedStoreOptions } from './store-options.js';
import { assertSha256, StoreLayout } from './store-layout.js';

export type ArtifactFormat = 'file' | 'tar.gz';

/** A model that is one file. */
export interface FileArtifact {
  format: 'file';
  sha256: string;
  /** Bytes. */
  size: number;
  /** The stored file. */
  path: string;
}

/** A model that is a directory, uploaded as a `.tar.gz`. */
export interface DirectoryArtifact {
  format: 'tar.gz';
  /** Of the archive. */
  sha256: string;
  /** Of the archive, in bytes. */
  size: number;
  /** The extracted directory: what a runtime loads. */
  path: string;
  /** The archive as uploaded: what the file server sends. */
  archivePath: string;
  /** Every regular file in the directory, relative to it, '/'-separated, sorted. */
  files: readonly string[];
}

export type ArtifactInfo = FileArtifact | DirectoryArtifact;

export type StoredArtifact = ArtifactInfo & {
  /** The filename given to `put()`. The store keeps no names: the registry does. */
  filename: string;
  /** The same bytes were already stored; nothing was written. */
  alreadyStored: boolean;
};

export interface PutOptions {
  /** The upload's name, a single path segment. `*.tar.gz` and `*.tgz` (or gzip content) are directory artifacts. */
  filename: string;
  /** Refuse the upload unless its bytes hash to this (64 lowercase hex digits). */
  expectedSha256?: string;
  /** Refuse the upload unless it is exactly this many bytes. */
  expectedSize?: number;
  /**
   * For a directory artifact: refuse it unless it contains at least one of these files (paths
   * relative to the directory, e.g. `['model.onnx', 'model.json']`). Default: no requirement.
   */
  entryPoints?: readonly string[];
}

/** An open stored file (the archive for a directory artifact); the stream holds the file open. */
export interface ArtifactReadStream {
  sha256: string;
  format: ArtifactFormat;
  /** Bytes the stream will deliver. */
  size: number;
  stream: Readable;
}

export interface ArtifactStore {
  readonly options: ResolvedStoreOptions;
  /** Streams `source` into the store; see the module contracts. */
  put(source: Readable, options: PutOptions): Promise<StoredArtifact>;
  has(sha256: string): Promise<boolean>;
  /** NOT_FOUND when absent. */
  stat(sha256: string): Promise<ArtifactInfo>;
  /** Where the stored file (the archive for a directory artifact) is or would be; no I/O. */
  pathOf(sha256: string): string;
  /** Opens the stored file (the archive for a directory artifact). NOT_FOUND when absent. */
  open(sha256: string): Promise<ArtifactReadStream>;
  /** Deletes an artifact (garbage collection); false when it was absent. */
  remove(sha256: string): Promise<boolean>;
  /** Re-hashes the stored file: true when it still matches its address. NOT_FOUND when absent. */
  verify(sha256: string): Promise<boolean>;
  /**
   * Deletes leftovers in `<dir>/tmp/` at least `olderThanMs` old (default 0: all), except the
   * work in progress of this store; returns how many were deleted.
   */
  cleanTemp(options?: { olderThanMs?: number }): Promise<number>;
}

const ARCHIVE_FILENAME = /\.(tar\.gz|tgz)$/i;
const MAX_FILENAME_BYTES = 255;

/** Opens (creating if needed) the store in `options.dir` and removes leftovers of earlier runs. */
export async function createArtifactStore(options: ArtifactStoreOptions): Promise<ArtifactStore> {
  const resolved = resolveStoreOptions(options);
  const layout = new StoreLayout(resolved.dir);
  await mkdir(layout.objectsDir, { recursive: true });
  await mkdir(layout.tempDir, { recursive: true });
  const store = new LocalArtifactStore(resolved, layout);
  await store.cleanTemp();
  return store;
}

class LocalArtifactStore implements ArtifactStore {
  /** Temp paths of puts and removes in progress: cleanTemp() leaves them alone. */
  private readonly working = new Set<string>();
  /** The tail of the queue of operations on each sha256 (see exclusive()). */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(
    readonly options: ResolvedStoreOptions,
    private readonly layout: StoreLayout,
  ) {}

  async put(source: Readable, options: PutOptions): Promise<StoredArtifact> {
    const { filename, expectedSha256, expectedSize, entryPoints } = options;
    assertFilename(filename);
    if (expectedSha256 !== undefined) assertSha256(expectedSha256, 'expectedSha256');
    if (expectedSize !== undefined && (!Number.isSafeInteger(expectedSize) || expectedSize < 0)) {
      throw optionInvalid('expectedSize', 'must be a non-negative integer', expectedSize);
    }
    const what = `upload '${filename}'`;
    const upload = this.layout.tempPath('upload');
    const extraction = this.layout.tempPath('extract');
    this.working.add(upload).add(extraction);
    try {
      const received = await receiveUpload(source, upload, what, this.options.maxArtifactBytes);
      if (expectedSize !== undefined && received.size !== expectedSize) throw sizeMismatch(what, expectedSize, received.size);
      if (expectedSha256 !== undefined && received.sha256 !== expectedSha256) {
        throw hashMismatch(what, expectedSha256, received.sha256);
      }
      const { sha256 } = received;
      const blob = this.layout.blobPath(sha256);
      const stored = (info: ArtifactInfo, alreadyStored: boolean): StoredArtifact => {
        if (info.format === 'tar.gz' && entryPoints !== undefined) assertEntryPoint(what, info.files, entryPoints);
        return { ...info, filename, alreadyStored };
      };

      // Everything from here to the commit runs alone per sha256, so puts and removes of the same
      // bytes never interleave (a second put finds the first one's artifact).
      return await this.exclusive(sha256, async () => {
        if (await exists(blob)) return stored(await this.stat(sha256), true);

        const archive = ARCHIVE_FILENAME.test(filename) || received.gzip;
        if (archive && !received.gzip) throw archiveCorrupt(what, 'not gzip: it does not start with the gzip magic bytes 1f 8b');
        let info: ArtifactInfo = { format: 'file', sha256, size: received.size, path: blob };
        if (archive) {
          const dir = this.layout.extractedDir(sha256);
          // A `.d` without its archive was left by a crash between the two renames: it is complete.
          const leftover = await listFiles(dir).catch(ignoreMissing);
          const files = leftover ?? (await extractArchive(upload, extraction, what, this.options)).files;
          if (entryPoints !== undefined) assertEntryPoint(what, files, entryPoints);
          if (leftover === undefined) {
            await this.ensureShard(sha256);
            await renameUnlessPresent(extraction, dir);
          }
          info = { format: 'tar.gz', sha256, size: received.size, path: dir, archivePath: blob, files };
        }
        // The commit point: from here on the artifact exists.
        await this.ensureShard(sha256);
        await rename(upload, blob);
        await syncDirectory(this.layout.shardDir(sha256));
        return stored(info, false);
      });
    } finally {
      await rm(upload, { force: true });
      await rm(extraction, { recursive: true, force: true });
      this.working.delete(upload);
      this.working.delete(extraction);
    }
  }

  /** Runs `task` after every earlier task on `sha256` has settled. */
  private async exclusive<T>(sha256: string, task: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(sha256) ?? Promise.resolve();
    const run = previous.then(task, task);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(sha256, tail);
    try {
      return await run;
    } finally {
      if (this.queues.get(sha256) === tail) this.queues.delete(sha256);
    }
  }

  /** Creates the artifact's shard directory, durably, if it is new. */
  private async ensureShard(sha256: string): Promise<void> {
    const created = await mkdir(this.layout.shardDir(sha256), { recursive: true });
    if (created !== undefined) await syncDirectory(this.layout.objectsDir);
  }

  async has(sha256: string): Promise<boolean> {
    assertSha256(sha256);
    return exists(this.layout.blobPath(sha256));
  }

  async stat(sha256: string): Promise<ArtifactInfo> {
    assertSha256(sha256);
    const blob = this.layout.blobPath(sha256);
    const stats = await stat(blob).catch(ignoreMissing);
    if (stats === undefined) throw artifactNotFound(sha256);
    const dir = this.layout.extractedDir(sha256);
    const files = await listFiles(dir).catch(ignoreMissing);
    if (files === undefined) return { format: 'file', sha256, size: stats.size, path: blob };
    return { format: 'tar.gz', sha256, size: stats.size, path: dir, archivePath: blob, files };
  }

  pathOf(sha256: string): string {
    assertSha256(sha256);
    return this.layout.blobPath(sha256);
  }

  async open(sha256: string): Promise<ArtifactReadStream> {
    assertSha256(sha256);
    const file = await open(this.layout.blobPath(sha256), 'r').catch(ignoreMissing);
    if (file === undefined) throw artifactNotFound(sha256);
    try {
      const { size } = await file.stat();
      const format: ArtifactFormat = (await exists(this.layout.extractedDir(sha256))) ? 'tar.gz' : 'file';
      // The stream owns the handle from here: it closes it when it ends or is destroyed.
      return { sha256, format, size, stream: file.createReadStream() };
    } catch (err) {
      await file.close();
      throw err;
    }
  }

  async remove(sha256: string): Promise<boolean> {
    assertSha256(sha256);
    return this.exclusive(sha256, () => this.removeNow(sha256));
  }

  private async removeNow(sha256: string): Promise<boolean> {
    // The archive goes first (the commit point, mirrored); the directory is moved out of the store
    // before it is deleted, so a crash never leaves a half-deleted `.d` that a later put would reuse.
    const removedFile = await unlink(this.layout.blobPath(sha256)).then(() => true, (err: unknown) => ignoreMissing(err) ?? false);
    const trash = this.layout.tempPath('trash');
    this.working.add(trash);
    try {
      const movedDir = await rename(this.layout.extractedDir(sha256), trash).then(() => true, (err: unknown) => ignoreMissing(err) ?? false);
      await rm(trash, { recursive: true, force: true });
      return removedFile || movedDir;
    } finally {
      this.working.delete(trash);
    }
  }

  async verify(sha256: string): Promise<boolean> {
    const { stream } = await this.open(sha256);
    const hash = createHash('sha256');
    await pipeline(stream, hash);
    return hash.digest('hex') === sha256;
  }

  async cleanTemp(options: { olderThanMs?: number } = {}): Promise<number> {
    const olderThanMs = options.olderThanMs ?? 0;
    const now = Date.now();
    let removed = 0;
    for (const name of await readdir(this.layout.tempDir)) {
      const entry = path.join(this.layout.tempDir, name);
      if (this.working.has(entry)) continue;
      if (olderThanMs > 0) {
        const stats = await stat(entry).catch(ignoreMissing);
        if (stats === undefined || now - stats.mtimeMs < olderThanMs) continue;
      }
      await rm(entry, { recursive: true, force: true });
      removed++;
    }
    return removed;
  }
}

function assertFilename(filename: unknown): asserts filename is string {
  if (typeof filename !== 'string' || filename === '') throw filenameInvalid(String(filename ?? ''), 'it is empty');
  if (filename === '.' || filename === '..') throw filenameInvalid(filename, 'it is not a file name');
  if (/[/\\]/.test(filename)) throw filenameInvalid(filename, 'it must be a single path segment, without / or \\');
  if (/[\x00-\x1f\x7f]/.test(filename)) throw filenameInvalid(JSON.stringify(filename), 'it contains a control character');
  if (Buffer.byteLength(filename) > MAX_FILENAME_BYTES) throw filenameInvalid(filename, `it is longer than ${MAX_FILENAME_BYTES} bytes`);
}

function assertEntryPoint(what: string, files: readonly string[], entryPoints: readonly string[]): void {
  if (!entryPoints.some((entryPoint) => files.includes(entryPoint))) throw entryPointMissing(what, entryPoints);
}

/** Renames a finished directory into place; if a concurrent put of the same bytes won, keeps theirs. */
async function renameUnlessPresent(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
  }
}

async function listFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  const walk = async (relative: string): Promise<void> => {
    for (const entry of await readdir(path.join(dir, relative), { withFileTypes: true })) {
      const child = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) await walk(child);
      else if (entry.isFile()) files.push(child);
    }
  };
  await walk('');
  return files.sort();
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    (err: unknown) => ignoreMissing(err) ?? false,
  );
}

/** undefined for ENOENT; rethrows anything else. */
function ignoreMissing(err: unknown): undefined {
  if ((err as NodeJS.ErrnoException | null)?.code === 'ENOENT') return undefined;
  throw err;
}
