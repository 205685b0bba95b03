/**
 * One process per PGlite data directory. PGlite happily opens a directory that another instance
 * (in this process or another) has open, and two writers corrupt it; a lock file with the owner's
 * pid refuses the second one. A lock left by a crashed process is taken over: its pid is no longer
 * running (or is this process's own pid, reused after a container restart, without our own lock).
 */
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dataDirInUse } from './errors.js';

export const LOCK_FILE = 'sibyl-registry.lock';

/** Data directories this process holds. */
const held = new Set<string>();

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, as another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function ownerOf(path: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt(await readFile(path, 'utf8'), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Takes the directory's lock; resolves to the function that releases it. */
export async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, LOCK_FILE);
  if (held.has(dir)) throw dataDirInUse(dir, process.pid, path);
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(path, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
      const owner = await ownerOf(path);
      if (owner !== undefined && owner !== process.pid && isRunning(owner)) throw dataDirInUse(dir, owner, path);
      await unlink(path).catch(() => {});
    }
  }
  held.add(dir);
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    held.delete(dir);
    if ((await ownerOf(path)) === process.pid) await unlink(path).catch(() => {});
  };
}
