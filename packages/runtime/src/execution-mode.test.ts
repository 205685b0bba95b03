import { describe, expect, it } from 'vitest';
import { chooseExecution, warmupFeeds } from './execution-mode.js';

describe('execution mode', () => {
  it('auto moves a model inline only when its typical warm-up run is within the threshold', () => {
    expect(chooseExecution('auto', 150, 200)).toBe('inline');
    expect(chooseExecution('auto', 200, 200)).toBe('inline');
    expect(chooseExecution('auto', 201, 200)).toBe('thread');
    expect(chooseExecution('auto', undefined, 200)).toBe('thread');
    expect(chooseExecution('inline', 1e6, 200)).toBe('inline');
    expect(chooseExecution('thread', 1, 200)).toBe('thread');
  });

  it('warm-up feeds are zeros with the batch at max_batch_size and other variable dims at 1', () => {
    const feeds = warmupFeeds(
      [
        { name: 'a', datatype: 'FP16', shape: [-1, 3, -1] },
        { name: 'b', datatype: 'BYTES', shape: [-1] },
        { name: 'c', datatype: 'INT64', shape: [] },
        { name: 'd', datatype: 'BOOL', shape: [2] },
      ],
      4,
    );
    expect(feeds.map((f) => [f.name, f.type, f.dims])).toEqual([
      ['a', 'float16', [4, 3, 1]],
      ['b', 'string', [4]],
      ['c', 'int64', []],
      ['d', 'bool', [2]],
    ]);
    expect(feeds[0]!.data).toEqual(new Uint16Array(12));
    expect(feeds[1]!.data).toEqual(['', '', '', '']);
    expect(feeds[2]!.data).toEqual(new BigInt64Array(1));
    expect(feeds[3]!.data).toEqual(new Uint8Array(2));
    expect(warmupFeeds([{ name: 'x', datatype: 'FP32', shape: [-1, 2] }], 0)[0]!.dims).toEqual([1, 2]);
  });
});
