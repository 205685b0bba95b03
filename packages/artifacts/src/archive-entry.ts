/**
 * What an archive entry may be: a regular file or a directory, at a relative path that stays inside
 * the extraction directory, named once. Everything else is refused with the entry's name as written.
 */
import type { Header } from 'tar-stream';
import { archiveEntryDuplicate, archiveEntryType, archiveEntryUnsafe } from './errors.js';

export type EntryKind = 'file' | 'directory';

/** Longest path segment most file systems accept, in bytes. */
const MAX_SEGMENT_BYTES = 255;

const REFUSED_TYPES: Readonly<Record<string, string>> = {
  symlink: 'symbolic link',
  link: 'hard link',
  'character-device': 'character device',
  'block-device': 'block device',
  fifo: 'fifo',
};

/** The kind of a tar entry, or a refusal naming it (symlinks, hard links, devices, fifos, unknown types). */
export function entryKind(what: string, header: Header): EntryKind {
  // The declared union is not the whole story: unknown typeflags arrive as null.
  const type: string | null = header.type;
  switch (type) {
    case 'file':
    case 'contiguous-file':
      return 'file';
    case 'directory':
      return 'directory';
    default: {
      const refused = type === null ? 'entry of unknown type' : (REFUSED_TYPES[type] ?? `entry of type '${type}'`);
      throw archiveEntryType(what, header.name, refused);
    }
  }
}

/**
 * The entry's path relative to the extraction directory, as '/'-joined segments without `.` or empty
 * ones (`./a//b/` is `a/b`); '' for the archive's root directory entry (`./`).
 */
export function normalizeEntryPath(what: string, name: string): string {
  const refuse = (why: string) => archiveEntryUnsafe(what, name, why);
  if (name.includes('\0')) throw refuse('its path contains a NUL byte');
  // A backslash is a separator on Windows: `..\x` must not become a way out there.
  if (name.includes('\\')) throw refuse('its path contains a backslash');
  if (name.startsWith('/')) throw refuse('its path is absolute');
  if (/^[A-Za-z]:/.test(name)) throw refuse('its path starts with a drive letter');
  const segments = name.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.includes('..')) throw refuse("its path contains a '..' segment");
  if (segments.some((segment) => Buffer.byteLength(segment) > MAX_SEGMENT_BYTES)) {
    throw refuse(`a path segment is longer than ${MAX_SEGMENT_BYTES} bytes`);
  }
  return segments.join('/');
}

/**
 * The paths an archive has declared so far. A path is declared once; a file cannot sit where a
 * directory is (declared, or implied by a deeper entry) nor under a file.
 */
export class EntryPaths {
  // 'implied' directories exist because a deeper entry needs them; one explicit entry may still name them.
  private readonly kinds = new Map<string, EntryKind | 'implied'>();

  constructor(private readonly what: string) {}

  add(name: string, relative: string, kind: EntryKind): void {
    const segments = relative.split('/');
    for (let depth = 1; depth < segments.length; depth++) {
      const parent = segments.slice(0, depth).join('/');
      const existing = this.kinds.get(parent);
      if (existing === 'file') throw this.conflict(name, `'${parent}' is a file, not a directory`);
      if (existing === undefined) this.kinds.set(parent, 'implied');
    }
    const existing = this.kinds.get(relative);
    if (existing === undefined || (existing === 'implied' && kind === 'directory')) {
      this.kinds.set(relative, kind);
      return;
    }
    if (existing === kind) throw this.conflict(name, `'${relative}' appears more than once in the archive`);
    throw this.conflict(name, `'${relative}' is both a file and a directory in the archive`);
  }

  /** Every directory, declared or implied, each after its parent. */
  directories(): string[] {
    return [...this.kinds].filter(([, kind]) => kind !== 'file').map(([relative]) => relative);
  }

  private conflict(name: string, why: string) {
    return archiveEntryDuplicate(this.what, name, why);
  }
}
