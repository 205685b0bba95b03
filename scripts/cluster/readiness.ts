/**
 * How the launcher knows an app is ready: an HTTP probe answering 200, a gRPC health check
 * (grpc.health.v1) answering SERVING, or a TCP port that accepts a connection.
 */
import { connect } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import type { ManagedProcess } from './managed-process.js';

export type Probe =
  /** GET `url` answers 200. */
  | { kind: 'http'; url: string }
  /** grpc.health.v1.Health/Check at `address` (host:port) answers SERVING. */
  | { kind: 'grpc-health'; address: string }
  /** `host:port` accepts a TCP connection. */
  | { kind: 'tcp'; address: string };

/** What a probe saw: ready, or why not. */
export type ProbeResult = { ready: true } | { ready: false; reason: string };

const PROBE_TIMEOUT_MS = 2000;

export async function probeOnce(probe: Probe): Promise<ProbeResult> {
  switch (probe.kind) {
    case 'http':
      return probeHttp(probe.url);
    case 'grpc-health':
      return probeGrpcHealth(probe.address);
    case 'tcp':
      return probeTcp(probe.address);
  }
}

async function probeHttp(url: string): Promise<ProbeResult> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    const text = await res.text();
    return res.status === 200 ? { ready: true } : { ready: false, reason: `GET ${url}: HTTP ${res.status} ${text.slice(0, 200)}` };
  } catch (err) {
    return { ready: false, reason: `GET ${url}: ${describe(err)}` };
  }
}

function splitAddress(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  return { host: address.slice(0, at), port: Number(address.slice(at + 1)) };
}

function probeTcp(address: string): Promise<ProbeResult> {
  const { host, port } = splitAddress(address);
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (result: ProbeResult) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => done({ ready: false, reason: `connect ${address}: timed out` }));
    socket.once('connect', () => done({ ready: true }));
    socket.once('error', (err) => done({ ready: false, reason: `connect ${address}: ${describe(err)}` }));
  });
}

/**
 * grpc.health.v1 by hand, so the launcher needs no proto file: HealthCheckRequest `{}` is zero bytes,
 * HealthCheckResponse is field 1 (varint) `status`, SERVING = 1. A server without the health service
 * (UNIMPLEMENTED) but answering at all counts as ready.
 */
function probeGrpcHealth(address: string): Promise<ProbeResult> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  return new Promise<ProbeResult>((resolve) => {
    client.makeUnaryRequest<Buffer, number>(
      '/grpc.health.v1.Health/Check',
      (request) => request,
      (bytes) => (bytes.length >= 2 && bytes[0] === 0x08 ? bytes[1]! : 0),
      Buffer.alloc(0),
      new grpc.Metadata(),
      { deadline: Date.now() + PROBE_TIMEOUT_MS },
      (err, status) => {
        if (err?.code === grpc.status.UNIMPLEMENTED) resolve({ ready: true });
        else if (err) resolve({ ready: false, reason: `health check ${address}: ${grpc.status[err.code]} ${err.details}` });
        else if (status === 1) resolve({ ready: true });
        else resolve({ ready: false, reason: `health check ${address}: status ${status} (not SERVING)` });
      },
    );
  }).finally(() => client.close());
}

function describe(err: unknown): string {
  const e = err as { code?: string; cause?: { code?: string; message?: string }; message?: string };
  return e.cause?.code ?? e.code ?? e.cause?.message ?? e.message ?? String(err);
}

/**
 * Polls `probe` until it says ready. Rejects when the process exits first or after `timeoutMs`, with
 * the last probe result and the tail of the process's output in the message.
 */
export async function waitReady(proc: ManagedProcess, probe: Probe, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: ProbeResult = { ready: false, reason: 'not probed yet' };
  let exited = false;
  void proc.exited.then(() => {
    exited = true;
  });
  for (;;) {
    if (exited || proc.exitResult() !== undefined) {
      const r = await proc.exited;
      throw new Error(
        `${proc.spec.name} exited (code ${r.code}, signal ${r.signal}) before it was ready\n` +
          `  command: ${proc.spec.entry} ${proc.spec.args.join(' ')}\n--- last output of ${proc.spec.name} ---\n${proc.tail(60)}`,
      );
    }
    last = await probeOnce(probe);
    if (last.ready) return;
    if (Date.now() > deadline) {
      throw new Error(
        `${proc.spec.name} not ready after ${timeoutMs} ms (${last.reason})\n` +
          `  command: ${proc.spec.entry} ${proc.spec.args.join(' ')}\n--- last output of ${proc.spec.name} ---\n${proc.tail(60)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 150));
  }
}
