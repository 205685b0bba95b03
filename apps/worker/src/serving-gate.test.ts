import type { InferenceService } from '@sibyl/protocol';
import { describe, expect, it } from 'vitest';
import { createServingGate } from './serving-gate.js';

function fakeService(): InferenceService & { release(): void } {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  return {
    release: () => release(),
    serverLive: async () => true,
    serverReady: async () => true,
    serverMetadata: async () => ({ name: 'sibyl', version: 't', extensions: [] }),
    modelMetadata: async (name) => ({ name, versions: [], platform: 'x', inputs: [], outputs: [] }),
    modelReady: async () => true,
    repositoryIndex: async () => [],
    infer: async (request) => {
      await held;
      if (request.modelName === 'bad') throw new Error('boom');
      return { modelName: request.modelName, modelVersion: '1', outputs: [] };
    },
  };
}

describe('serving gate', () => {
  it('is ready only between open() and drain(), and counts requests in flight, failures included', async () => {
    const inner = fakeService();
    const loads: number[] = [];
    const gate = createServingGate(inner, (n) => loads.push(n));
    expect(await gate.service.serverReady()).toBe(false);
    gate.open();
    expect(await gate.service.serverReady()).toBe(true);
    const a = gate.service.infer({ modelName: 'ok', inputs: [] });
    const b = gate.service.infer({ modelName: 'bad', inputs: [] }).catch((err: Error) => err.message);
    expect(gate.inflight).toBe(2);
    gate.drain();
    expect(await gate.service.serverReady()).toBe(false);
    expect(await gate.service.serverLive()).toBe(true);
    inner.release();
    await a;
    expect(await b).toBe('boom');
    expect(gate.inflight).toBe(0);
    expect(loads).toEqual([1, 2, 1, 0]);
    gate.open();
    expect(await gate.service.serverReady()).toBe(false);
  });

  it('refuses new work once draining, and is quiet only after in-flight work ended and refusals stopped', async () => {
    const inner = fakeService();
    const gate = createServingGate(inner, () => undefined);
    gate.open();
    const running = gate.service.infer({ modelName: 'ok', inputs: [] });
    gate.drain();
    const refused = await gate.service.infer({ modelName: 'late', inputs: [] }).catch((err: { code: string; category: string }) => err);
    expect(refused).toMatchObject({ code: 'SIBYL_SERVER_DRAINING', category: 'UNAVAILABLE' });
    await expect(gate.service.modelMetadata('late')).rejects.toMatchObject({ code: 'SIBYL_SERVER_DRAINING' });
    let quiet = false;
    const waiting = gate.quiet(50).then(() => (quiet = true));
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(quiet, 'quiet while a request is still in flight').toBe(false);
    inner.release();
    await running;
    const releasedAt = performance.now();
    await waiting;
    expect(quiet).toBe(true);
    // Quiet means: nothing in flight and no refusal for the quiet period, counted from the last one.
    expect(performance.now() - releasedAt).toBeLessThan(1000);
  });
});
