import { afterEach, describe, expect, it } from 'vitest';
import { createInvalidationHub, type InvalidationHub } from './invalidation-hub.js';
import type { RouteInvalidation } from './route.js';
import { captureLogger, waitFor } from './test-support.fixture.js';

describe('invalidation hub', () => {
  let hub: InvalidationHub;
  afterEach(() => hub.close());

  it('delivers a burst once per model, after the window', async () => {
    hub = createInvalidationHub({ coalesceMs: 20, logger: captureLogger().logger });
    const got: RouteInvalidation[] = [];
    hub.watch((i) => got.push(i));
    for (let i = 0; i < 5; i++) hub.emit({ model: 'a' });
    hub.emit({ model: 'b' });
    expect(got).toEqual([]);
    await waitFor(() => got.length >= 2, 1000, 'the burst');
    await new Promise((r) => setTimeout(r, 40));
    expect(got).toEqual([{ model: 'a' }, { model: 'b' }]);
  });

  it('an invalidation of everything swallows the models of its burst', async () => {
    hub = createInvalidationHub({ coalesceMs: 5, logger: captureLogger().logger });
    const got: RouteInvalidation[] = [];
    hub.watch((i) => got.push(i));
    hub.emit({ model: 'a' });
    hub.emit({});
    hub.emit({ model: 'b' });
    await waitFor(() => got.length >= 1, 1000, 'the burst');
    await new Promise((r) => setTimeout(r, 30));
    expect(got).toEqual([{}]);
  });

  it('too many models in one burst become one invalidation of everything', async () => {
    hub = createInvalidationHub({ coalesceMs: 5, maxModels: 3, logger: captureLogger().logger });
    const got: RouteInvalidation[] = [];
    hub.watch((i) => got.push(i));
    for (const m of ['a', 'b', 'c', 'd']) hub.emit({ model: m });
    await waitFor(() => got.length >= 1, 1000, 'the burst');
    await new Promise((r) => setTimeout(r, 30));
    expect(got).toEqual([{}]);
  });

  it('a watcher that throws is logged and does not stop the others; stopped watchers hear nothing', async () => {
    const { logger, lines } = captureLogger();
    hub = createInvalidationHub({ coalesceMs: 1, logger });
    const got: RouteInvalidation[] = [];
    const stopped: RouteInvalidation[] = [];
    hub.watch(() => {
      throw new Error('boom');
    });
    hub.watch((i) => got.push(i));
    hub.watch((i) => stopped.push(i))();
    hub.emit({ model: 'a' });
    await waitFor(() => got.length === 1, 1000, 'delivery');
    expect(stopped).toEqual([]);
    expect(lines.some((l) => l.level === 'error' && l.msg.includes('watcher threw'))).toBe(true);
  });
});
