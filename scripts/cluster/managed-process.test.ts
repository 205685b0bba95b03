/**
 * The launcher's parts on a stand-in app (test-app.fixture.mjs): readiness, the error when an app
 * fails to start (with its output), log lines with the process's name, SIGTERM then SIGKILL.
 */
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { freePort } from './free-port.js';
import { spawnProcess, type LogSink } from './managed-process.js';
import { probeOnce, waitReady } from './readiness.js';

const APP = 'scripts/cluster/test-app.fixture.mjs';

function collect(): { sink: LogSink; lines: string[] } {
  const lines: string[] = [];
  return { sink: (name, line, stream) => lines.push(`${name}/${stream}: ${line}`), lines };
}

describe('spawnProcess and waitReady', () => {
  it('waits for the probe, hands each line to the sink with its name, and stops on SIGTERM with exit 0', async () => {
    const port = await freePort();
    const { sink, lines } = collect();
    const proc = spawnProcess({ name: 'app', entry: APP, args: ['serve', String(port)] }, sink);
    const probe = { kind: 'http', url: `http://127.0.0.1:${port}/` } as const;
    await waitReady(proc, probe, 10_000);
    expect(await probeOnce(probe)).toEqual({ ready: true });
    expect(await probeOnce({ kind: 'tcp', address: `127.0.0.1:${port}` })).toEqual({ ready: true });
    expect(await proc.stop('SIGTERM', 5000)).toEqual({ code: 0, signal: null });
    expect(lines).toEqual(expect.arrayContaining(['app/stdout: starting in mode serve', `app/stdout: listening on ${port}`, 'app/stderr: draining']));
    expect(proc.tail(10)).toContain('draining');
  });

  it('rejects with the exit and the output when the app exits before it is ready', async () => {
    const port = await freePort();
    const proc = spawnProcess({ name: 'crasher', entry: APP, args: ['crash', String(port)] }, () => {});
    const error = await waitReady(proc, { kind: 'http', url: `http://127.0.0.1:${port}/` }, 10_000).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(error?.message).toMatch(/crasher exited \(code 3, signal null\) before it was ready/);
    expect(error?.message).toContain('boom: --no-such-flag is not a flag');
  });

  it('rejects after the timeout with the last probe answer, and kills an app that ignores SIGTERM', async () => {
    const port = await freePort();
    const proc = spawnProcess({ name: 'stuck', entry: APP, args: ['never-ready', String(port)] }, () => {});
    const error = await waitReady(proc, { kind: 'http', url: `http://127.0.0.1:${port}/` }, 1500).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(error?.message).toMatch(/stuck not ready after 1500 ms \(GET .*: HTTP 503 not yet\)/);
    expect(error?.message).toContain(`listening on ${port}`);
    expect(await proc.stop('SIGTERM', 5000)).toEqual({ code: 0, signal: null });

    const ignoring = spawnProcess({ name: 'deaf', entry: APP, args: ['ignore-term', String(port)] }, () => {});
    await waitReady(ignoring, { kind: 'tcp', address: `127.0.0.1:${port}` }, 10_000);
    expect(await ignoring.stop('SIGTERM', 500)).toEqual({ code: null, signal: 'SIGKILL' });
    expect(ignoring.tail()).toContain('SIGTERM ignored');
  });
});

describe('grpc health probe', () => {
  it('is ready on SERVING, not on NOT_SERVING, and ready on a server without the health service', async () => {
    let status = 1;
    const server = new grpc.Server();
    server.addService(
      {
        Check: {
          path: '/grpc.health.v1.Health/Check',
          requestStream: false,
          responseStream: false,
          requestSerialize: (b: Buffer) => b,
          requestDeserialize: (b: Buffer) => b,
          responseSerialize: (s: number) => Buffer.from([0x08, s]),
          responseDeserialize: (b: Buffer) => b[1]!,
        },
      },
      { Check: (_call: unknown, callback: (err: null, status: number) => void) => callback(null, status) },
    );
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    const bare = new grpc.Server();
    const barePort = await new Promise<number>((resolve, reject) =>
      bare.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    try {
      expect(await probeOnce({ kind: 'grpc-health', address: `127.0.0.1:${port}` })).toEqual({ ready: true });
      status = 2;
      expect(await probeOnce({ kind: 'grpc-health', address: `127.0.0.1:${port}` })).toMatchObject({ ready: false, reason: expect.stringContaining('not SERVING') });
      expect(await probeOnce({ kind: 'grpc-health', address: `127.0.0.1:${barePort}` })).toEqual({ ready: true });
      const closed = await freePort();
      expect(await probeOnce({ kind: 'grpc-health', address: `127.0.0.1:${closed}` })).toMatchObject({ ready: false });
    } finally {
      server.forceShutdown();
      bare.forceShutdown();
    }
  });
});
