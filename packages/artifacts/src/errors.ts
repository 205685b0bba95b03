/**
 * The artifact store's coded errors. `what` arguments name the artifact as the caller knows it (the
 * upload's filename, or `artifact <sha256>`); archive errors name the offending entry as it is written
 * in the archive, so the author can find it.
 */
import { defineError } from '@sibyl/protocol';

// ---- options ------------------------------------------------------------------------------------

export const optionInvalid = defineError(
  'SIBYL_ARTIFACT_OPTION_INVALID',
  'INVALID_ARGUMENT',
  'An option of the artifact store, or of one upload, is missing or out of range.',
  (option: string, rule: string, value: unknown) => `artifact option '${option}' ${rule} (got ${String(value)})`,
);

// ---- names --------------------------------------------------------------------------------------

export const hashInvalid = defineError(
  'SIBYL_ARTIFACT_HASH_INVALID',
  'INVALID_ARGUMENT',
  'An artifact address is not a sha256 written as 64 lowercase hexadecimal digits.',
  (field: string, value: string) =>
    `${field} '${value.length > 80 ? `${value.slice(0, 80)}...` : value}' is not a sha256: expected 64 lowercase hex digits`,
);

export const filenameInvalid = defineError(
  'SIBYL_ARTIFACT_FILENAME_INVALID',
  'INVALID_ARGUMENT',
  'The filename of an upload is empty, too long, or not a single path segment.',
  (filename: string, why: string) => `filename '${filename}' is invalid: ${why}`,
);

// ---- uploads ------------------------------------------------------------------------------------

export const artifactTooLarge = defineError(
  'SIBYL_ARTIFACT_TOO_LARGE',
  'PAYLOAD_TOO_LARGE',
  'An upload is larger than the store accepts (maxArtifactBytes).',
  (what: string, limitBytes: number) => `${what}: upload exceeds the limit of ${limitBytes} bytes`,
);

export const hashMismatch = defineError(
  'SIBYL_ARTIFACT_HASH_MISMATCH',
  'INVALID_ARGUMENT',
  'The sha256 of the received bytes differs from the one the caller announced.',
  (what: string, expected: string, actual: string) =>
    `${what}: sha256 mismatch: expected ${expected}, received bytes hash to ${actual}`,
);

export const sizeMismatch = defineError(
  'SIBYL_ARTIFACT_SIZE_MISMATCH',
  'INVALID_ARGUMENT',
  'The number of bytes received differs from the size the caller announced.',
  (what: string, expected: number, actual: number) =>
    `${what}: size mismatch: expected ${expected} bytes, received ${actual}`,
);

export const uploadIncomplete = defineError(
  'SIBYL_ARTIFACT_UPLOAD_INCOMPLETE',
  'INVALID_ARGUMENT',
  'The upload stream failed or was closed before its end (for example, the client went away).',
  (what: string, receivedBytes: number, reason: string) =>
    `${what}: upload ended after ${receivedBytes} bytes without completing: ${reason}`,
);

// ---- archives -----------------------------------------------------------------------------------

export const archiveCorrupt = defineError(
  'SIBYL_ARTIFACT_ARCHIVE_CORRUPT',
  'INVALID_ARGUMENT',
  'A .tar.gz upload is not gzip, is truncated, or holds a malformed tar stream.',
  (what: string, reason: string) => `${what}: not a readable .tar.gz archive: ${reason}`,
);

export const archiveEntryUnsafe = defineError(
  'SIBYL_ARTIFACT_ARCHIVE_ENTRY_UNSAFE',
  'INVALID_ARGUMENT',
  'An archive entry has a path that could escape the artifact directory (absolute, `..`, backslash, NUL).',
  (what: string, entry: string, why: string) => `${what}: archive entry '${entry}' is refused: ${why}`,
);

export const archiveEntryType = defineError(
  'SIBYL_ARTIFACT_ARCHIVE_ENTRY_TYPE',
  'INVALID_ARGUMENT',
  'An archive entry is not a regular file or a directory (symlink, hard link, device, fifo, ...).',
  (what: string, entry: string, type: string) =>
    `${what}: archive entry '${entry}' is a ${type}: only regular files and directories are accepted`,
);

export const archiveEntryDuplicate = defineError(
  'SIBYL_ARTIFACT_ARCHIVE_ENTRY_DUPLICATE',
  'INVALID_ARGUMENT',
  'Two archive entries name the same path, or a file and a directory share a path.',
  (what: string, entry: string, why: string) => `${what}: archive entry '${entry}' is refused: ${why}`,
);

export const archiveTooLarge = defineError(
  'SIBYL_ARTIFACT_ARCHIVE_TOO_LARGE',
  'PAYLOAD_TOO_LARGE',
  'The files of an archive add up to more than maxExtractedBytes, or it has more than maxArchiveEntries entries.',
  (what: string, entry: string, why: string) => `${what}: archive entry '${entry}' is refused: ${why}`,
);

export const archiveEmpty = defineError(
  'SIBYL_ARTIFACT_ARCHIVE_EMPTY',
  'INVALID_ARGUMENT',
  'A .tar.gz upload contains no regular file.',
  (what: string) => `${what}: archive contains no files`,
);

export const entryPointMissing = defineError(
  'SIBYL_ARTIFACT_ENTRY_POINT_MISSING',
  'INVALID_ARGUMENT',
  'A directory artifact does not contain any of the model entry points the caller requires.',
  (what: string, entryPoints: readonly string[]) =>
    `${what}: archive contains none of the model entry points ${entryPoints.map((e) => `'${e}'`).join(', ')}`,
);

// ---- reads --------------------------------------------------------------------------------------

export const artifactNotFound = defineError(
  'SIBYL_ARTIFACT_NOT_FOUND',
  'NOT_FOUND',
  'No artifact with this sha256 is in the store (or on the server asked for it).',
  (sha256: string, where = 'the artifact store') => `artifact ${sha256} not found in ${where}`,
);

export const fetchFailed = defineError(
  'SIBYL_ARTIFACT_FETCH_FAILED',
  'UNAVAILABLE',
  'Downloading an artifact from another host failed or delivered bytes that do not match its sha256.',
  (url: string, reason: string) => `fetching ${url} failed: ${reason}`,
);
