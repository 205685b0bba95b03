import { describe, expect, it } from 'vitest';
import { checkIris, checkSameBytes } from './checks.js';

const expected = { probabilities: [0.9, 0.08, 0.02], label: 0 };
const outputs = (probs: number[], label: number, shape = [1, 3]) => [
  { name: 'probabilities', datatype: 'FP32', shape, values: probs },
  { name: 'label', datatype: 'INT64', shape: [1], values: [label] },
];

describe('checkIris', () => {
  it('accepts the expected outputs, in any order, within float32 rounding', () => {
    expect(() => checkIris(outputs([0.9000001, 0.08, 0.02], 0).reverse(), expected)).not.toThrow();
  });

  it.each([
    ['a wrong probability', outputs([0.8, 0.18, 0.02], 0), /probabilities: expected/],
    ['a wrong label', outputs([0.9, 0.08, 0.02], 2), /label: expected 0, got 2/],
    ['a wrong shape', outputs([0.9, 0.08, 0.02], 0, [3]), /expected FP32 \[1,3\]/],
    ['a missing output', outputs([0.9, 0.08, 0.02], 0).slice(0, 1), /expected outputs probabilities and label/],
  ])('rejects %s', (_what, given, message) => {
    expect(() => checkIris(given, expected)).toThrow(message);
  });
});

describe('checkSameBytes', () => {
  it('names the first differing offset', () => {
    expect(() => checkSameBytes('output', new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3]))).not.toThrow();
    expect(() => checkSameBytes('output', new Uint8Array([1, 2, 3]), new Uint8Array([1, 9, 3]))).toThrow(/offset 1/);
    expect(() => checkSameBytes('output', new Uint8Array([1, 2, 3]), new Uint8Array([1, 2]))).toThrow(/sent 3 bytes, got 2/);
    expect(() => checkSameBytes('output', new Uint8Array([1]), undefined)).toThrow(/no binary data/);
  });
});
