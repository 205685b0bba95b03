import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { identityModel, writeModelRepository } from '@sibyl/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, tempDir } from './test-support/service-harness.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const ENTRY = fileURLToPath(new URL('./index.ts', import.meta.url));

/**
 * A Node process that loads a repository with a thread-mode model (two worker threads), runs one
 * request, then closes the service when `close` is true, and never calls process.exit: it can end
 * only if nothing (no worker thread) holds its event loop.
 */
function childScript(repo: string, close: boolean): string {
  return `
import { createLogger, createMetrics } from '@sibyl/observability';
import { createLocalInferenceService } from ${JSON.stringify(ENTRY)};
const service = createLocalInferenceService({
  repositories: [${JSON.stringify(repo)}],
  logger: createLogger({ destination: process.stderr }),
  metrics: createMetrics({ processMetrics: false }),
  serverVersion: 'test',
  extensions: [],
});
const summary = await service.load();
const response = await service.infer({ modelName: 'm', inputs: [{ name: 'x', datatype: 'INT32', shape: [2], data: new Int32Array([4, 5]) }] });
${close ? 'await service.close();' : ''}
process.stdout.write(JSON.stringify({ results: summary.results, out: Array.from(response.outputs[0].data) }) + '\\n');
`;
}

interface Child {
  exited: Promise<number | null>;
  output: Promise<string>;
  kill(): void;
}

function run(dir: string, script: string): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: ROOT,
    env: { ...process.env, TSX_TSCONFIG_PATH: join(dir, 'tsconfig.json') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const output = new Promise<string>((resolve, reject) => {
    const check = () => {
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (line !== undefined) resolve(line);
    };
    child.stdout.on('data', check);
    child.on('exit', (code) => {
      check();
      reject(new Error(`child exited (${code}) without output; stderr:\n${stderr}`));
    });
  });
  return { exited, output, kill: () => child.kill('SIGKILL') };
}

describe('close()', () => {
  let dir: { dir: string; cleanup: () => Promise<void> };

  beforeAll(async () => {
    dir = await tempDir();
    const repo = join(dir.dir, 'models');
    await writeModelRepository(repo, [
      {
        name: 'm',
        versions: { '1': identityModel('m', [{ name: 'x', datatype: 'INT32', shape: [2] }]) },
        config: { parameters: { execution_mode: { string_value: 'thread' } }, instance_group: [{ count: 2 }] },
      },
    ]);
    // The child resolves workspace packages to their sources, as vitest does.
    await writeFile(join(dir.dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { baseUrl: ROOT, paths: { '@sibyl/*': ['packages/*/src/index.ts'] } } }));
    await writeFile(join(dir.dir, 'closes.mts'), childScript(repo, true));
    await writeFile(join(dir.dir, 'stays.mts'), childScript(repo, false));
  });

  afterAll(async () => {
    await dir?.cleanup();
  });

  it('terminates the worker threads, so the process can exit', async () => {
    const child = run(dir.dir, join(dir.dir, 'closes.mts'));
    const result = JSON.parse(await child.output) as { results: Array<{ executionMode: string; instances: number }>; out: number[] };
    expect(result.results[0]).toMatchObject({ executionMode: 'thread', instances: 2 });
    expect(result.out).toEqual([4, 5]);
    expect(await child.exited).toBe(0);
  }, 60_000);

  it('(control) without close(), the worker threads keep the process alive', async () => {
    const child = run(dir.dir, join(dir.dir, 'stays.mts'));
    await child.output;
    const state = await Promise.race([child.exited.then(() => 'exited'), new Promise((r) => setTimeout(() => r('alive'), 3000))]);
    child.kill();
    expect(state).toBe('alive');
  }, 60_000);

  it('is idempotent; afterwards the service is not ready and refuses requests', async () => {
    const h = createHarness({ repositories: [join(dir.dir, 'models')] });
    await h.service.load();
    expect(await h.service.serverReady()).toBe(true);
    await Promise.all([h.service.close(), h.service.close()]);
    expect(await h.service.serverReady()).toBe(false);
    expect(await h.service.modelReady('m')).toBe(false);
    await expect(
      h.service.infer({ modelName: 'm', inputs: [{ name: 'x', datatype: 'INT32', shape: [2], data: new Int32Array(2) }] }),
    ).rejects.toMatchObject({ code: 'SIBYL_MODEL_NOT_READY' });
    expect((await h.service.repositoryIndex())[0]).toMatchObject({ name: 'm', version: '1', state: 'UNAVAILABLE', reason: 'unloaded: the service is closed' });
    expect(await h.metric('sibyl_model_ready', { model: 'm', version: '1' })).toBe(0);
  }, 60_000);
});
