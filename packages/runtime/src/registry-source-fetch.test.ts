/**
 * The registry source on a worker of another host: artifacts fetched from the management file
 * server into the worker's own (empty) store, verified by sha256. A real HTTP file server, real stores.
 */
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createArtifactStore, registerArtifactRoutes, type ArtifactStore } from '@sibyl/artifacts';
import { isSibylError } from '@sibyl/protocol';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { inspectModel } from './inspect-model.js';
import { createRegistrySource, type RegistrySource } from './registry-source.js';
import { addK, describeEachBackend, openTestRegistry, type TestRegistry } from './test-support/registry-backends.js';
import { createHarness, type Harness } from './test-support/service-harness.js';

async function rejection(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    if (isSibylError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a rejection');
}

describeEachBackend('registry source: artifacts fetched from a file server', (backend) => {
  let t: TestRegistry;
  let server: FastifyInstance;
  let base: string;
  let local: ArtifactStore;
  let source: RegistrySource | undefined;
  let h: Harness | undefined;

  beforeEach(async () => {
    t = await openTestRegistry(backend);
    server = Fastify({ forceCloseConnections: true });
    registerArtifactRoutes(server, t.artifacts);
    base = await server.listen({ host: '127.0.0.1', port: 0 });
    local = await createArtifactStore({ dir: join(t.dir, 'worker-artifacts') });
  }, 60_000);

  afterEach(async () => {
    await h?.service.close();
    await source?.close();
    await server.close();
    await t.cleanup();
  }, 60_000);

  /** Stores the model in the management store (not the worker's), registers and deploys it. */
  async function publish(name: string, k: number): Promise<string> {
    const stored = await t.artifacts.put(Readable.from([Buffer.from(addK(name, k))]), { filename: 'model.onnx' });
    await t.registry.createModel({ name });
    await t.registry.registerVersion({
      model: name,
      sha256: stored.sha256,
      size: stored.size,
      filename: 'model.onnx',
      format: 'onnx-file',
      signature: await inspectModel(stored.path),
      config: { parameters: { execution_mode: { string_value: 'inline' } } },
      createdBy: 'alice',
    });
    await t.registry.deploy(name, 1, 'alice');
    return stored.sha256;
  }

  function start(from: string): Harness {
    h = createHarness({
      source: (logger) => (source = createRegistrySource({ registry: t.registry, artifacts: local, logger, fetchArtifactsFrom: from })),
      explicitModelControl: true,
    });
    return h;
  }

  it('downloads a missing artifact into the local store, verified, then serves it', async () => {
    const sha = await publish('remote', 5);
    expect(await local.has(sha)).toBe(false);
    const { service } = start(base);
    await service.load('remote');
    expect(await local.has(sha)).toBe(true);
    const response = await service.infer({ modelName: 'remote', inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: new Float32Array([1]) }] });
    expect(Array.from(response.outputs[0]!.data as Float32Array)).toEqual([6]);
    // State reports are written in the background, in order.
    await expect.poll(async () => (await t.registry.getVersion('remote', 1)).state, { timeout: 5000 }).toBe('ready');
  }, 60_000);

  it('a failed download is the version failure, naming the URL; it is tried again on the next load', async () => {
    const sha = await publish('unreachable', 2);
    await server.close();
    const { service } = start(base);
    const err = await rejection(service.load('unreachable'));
    expect(err.code).toBe('SIBYL_MODEL_NOT_READY');
    expect(err.message).toContain(`its artifact ${sha} could not be fetched from ${base}`);
    expect(await local.has(sha)).toBe(false);
    await source!.close();
    await service.close();

    // The file server is back (same store, new port): the next load fetches and serves.
    server = Fastify({ forceCloseConnections: true });
    registerArtifactRoutes(server, t.artifacts);
    const again = start(await server.listen({ host: '127.0.0.1', port: 0 }));
    await again.service.load('unreachable');
    expect(await local.has(sha)).toBe(true);
  }, 60_000);

  it('an artifact the file server does not have is refused with its NOT_FOUND reason', async () => {
    const sha = await publish('missing', 3);
    const other = Fastify({ forceCloseConnections: true });
    registerArtifactRoutes(other, await createArtifactStore({ dir: join(t.dir, 'empty-server-store') }));
    const url = await other.listen({ host: '127.0.0.1', port: 0 });
    try {
      const err = await rejection(start(url).service.load('missing'));
      expect(err.message).toContain(`could not be fetched from ${url}`);
      expect(await local.has(sha)).toBe(false);
    } finally {
      await other.close();
    }
  }, 60_000);
});
