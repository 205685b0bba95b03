import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rendezvousOrder, rendezvousScore } from './rendezvous.js';

const ids = fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), { minLength: 2, maxLength: 16 });
const keys = fc.uniqueArray(fc.string({ maxLength: 24 }), { minLength: 1, maxLength: 64 });

describe('rendezvousOrder', () => {
  it('orders every id once, by score, deterministically', () => {
    fc.assert(
      fc.property(ids, fc.string(), (set, key) => {
        const order = rendezvousOrder(set, key);
        expect([...order].sort()).toEqual([...set].sort());
        expect(rendezvousOrder([...set].reverse(), key)).toEqual(order);
        for (let i = 1; i < order.length; i++) {
          expect(rendezvousScore(order[i - 1]!, key)).toBeGreaterThanOrEqual(rendezvousScore(order[i]!, key));
        }
      }),
    );
  });

  it('removing an instance moves only the keys that were on it, each to its next instance', () => {
    fc.assert(
      fc.property(ids, keys, fc.nat(), (set, keyList, pick) => {
        const removed = set[pick % set.length]!;
        const rest = set.filter((id) => id !== removed);
        for (const key of keyList) {
          const before = rendezvousOrder(set, key);
          const after = rendezvousOrder(rest, key);
          // The whole failover order is kept, minus the instance that left.
          expect(after).toEqual(before.filter((id) => id !== removed));
          if (before[0] !== removed) expect(after[0]).toBe(before[0]);
          else expect(after[0]).toBe(before[1]);
        }
      }),
    );
  });

  it('adding an instance moves keys only onto the new one', () => {
    fc.assert(
      fc.property(ids, keys, (set, keyList) => {
        const [added, ...rest] = set;
        for (const key of keyList) {
          const home = rendezvousOrder(rest, key)[0];
          const newHome = rendezvousOrder(set, key)[0];
          expect([home, added]).toContain(newHome);
        }
      }),
    );
  });

  it('spreads keys roughly evenly over instances', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 20 }), { minLength: 3, maxLength: 8 }), (set) => {
        const counts = new Map(set.map((id) => [id, 0]));
        const total = 4000;
        for (let i = 0; i < total; i++) {
          const home = rendezvousOrder(set, `model-${i}/1`)[0]!;
          counts.set(home, counts.get(home)! + 1);
        }
        const fair = total / set.length;
        for (const count of counts.values()) {
          expect(count).toBeGreaterThan(fair * 0.75);
          expect(count).toBeLessThan(fair * 1.25);
        }
      }),
      { numRuns: 20 },
    );
  });

  it('spreads ids that differ only in their last character (typical worker ids)', () => {
    const set = Array.from({ length: 10 }, (_, i) => `onnx-host-${i}`);
    const counts = new Map(set.map((id) => [id, 0]));
    for (let i = 0; i < 20_000; i++) {
      const home = rendezvousOrder(set, `m/${i}`)[0]!;
      counts.set(home, counts.get(home)! + 1);
    }
    for (const count of counts.values()) {
      expect(count).toBeGreaterThan(1700);
      expect(count).toBeLessThan(2300);
    }
  });
});
