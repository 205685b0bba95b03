/** What the figures were measured on: they mean little without it. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { REPO_ROOT } from './paths.js';

export interface MachineInfo {
  cpuModel: string;
  /** Logical CPUs the OS reports, and what Node may use. */
  cores: number;
  availableParallelism: number;
  memoryGiB: number;
  platform: string;
  kernel: string;
  node: string;
  /** Load averages (1, 5, 15 min) at the start of the run: other work on the machine skews figures. */
  loadAverage: number[];
  packages: Record<string, string>;
  gitCommit: string | null;
  /** Whether the work tree had uncommitted changes. */
  gitDirty: boolean | null;
  date: string;
}

const require = createRequire(import.meta.url);

function packageVersion(name: string): string {
  try {
    const main = require.resolve(name);
    let dir = main;
    for (let i = 0; i < 6; i++) {
      dir = dir.slice(0, dir.lastIndexOf('/'));
      try {
        const pkg = JSON.parse(readFileSync(`${dir}/package.json`, 'utf8')) as { name?: string; version?: string };
        if (pkg.name === name) return pkg.version ?? 'unknown';
      } catch {
        // not a package root; keep walking up
      }
    }
  } catch {
    // not installed
  }
  return 'unknown';
}

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

export function machineInfo(now = new Date()): MachineInfo {
  const cpus = os.cpus();
  // --no-optional-locks: never take the index lock, others may be committing in this tree.
  const status = git(['--no-optional-locks', 'status', '--porcelain']);
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    availableParallelism: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${os.platform()} ${os.arch()}`,
    kernel: os.release(),
    node: process.version,
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
    packages: Object.fromEntries(['onnxruntime-node', 'fastify', 'undici', '@grpc/grpc-js'].map((n) => [n, packageVersion(n)])),
    gitCommit: git(['rev-parse', 'HEAD']),
    gitDirty: status === null ? null : status.length > 0,
    date: now.toISOString(),
  };
}
