import { describe, expect, it } from 'vitest';
import { describeCoordinationContract, instance } from './coordination-contract.fixture.js';
import { createMemoryCoordination } from './memory-coordination.js';

describeCoordinationContract('memory', async () => {
  const coordination = createMemoryCoordination();
  return { writer: coordination, reader: coordination, cleanup: () => coordination.close() };
});

describe('createMemoryCoordination', () => {
  it('stamps updatedAt and status with its clock', async () => {
    let now = 1000;
    const coordination = createMemoryCoordination({ clock: () => now });
    expect(coordination.kind).toBe('memory');
    expect(coordination.status()).toEqual({ connected: true, since: 1000 });
    const registration = await coordination.register(instance('a'));
    expect(coordination.instances()[0]?.updatedAt).toBe(1000);
    now = 2500;
    registration.update({ load: 4 });
    expect(coordination.instances()[0]).toMatchObject({ load: 4, updatedAt: 2500 });
    await coordination.close();
  });

  it('keeps what it returned unchanged when the set changes', async () => {
    const coordination = createMemoryCoordination();
    const registration = await coordination.register(instance('a', { warmModels: ['m/1'] }));
    const before = coordination.instances();
    registration.update({ warmModels: ['m/2'], draining: true });
    expect(before[0]).toMatchObject({ warmModels: ['m/1'], draining: false });
    expect(Object.isFrozen(before[0])).toBe(true);
    expect(coordination.instances()[0]).toMatchObject({ warmModels: ['m/2'], draining: true });
    await coordination.close();
  });
});
