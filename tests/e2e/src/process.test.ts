/**
 * The server as a process: bad configuration exits 2 naming the setting; SIGTERM drains and exits 0;
 * on the embedded defaults it never loads the drivers of what it does not use.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { get, identityName, inferResult, postJson, runToExit, standardModels, startServer, tempRepository } from './index.js';

describe('bad configuration', () => {
  it.each([
    [['--http-port', '70000'], 'http-port'],
    [['--grpc-port', 'abc'], 'grpc-port'],
    [['--strict-readiness', 'maybe'], 'strict-readiness'],
    [['--log-format', 'xml'], 'log-format'],
    [['--no-such-flag', '1'], 'no-such-flag'],
  ])('%j exits 2 with a message naming %s', async (args, setting) => {
    const result = await runToExit(args);
    expect(result.code, result.output).toBe(2);
    expect(result.output).toContain(setting);
  });
});

describe('SIGTERM', () => {
  it('stops a serving server with exit code 0', async () => {
    const repo = await tempRepository(standardModels().filter((m) => m.name === identityName('FP32')));
    const server = await startServer({ repositories: [repo.dir], args: ['--exit-timeout-secs', '5'] });
    try {
      expect((await get(`${server.httpUrl}/v2/health/ready`)).status).toBe(200);
      const { json } = inferResult(
        await postJson(`${server.httpUrl}/v2/models/${identityName('FP32')}/infer`, {
          inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2] }],
        }),
      );
      expect(json['model_name']).toBe(identityName('FP32'));
      const exit = await server.stop('SIGTERM');
      expect(exit, server.output()).toEqual({ code: 0, signal: null });
    } finally {
      await server.stop('SIGKILL');
      await repo.remove();
    }
  });
});

/**
 * Packages the all-in-one needs only for a PostgreSQL registry, Redis, a remote backend, text logs,
 * or the management API's docs (the YAML document and the static file server behind its page).
 */
const UNUSED_DRIVERS = ['pg', 'ioredis', 'undici', 'pino-pretty', 'yaml', '@fastify/static'];

describe('embedded defaults', () => {
  it('serve without loading the PostgreSQL, Redis, remote-backend, text-log or API-docs packages', async () => {
    // A preload that writes, at exit, every CommonJS module file the process loaded (the four
    // drivers are CommonJS, and the lazy loaders go through the same module cache).
    const dir = await mkdtemp(join(tmpdir(), 'sibyl-modules-'));
    const report = join(dir, 'modules.json');
    const preload = join(dir, 'report-modules.cjs');
    await writeFile(
      preload,
      `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(report)}, JSON.stringify(Object.keys(require.cache))));\n`,
    );
    const repo = await tempRepository(standardModels().filter((m) => m.name === identityName('FP32')));
    const server = await startServer({ repositories: [repo.dir], env: { NODE_OPTIONS: `--require ${preload}` } });
    try {
      const { json } = inferResult(
        await postJson(`${server.httpUrl}/v2/models/${identityName('FP32')}/infer`, {
          inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2] }],
        }),
      );
      expect(json['model_name']).toBe(identityName('FP32'));
      expect(await server.stop('SIGTERM'), server.output()).toEqual({ code: 0, signal: null });
      const files = JSON.parse(await readFile(report, 'utf8')) as string[];
      const packages = new Set(files.map((f) => /node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/.exec(f)?.[1]).filter((p) => p !== undefined));
      // The preload worked: the server's own CommonJS dependencies are listed.
      expect(packages).toContain('fastify');
      for (const driver of UNUSED_DRIVERS) expect(packages, `${driver} was loaded`).not.toContain(driver);
    } finally {
      await server.stop('SIGKILL');
      await repo.remove();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
