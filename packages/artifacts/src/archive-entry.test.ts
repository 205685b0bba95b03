import { describe, expect, it } from 'vitest';
import { EntryPaths, entryKind, normalizeEntryPath } from './archive-entry.js';
import type { Header } from 'tar-stream';

const what = "upload 'm.tar.gz'";

describe('normalizeEntryPath', () => {
  it.each([
    ['model.onnx', 'model.onnx'],
    ['./model.onnx', 'model.onnx'],
    ['a//b/./c/', 'a/b/c'],
    ['./', ''],
    ['.', ''],
    ['..a/b..', '..a/b..'],
    ['dir.../x', 'dir.../x'],
  ])('%j is %j', (name, expected) => {
    expect(normalizeEntryPath(what, name)).toBe(expected);
  });

  it.each([
    ['/abs', 'absolute'],
    ['//abs', 'absolute'],
    ['..', "'..' segment"],
    ['../x', "'..' segment"],
    ['a/../../x', "'..' segment"],
    ['a/..', "'..' segment"],
    ['a\\..\\x', 'backslash'],
    ['C:x', 'drive letter'],
    ['a\0b', 'NUL'],
    [`${'x'.repeat(256)}/y`, 'longer than 255 bytes'],
  ])('refuses %j (%s), naming the entry', (name, why) => {
    expect(() => normalizeEntryPath(what, name)).toThrow(why);
    expect(() => normalizeEntryPath(what, name)).toThrow(`archive entry '${name}' is refused`);
  });
});

describe('entryKind', () => {
  const header = (type: string | null) => ({ name: 'e', type }) as unknown as Header;
  it('accepts files, contiguous files and directories', () => {
    expect(entryKind(what, header('file'))).toBe('file');
    expect(entryKind(what, header('contiguous-file'))).toBe('file');
    expect(entryKind(what, header('directory'))).toBe('directory');
  });
  it.each([
    ['symlink', 'symbolic link'],
    ['link', 'hard link'],
    ['character-device', 'character device'],
    ['block-device', 'block device'],
    ['fifo', 'fifo'],
    [null, 'entry of unknown type'],
  ])('refuses %s', (type, described) => {
    expect(() => entryKind(what, header(type))).toThrow(`archive entry 'e' is a ${described}`);
  });
});

describe('EntryPaths', () => {
  it('accepts a directory declared after the files it holds, once', () => {
    const paths = new EntryPaths(what);
    paths.add('a/b/c', 'a/b/c', 'file');
    paths.add('a/b/', 'a/b', 'directory');
    paths.add('a/', 'a', 'directory');
    expect(() => paths.add('a', 'a', 'directory')).toThrow('appears more than once');
    expect(paths.directories()).toEqual(['a', 'a/b']);
  });

  it('refuses a path that is both a file and a directory, either way round', () => {
    const paths = new EntryPaths(what);
    paths.add('f', 'f', 'file');
    expect(() => paths.add('f/', 'f', 'directory')).toThrow('both a file and a directory');
    expect(() => paths.add('f/x', 'f/x', 'file')).toThrow("'f' is a file, not a directory");
    paths.add('d/x', 'd/x', 'file');
    expect(() => paths.add('d', 'd', 'file')).toThrow('both a file and a directory');
  });
});
