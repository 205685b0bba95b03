/**
 * The artifact store's options, declared once with their units and defaults, validated, then frozen.
 */
import path from 'node:path';
import { optionInvalid } from './errors.js';

export interface ArtifactStoreOptions {
  /**
   * Root directory of the store. It belongs to one process: opening the store removes every
   * leftover in `<dir>/tmp/`.
   */
  dir: string;
  /** Largest upload accepted, in bytes (the archive itself for `.tar.gz`). Default 2 GiB. */
  maxArtifactBytes?: number;
  /** Largest total size of the files extracted from one archive, in bytes. Default: `maxArtifactBytes`. */
  maxExtractedBytes?: number;
  /** Most entries (files and directories) one archive may hold. Default 10 000. */
  maxArchiveEntries?: number;
}

export type ResolvedStoreOptions = Readonly<Required<ArtifactStoreOptions>>;

const DEFAULT_MAX_ARTIFACT_BYTES = 2 * 1024 ** 3;
const DEFAULT_MAX_ARCHIVE_ENTRIES = 10_000;

export function resolveStoreOptions(options: ArtifactStoreOptions): ResolvedStoreOptions {
  if (typeof options.dir !== 'string' || options.dir === '') {
    throw optionInvalid('dir', 'must be a non-empty path', options.dir);
  }
  const maxArtifactBytes = positiveInteger('maxArtifactBytes', options.maxArtifactBytes, DEFAULT_MAX_ARTIFACT_BYTES);
  return Object.freeze({
    dir: path.resolve(options.dir),
    maxArtifactBytes,
    maxExtractedBytes: positiveInteger('maxExtractedBytes', options.maxExtractedBytes, maxArtifactBytes),
    maxArchiveEntries: positiveInteger('maxArchiveEntries', options.maxArchiveEntries, DEFAULT_MAX_ARCHIVE_ENTRIES),
  });
}

function positiveInteger(option: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) throw optionInvalid(option, 'must be a positive integer', value);
  return value;
}
