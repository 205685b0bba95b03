/** The server as a process: bad configuration exits 2 naming the setting; SIGTERM drains and exits 0. */
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
