/**
 * Where the store keeps things on disk:
 *
 *   <dir>/sha256/<first 2 hex>/<sha256>      the uploaded bytes (for a directory artifact: the .tar.gz)
 *   <dir>/sha256/<first 2 hex>/<sha256>.d/   a directory artifact, extracted once
 *   <dir>/tmp/                               uploads and extractions in progress, trash being deleted
 *
 * The file `<sha256>` is the commit point: it is renamed into place last, so its presence means the
 * artifact is complete (the `.d` directory, if any, was renamed into place before it).
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { hashInvalid } from './errors.js';

const SHA256_PATTERN = /^[0-9a-f]{64}$/;

/** Throws INVALID_ARGUMENT unless `value` is 64 lowercase hex digits; `field` names it in the message. */
export function assertSha256(value: unknown, field = 'sha256'): asserts value is string {
  if (typeof value !== 'string' || !SHA256_PATTERN.test(value)) throw hashInvalid(field, String(value));
}

export function isSha256(value: unknown): value is string {
  return typeof value === 'string' && SHA256_PATTERN.test(value);
}

export class StoreLayout {
  readonly objectsDir: string;
  readonly tempDir: string;

  constructor(readonly root: string) {
    this.objectsDir = path.join(root, 'sha256');
    this.tempDir = path.join(root, 'tmp');
  }

  shardDir(sha256: string): string {
    return path.join(this.objectsDir, sha256.slice(0, 2));
  }

  blobPath(sha256: string): string {
    return path.join(this.shardDir(sha256), sha256);
  }

  extractedDir(sha256: string): string {
    return `${this.blobPath(sha256)}.d`;
  }

  /** A fresh, unique name in the temp directory; `kind` says what it is, for whoever looks. */
  tempPath(kind: 'upload' | 'extract' | 'trash'): string {
    return path.join(this.tempDir, `${kind}-${Date.now()}-${randomBytes(8).toString('hex')}`);
  }
}
