import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { addCollectedCounter, addCollectedGauge } from './collected.js';

describe('collected metrics', () => {
  it('reads plain numbers and labelled values at scrape time', async () => {
    const registry = new Registry();
    let up = 1;
    let total = 3;
    addCollectedGauge(registry, { name: 'test_up', help: 'up', read: () => up });
    addCollectedCounter(registry, {
      name: 'test_total',
      help: 'total',
      labelNames: ['kind'],
      read: () => [
        { labels: { kind: 'a' }, value: total },
        { labels: { kind: 'b' }, value: 7 },
      ],
    });
    expect(await registry.metrics()).toMatch(/test_up 1\n/);
    up = 0;
    total = 5;
    const text = await registry.metrics();
    expect(text).toMatch(/test_up 0\n/);
    expect(text).toContain('test_total{kind="a"} 5');
    expect(text).toContain('test_total{kind="b"} 7');
  });
});
