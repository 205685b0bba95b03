/**
 * Finds the models of one or more repositories in Triton's layout:
 *
 * ```
 * <root>/<model>/config.json           optional (Triton's config.pbtxt fields, as JSON)
 * <root>/<model>/<version>/model.onnx  one directory per version, a positive integer
 * ```
 *
 * A directory whose name is not a valid model name is reported and skipped; a name found in two
 * repositories is reported as a conflict for that model; hidden entries and plain files at the root
 * are ignored. Version directories are named by positive integers without leading zeros, as Triton
 * reads them; other entries of a model directory are ignored.
 */
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { isValidModelName, MODEL_NAME_RULE } from '@sibyl/protocol';
import { modelNameInvalid, repositoryUnreadable } from './errors.js';

const VERSION_DIR = /^[1-9][0-9]{0,15}$/;

export interface ScannedModel {
  name: string;
  /** The model directory (of the first repository holding the name). */
  dir: string;
  /** Path of config.json when the model has one. */
  configFile: string | undefined;
  /** Version directories found, ascending. */
  versions: number[];
  /** Every model directory of this name when more than one repository holds it. */
  conflicts: string[];
}

export interface SkippedEntry {
  path: string;
  reason: string;
}

export interface ScanResult {
  models: ScannedModel[];
  skipped: SkippedEntry[];
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function scanModel(name: string, dir: string): Promise<ScannedModel> {
  const versions: number[] = [];
  for (const entry of await readdir(dir)) {
    if (!VERSION_DIR.test(entry)) continue;
    const version = Number(entry);
    if (Number.isSafeInteger(version) && (await isDirectory(join(dir, entry)))) versions.push(version);
  }
  versions.sort((a, b) => a - b);
  const config = join(dir, 'config.json');
  return { name, dir, configFile: (await isFile(config)) ? config : undefined, versions, conflicts: [] };
}

/** Throws SIBYL_REPOSITORY_UNREADABLE for a root that does not exist or cannot be listed. */
export async function scanRepositories(roots: readonly string[]): Promise<ScanResult> {
  const byName = new Map<string, ScannedModel>();
  const skipped: SkippedEntry[] = [];
  // The same directory given twice is one repository, not a conflict of every model with itself.
  for (const root of new Set(roots.map((r) => resolve(r)))) {
    let entries: string[];
    try {
      if (!(await stat(root)).isDirectory()) throw new Error('not a directory');
      entries = (await readdir(root)).sort();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw repositoryUnreadable(root, code === 'ENOENT' ? 'no such directory' : (err as Error).message);
    }
    for (const entry of entries) {
      if (entry.startsWith('.')) continue;
      const dir = join(root, entry);
      if (!(await isDirectory(dir))) continue;
      if (!isValidModelName(entry)) {
        skipped.push({ path: dir, reason: modelNameInvalid(dir, MODEL_NAME_RULE).message });
        continue;
      }
      const existing = byName.get(entry);
      if (existing !== undefined) {
        if (existing.conflicts.length === 0) existing.conflicts.push(existing.dir);
        existing.conflicts.push(dir);
        continue;
      }
      byName.set(entry, await scanModel(entry, dir));
    }
  }
  const models = [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { models, skipped };
}
