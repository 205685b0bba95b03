import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ModelRoute, VersionRoute } from './route.js';
import { chooseVersion, splitPoint } from './traffic-split.js';

function version(v: number): VersionRoute {
  return { model: 'm', version: v, pool: 'onnx', kind: 'sibyl-onnx', ruleId: 1, replicas: 1, targets: [] };
}

function route(weight: number, live: VersionRoute | null = version(1)): ModelRoute {
  return { model: 'm', live, canary: { route: version(2), weight }, shadow: null, generation: 1 };
}

describe('splitPoint', () => {
  it('lies in [0, 1) and is the same for the same key', () => {
    fc.assert(
      fc.property(fc.string(), (key) => {
        const p = splitPoint(key);
        expect(p).toBeGreaterThanOrEqual(0);
        expect(p).toBeLessThan(1);
        expect(splitPoint(key)).toBe(p);
      }),
    );
  });
});

describe('chooseVersion', () => {
  it('sends 20% ± 3% of 2,000 distinct ids to a canary of weight 0.2, the same id always the same way', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => `user-${i}`);
    const first = ids.map((id) => chooseVersion(route(0.2), id).version);
    const share = first.filter((v) => v === 2).length / ids.length;
    expect(share).toBeGreaterThan(0.17);
    expect(share).toBeLessThan(0.23);
    expect(ids.map((id) => chooseVersion(route(0.2), id).version)).toEqual(first);
  });

  it('splits requests without a key at random, near the weight', () => {
    let canary = 0;
    for (let i = 0; i < 2000; i++) if (chooseVersion(route(0.2), undefined).version === 2) canary++;
    expect(canary / 2000).toBeGreaterThan(0.15);
    expect(canary / 2000).toBeLessThan(0.25);
  });

  it('raising the weight only moves keys from live to canary', () => {
    fc.assert(
      fc.property(fc.string(), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (key, a, b) => {
        const [low, high] = a < b ? [a, b] : [b, a];
        if (chooseVersion(route(low), key).version === 2) expect(chooseVersion(route(high), key).version).toBe(2);
      }),
    );
  });

  it('weight 0 never and weight 1 always reaches the canary; no canary: the live version', () => {
    for (const key of ['a', 'b', 'c', undefined]) {
      expect(chooseVersion(route(0), key).version).toBe(1);
      expect(chooseVersion(route(1), key).version).toBe(2);
      expect(chooseVersion({ ...route(0), canary: null }, key).version).toBe(1);
    }
  });

  it('a model with nothing live is SIBYL_ROUTE_MODEL_NOT_LIVE (503)', () => {
    expect(() => chooseVersion(route(0, null), 'k')).toThrow(expect.objectContaining({ code: 'SIBYL_ROUTE_MODEL_NOT_LIVE', httpStatus: 503 }));
  });
});
