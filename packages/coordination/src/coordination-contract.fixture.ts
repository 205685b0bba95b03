/**
 * The contract every Coordination keeps, written once and run against each implementation
 * (memory-coordination.test.ts, redis-coordination.test.ts).
 */
import { SibylError } from '@sibyl/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Coordination } from './coordination.js';
import type { InstanceInfo } from './instance.js';
import { instance } from './instance.fixture.js';

export { instance, type Announced } from './instance.fixture.js';

/** Two coordinations over one store, as two processes see it (the memory one: the same object twice). */
export interface CoordinationPair {
  readonly writer: Coordination;
  readonly reader: Coordination;
  /** Closes both and removes what they left in the store. */
  cleanup(): Promise<void>;
}

/** Waits for a condition that a change elsewhere (another connection, a poll) brings about. */
export function eventually(check: () => void, timeout = 3000): Promise<void> {
  return vi.waitFor(check, { timeout, interval: 20 });
}

export const ids = (list: readonly InstanceInfo[]) => list.map((i) => i.id);

export function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'resolved',
    (err: unknown) => (err instanceof SibylError ? err.code : `not a SibylError: ${String(err)}`),
  );
}

/** A short heartbeat, so load-only changes reach the reader quickly. */
const FAST = { heartbeatMs: 100, ttlMs: 2000 };

export function describeCoordinationContract(name: string, open: () => Promise<CoordinationPair>): void {
  describe(`${name}: the Coordination contract`, () => {
    let pair: CoordinationPair | undefined;
    const setup = async () => (pair = await open());

    afterEach(async () => {
      await pair?.cleanup();
      pair = undefined;
    });

    it('shows a registered instance to a watcher, with what it announced', async () => {
      const { writer, reader } = await setup();
      const seen: InstanceInfo[][] = [];
      await reader.watchInstances((set) => seen.push(set));
      expect(reader.instances()).toEqual([]);
      const before = Date.now();
      const registration = await writer.register(instance('w1', { warmModels: ['m/1'] }), FAST);
      expect(registration.id).toBe('w1');
      await eventually(() => expect(ids(reader.instances())).toEqual(['w1']));
      const [seenInfo] = reader.instances();
      expect(seenInfo).toMatchObject({ ...instance('w1', { warmModels: ['m/1'] }) });
      expect(seenInfo!.updatedAt).toBeGreaterThanOrEqual(before - 1000);
      expect(ids(seen.at(-1)!)).toEqual(['w1']);
    });

    it('resolves a watch with the set it starts from in instances(), and calls the handler only for changes', async () => {
      const { writer, reader } = await setup();
      await writer.register(instance('a'));
      const seen: InstanceInfo[][] = [];
      await reader.watchInstances((set) => seen.push(set));
      expect(ids(reader.instances())).toEqual(['a']);
      await writer.register(instance('b'));
      await eventually(() => expect(seen.map(ids)).toEqual([['a', 'b']]));
    });

    it('lists instances sorted by id, all pools or one', async () => {
      const { writer, reader } = await setup();
      await reader.watchInstances(() => undefined);
      await writer.register(instance('b', { pool: 'onnx' }));
      await writer.register(instance('c', { pool: 'tf', kind: 'sibyl-tf' }));
      await writer.register(instance('a', { pool: 'onnx' }));
      await eventually(() => expect(ids(reader.instances())).toEqual(['a', 'b', 'c']));
      expect(ids(reader.instances('onnx'))).toEqual(['a', 'b']);
      expect(ids(reader.instances('tf'))).toEqual(['c']);
      expect(reader.instances('nothing')).toEqual([]);
    });

    it('calls watchers when warm models change, and not when only the load does', async () => {
      const { writer, reader } = await setup();
      const registration = await writer.register(instance('w1'), FAST);
      const seen: InstanceInfo[][] = [];
      await reader.watchInstances((set) => seen.push(set));
      await eventually(() => expect(ids(reader.instances())).toEqual(['w1']));
      const calls = seen.length;

      registration.update({ warmModels: ['m/1', 'n/2'] });
      await eventually(() => expect(seen.at(-1)?.[0]?.warmModels).toEqual(['m/1', 'n/2']));
      expect(seen.length).toBe(calls + 1);

      registration.update({ load: 7 });
      await eventually(() => expect(reader.instances()[0]?.load).toBe(7));
      registration.update({ warmModels: ['m/1', 'n/2'], load: 3 }); // the same models: not a placement change
      await eventually(() => expect(reader.instances()[0]?.load).toBe(3));
      expect(seen.length).toBe(calls + 1);
    });

    it('shows draining to watchers', async () => {
      const { writer, reader } = await setup();
      const registration = await writer.register(instance('w1'), FAST);
      const seen: InstanceInfo[][] = [];
      await reader.watchInstances((set) => seen.push(set));
      await eventually(() => expect(reader.instances()[0]?.draining).toBe(false));
      registration.update({ draining: true });
      await eventually(() => expect(seen.at(-1)?.[0]?.draining).toBe(true));
      expect(reader.instances()[0]?.draining).toBe(true);
    });

    it('removes a deregistered instance, once, and ignores its later updates', async () => {
      const { writer, reader } = await setup();
      const seen: InstanceInfo[][] = [];
      await reader.watchInstances((set) => seen.push(set));
      const gone = await writer.register(instance('gone'));
      await writer.register(instance('kept'));
      await eventually(() => expect(ids(reader.instances())).toEqual(['gone', 'kept']));
      await gone.deregister();
      await eventually(() => expect(ids(seen.at(-1)!)).toEqual(['kept']));
      expect(ids(reader.instances())).toEqual(['kept']);
      await gone.deregister();
      gone.update({ warmModels: ['late/1'] });
      // A new registration is the marker: once it is seen, the late update would have been too.
      await writer.register(instance('marker'));
      await eventually(() => expect(ids(reader.instances())).toEqual(['kept', 'marker']));
      // The id is free again.
      await writer.register(instance('gone'));
      await eventually(() => expect(ids(reader.instances())).toEqual(['gone', 'kept', 'marker']));
      expect(reader.instances()[0]?.warmModels).toEqual([]);
    });

    it('stops calling a watcher after its stop function, and survives a watcher that throws', async () => {
      const { writer, reader } = await setup();
      const stopped: InstanceInfo[][] = [];
      const kept: InstanceInfo[][] = [];
      const stop = await reader.watchInstances((set) => stopped.push(set));
      await reader.watchInstances(() => {
        throw new Error('watcher bug');
      });
      await reader.watchInstances((set) => kept.push(set));
      await writer.register(instance('a'));
      await eventually(() => expect(ids(kept.at(-1) ?? [])).toEqual(['a']));
      expect(ids(stopped.at(-1)!)).toEqual(['a']);
      stop();
      const count = stopped.length;
      await writer.register(instance('b'));
      await eventually(() => expect(ids(kept.at(-1)!)).toEqual(['a', 'b']));
      expect(stopped.length).toBe(count);
    });

    it('refuses a second registration of one id, a TTL under two heartbeats, and a bad field', async () => {
      const { writer } = await setup();
      await writer.register(instance('dup'));
      expect(await codeOf(writer.register(instance('dup')))).toBe('SIBYL_COORDINATION_INSTANCE_EXISTS');
      expect(await codeOf(writer.register(instance('x'), { heartbeatMs: 500, ttlMs: 900 }))).toBe('SIBYL_COORDINATION_OPTION_INVALID');
      expect(await codeOf(writer.register(instance('x'), { heartbeatMs: 0 }))).toBe('SIBYL_COORDINATION_OPTION_INVALID');
      expect(await codeOf(writer.register(instance('')))).toBe('SIBYL_COORDINATION_OPTION_INVALID');
      expect(await codeOf(writer.register(instance('x', { kind: 'tensorrt' as never })))).toBe('SIBYL_COORDINATION_OPTION_INVALID');
      const registration = await writer.register(instance('y'));
      expect(() => registration.update({ load: -1 })).toThrow(/load/);
    });

    it('delivers published messages to every subscriber of the channel, and no other', async () => {
      const { writer, reader } = await setup();
      const first: string[] = [];
      const second: string[] = [];
      const unsubscribeFirst = await reader.subscribe('models', (m) => first.push(m));
      await reader.subscribe('models', (m) => second.push(m));
      await writer.publish('other', 'not for you');
      await writer.publish('models', 'one');
      await eventually(() => expect(second).toEqual(['one']));
      expect(first).toEqual(['one']);

      await unsubscribeFirst();
      await unsubscribeFirst();
      await writer.publish('models', 'two');
      await eventually(() => expect(second).toEqual(['one', 'two']));
      expect(first).toEqual(['one']);
    });

    it('subscribes two handlers to one channel at the same time', async () => {
      const { writer, reader } = await setup();
      const heard: string[] = [];
      await Promise.all([reader.subscribe('c', (m) => heard.push(`1:${m}`)), reader.subscribe('c', (m) => heard.push(`2:${m}`))]);
      await writer.publish('c', 'x');
      await eventually(() => expect(heard.sort()).toEqual(['1:x', '2:x']));
    });

    it('is connected, and tells status handlers nothing while that does not change', async () => {
      const { writer } = await setup();
      await eventually(() => expect(writer.status().connected).toBe(true));
      expect(writer.status().reason).toBeUndefined();
      expect(typeof writer.status().since).toBe('number');
      const changes: unknown[] = [];
      const stop = writer.onStatus((s) => changes.push(s));
      await writer.register(instance('a'));
      await writer.publish('c', 'x');
      stop();
      expect(changes).toEqual([]);
    });

    it('deregisters its own instances on close, is idempotent, and refuses work afterwards', async () => {
      const { writer, reader } = await setup();
      await reader.watchInstances(() => undefined);
      await writer.register(instance('a'));
      await eventually(() => expect(ids(reader.instances())).toEqual(['a']));
      await Promise.all([writer.close(), writer.close()]);
      await writer.close();
      await eventually(() => expect(reader.instances()).toEqual([]));
      expect(await codeOf(writer.register(instance('b')))).toBe('SIBYL_COORDINATION_CLOSED');
      expect(await codeOf(writer.publish('c', 'x'))).toBe('SIBYL_COORDINATION_CLOSED');
      expect(await codeOf(writer.subscribe('c', () => undefined))).toBe('SIBYL_COORDINATION_CLOSED');
      expect(writer.instances()).toEqual([]);
    });
  });
}
