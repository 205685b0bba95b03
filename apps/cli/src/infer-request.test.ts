import { describe, expect, it } from 'vitest';
import { isCliError } from './cli-error.js';
import { buildInferRequest, parseInputFlags, resolveShape } from './infer-request.js';
import type { ModelMetadata } from './wire-types.js';

const spec = (shape: number[], datatype = 'FP32') => ({ name: 'x', datatype, shape });
const metadata = (inputs: ModelMetadata['inputs']): ModelMetadata => ({ name: 'm', inputs });
const build = (inputs: string[], shapes: string[], meta: ModelMetadata) => buildInferRequest(parseInputFlags(inputs, shapes, 'usage'), meta);

function thrown(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (isCliError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected an error');
}

describe('resolveShape', () => {
  it.each([
    [[-1, 4], 4, [1, 4]],
    [[-1, 4], 8, [2, 4]],
    [[-1], 5, [5]],
    [[2, 2], 4, [2, 2]],
    [[-1, -1, 3], 6, [1, 2, 3]],
    [[3, -1], 6, [3, 2]],
  ])('%j with %i values is %j', (shape, count, expected) => {
    expect(resolveShape(spec(shape), count)).toEqual(expected);
  });

  it('refuses counts that do not fit, and shapes it cannot decide', () => {
    expect(thrown(() => resolveShape(spec([-1, 4]), 6)).message).toBe("input 'x' [-1,4]: 6 values do not fill whole rows of 4; give the shape with --shape x=...");
    expect(thrown(() => resolveShape(spec([2, 2]), 3)).message).toBe("input 'x' [2,2] takes 4 values, got 3");
    expect(thrown(() => resolveShape(spec([4, -1, -1]), 8)).message).toBe("input 'x' [4,-1,-1] has 2 variable dimensions: give the shape with --shape x=...");
  });
});

describe('buildInferRequest', () => {
  it('types the values by the metadata and fills the shape', () => {
    const meta = metadata([spec([-1, 4]), { name: 'flag', datatype: 'BOOL', shape: [-1] }, { name: 'n', datatype: 'INT64', shape: [1] }, { name: 's', datatype: 'BYTES', shape: [-1] }]);
    expect(build(['x=5.1,3.5,1.4,0.2', 'flag=true,0', 'n=-3', 's=a b,c'], [], meta)).toEqual({
      inputs: [
        { name: 'x', shape: [1, 4], datatype: 'FP32', data: [5.1, 3.5, 1.4, 0.2] },
        { name: 'flag', shape: [2], datatype: 'BOOL', data: [true, false] },
        { name: 'n', shape: [1], datatype: 'INT64', data: [-3] },
        { name: 's', shape: [2], datatype: 'BYTES', data: ['a b', 'c'] },
      ],
    });
  });

  it('takes --shape over the metadata', () => {
    expect(build(['x=1,2,3,4,5,6,7,8'], ['x=2,4'], metadata([spec([-1, -1])])).inputs[0]?.shape).toEqual([2, 4]);
  });

  it.each([
    [['y=1'], [], "model m has no input 'y'; its inputs: x (FP32 [-1,4])"],
    [['x=1,2,a,4'], [], "input 'x' value 3: 'a' is not a number"],
    [['x=1,2,3,4'], ['x=2,4'], '--shape x=2,4 holds 8 values, got 4'],
  ])('refuses %j %j', (inputs, shapes, message) => {
    expect(thrown(() => build(inputs, shapes, metadata([spec([-1, 4])])))).toEqual({ code: 'INPUT', message });
  });

  it('checks integer and boolean values and asks for missing inputs', () => {
    expect(thrown(() => build(['x=1.5'], [], metadata([spec([-1], 'INT32')]))).message).toBe("input 'x' value 1: '1.5' is not an integer (INT32)");
    expect(thrown(() => build(['x=-1'], [], metadata([spec([-1], 'UINT8')]))).message).toBe("input 'x' value 1: -1 is negative but UINT8 is unsigned");
    expect(thrown(() => build(['x=9007199254740993'], [], metadata([spec([-1], 'INT64')]))).message).toContain('beyond 2^53');
    expect(thrown(() => build(['x=yes'], [], metadata([spec([-1], 'BOOL')]))).message).toBe("input 'x' value 1: 'yes' is not a BOOL (true, false, 1 or 0)");
    expect(thrown(() => build(['x=1'], [], metadata([spec([-1]), { name: 'y', datatype: 'FP32', shape: [-1] }]))).message).toBe(
      'model m also needs --input y=...; its inputs: x (FP32 [-1]), y (FP32 [-1])',
    );
  });
});

describe('parseInputFlags', () => {
  it.each([
    [['x=1', 'x=2'], [], '--input x is given twice'],
    [['x=1'], ['y=1'], '--shape y has no matching --input y=...'],
    [['x=1'], ['x=1,a'], "--shape x: expected dimensions like 1,4, got '1,a'"],
    [['x'], [], "--input: expected KEY=VALUE, got 'x'"],
  ])('refuses %j %j as a usage error', (inputs, shapes, message) => {
    expect(thrown(() => parseInputFlags(inputs, shapes, 'usage'))).toEqual({ code: 'USAGE', message });
  });
});
