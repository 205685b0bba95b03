import { describe, expect, it } from 'vitest';
import type { InstanceInfo } from '@sibyl/coordination';
import type { Pool } from '@sibyl/registry';
import { changedPools, placementReplicas, placementSignatures, placeVersion } from './placement.js';
import { rendezvousOrder } from './rendezvous.js';
import { instance } from './test-support.fixture.js';

const discovered: Pool = {
  name: 'onnx',
  kind: 'sibyl-onnx',
  endpoints: [],
  discovery: true,
  description: '',
  createdAt: new Date(),
  updatedAt: new Date(),
};

const live = (id: string, extra: Partial<InstanceInfo> = {}): InstanceInfo => ({ ...instance(id, 'onnx'), updatedAt: Date.now(), ...extra });

describe('placeVersion', () => {
  const instances = ['w1', 'w2', 'w3', 'w4', 'w5'].map((id, i) => live(id, { load: 10 - i }));

  it('orders the pool by rendezvous, home instance first, over http by default', () => {
    const placed = placeVersion({ key: 'm/1', pool: discovered, replicas: 1, instances, transport: 'http' });
    const ring = rendezvousOrder(['w1', 'w2', 'w3', 'w4', 'w5'], 'm/1');
    expect(placed.replicas).toBe(1);
    expect(placed.targets.map((t) => t.id)).toEqual(ring);
    expect(placed.targets[0]).toEqual({ id: ring[0], address: `http://${ring[0]}.test:8000`, load: instances.find((i) => i.id === ring[0])!.load });
  });

  it('sorts the top R least-loaded first and keeps the rest in ring order', () => {
    const placed = placeVersion({ key: 'm/1', pool: discovered, replicas: 3, instances, transport: 'grpc' });
    const ring = rendezvousOrder(['w1', 'w2', 'w3', 'w4', 'w5'], 'm/1');
    const load = (id: string) => instances.find((i) => i.id === id)!.load;
    const home = ring.slice(0, 3).sort((a, b) => load(a) - load(b));
    expect(placed.replicas).toBe(3);
    expect(placed.targets.map((t) => t.id)).toEqual([...home, ...ring.slice(3)]);
    expect(placed.targets.every((t) => t.address === `grpc://${t.id}.test:8001`)).toBe(true);
  });

  it('leaves out draining instances and other pools, and caps R at what is live', () => {
    const mixed = [live('a'), live('b', { draining: true }), { ...live('c'), pool: 'tf' }, live('d')];
    const placed = placeVersion({ key: 'm/2', pool: discovered, replicas: 5, instances: mixed, transport: 'http' });
    expect(placed.targets.map((t) => t.id).sort()).toEqual(['a', 'd']);
    expect(placed.replicas).toBe(2);
    expect(placeVersion({ key: 'm/2', pool: discovered, replicas: 2, instances: [], transport: 'http' })).toEqual({ replicas: 0, targets: [] });
  });

  it('fixed endpoints are all home, named endpoint:<url>', () => {
    const pool: Pool = { ...discovered, name: 'triton', kind: 'triton', discovery: false, endpoints: ['http://t1:8000', 'grpc://t2:8001'] };
    const placed = placeVersion({ key: 'm/1', pool, replicas: 1, instances: [live('x')], transport: 'http' });
    expect(placed.replicas).toBe(2);
    expect([...placed.targets].sort((a, b) => a.id.localeCompare(b.id))).toEqual([
      { id: 'endpoint:grpc://t2:8001', address: 'grpc://t2:8001', load: 0 },
      { id: 'endpoint:http://t1:8000', address: 'http://t1:8000', load: 0 },
    ]);
  });

  it('an in-process pool is its one target', () => {
    expect(placeVersion({ key: 'm/1', pool: discovered, replicas: 3, instances, transport: 'http', inProcessTarget: 'in-process' })).toEqual({
      replicas: 1,
      targets: [{ id: 'in-process', address: 'in-process', load: 0 }],
    });
  });
});

describe('placementReplicas', () => {
  it('reads the Triton parameter, 1 by default, undefined when malformed', () => {
    expect(placementReplicas(null)).toBe(1);
    expect(placementReplicas({ max_batch_size: 4 })).toBe(1);
    expect(placementReplicas({ parameters: { other: { string_value: 'x' } } })).toBe(1);
    expect(placementReplicas({ parameters: { placement_replicas: { string_value: '3' } } })).toBe(3);
    expect(placementReplicas({ parameters: { placement_replicas: { string_value: '0' } } })).toBeUndefined();
    expect(placementReplicas({ parameters: { placement_replicas: { string_value: 'two' } } })).toBeUndefined();
    expect(placementReplicas({ parameters: { placement_replicas: 2 } })).toBeUndefined();
  });
});

describe('placementSignatures and changedPools', () => {
  it('tell joins, leaves, draining and address changes from load reports', () => {
    const base = [live('a'), live('b'), { ...live('t'), pool: 'tf' }];
    const before = placementSignatures(base);
    expect(changedPools(before, placementSignatures(base.map((i) => ({ ...i, load: i.load + 7 }))))).toEqual(new Set());
    expect(changedPools(before, placementSignatures([...base, live('c')]))).toEqual(new Set(['onnx']));
    expect(changedPools(before, placementSignatures(base.filter((i) => i.id !== 't')))).toEqual(new Set(['tf']));
    expect(changedPools(before, placementSignatures(base.map((i) => (i.id === 'a' ? { ...i, draining: true } : i))))).toEqual(new Set(['onnx']));
    expect(changedPools(before, placementSignatures(base.map((i) => (i.id === 'b' ? { ...i, httpAddress: 'moved:1' } : i))))).toEqual(new Set(['onnx']));
  });
});
