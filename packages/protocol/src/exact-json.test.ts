import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { parseJson, stringifyJson } from './exact-json.js';

/** Wraps a document so that it holds a run of 16 digits, which sends it to the exact parser. */
const slow = (text: string) => `[${text},"1234567890123456"]`;

describe('parseJson', () => {
  it('keeps integers beyond 2^53 exact as bigint, and safe ones as numbers', () => {
    expect(parseJson('{"a":[9007199254740993,-9223372036854775808,18446744073709551615]}')).toEqual({
      a: [9007199254740993n, -9223372036854775808n, 18446744073709551615n],
    });
    expect(parseJson('[9007199254740991,-9007199254740991,1234567890123456]')).toEqual([
      9007199254740991, -9007199254740991, 1234567890123456,
    ]);
    expect(parseJson('[9007199254740992]')).toEqual([9007199254740992n]);
    expect(parseJson('[-9007199254740992]')).toEqual([-9007199254740992n]);
  });

  it('leaves non-integer literals as numbers, as JSON.parse does', () => {
    const text = '[12345678901234567890.5,1.2345678901234567e300,12345678901234567890e0,-0,0.0000000000000001]';
    expect(parseJson(text)).toEqual(JSON.parse(text));
    expect(Object.is((parseJson(slow('-0')) as unknown[])[0], -0)).toBe(true);
  });

  it('uses the native parser when no literal can be unsafe, long fractions and exponents included', () => {
    const spy = vi.spyOn(JSON, 'parse');
    try {
      const fast = ['{"x":[1,2.5,"s",true,null,{}]}', '[0.30000000000000004,-1.2345678901234567e-300]', '[12345678901234567.5]', '[12345678901234567e3]', '[123456789012345]'];
      for (const text of fast) {
        spy.mockClear();
        expect(parseJson(text)).toEqual(JSON.parse(text));
        expect(spy, text).toHaveBeenCalledTimes(2);
        expect(spy).toHaveBeenNthCalledWith(1, text);
      }
      for (const text of ['[12345678901234567]', '{"a":-12345678901234567}', '12345678901234567', '[ 1234567890123456 ]']) {
        spy.mockClear();
        parseJson(text);
        expect(spy, text).not.toHaveBeenCalled();
      }
    } finally {
      spy.mockRestore();
    }
  });

  it('equals JSON.parse on any document, but for unsafe integer literals', () => {
    // What parseJson should give: JSON.parse's value with each unsafe integer literal as bigint
    // (numbers below 1e21 are written as plain digits, larger ones with an exponent).
    const exact = (value: unknown): unknown => {
      if (typeof value === 'number' && Number.isInteger(value) && !Number.isSafeInteger(value) && Math.abs(value) < 1e21) {
        return BigInt(String(value));
      }
      if (Array.isArray(value)) return value.map(exact);
      if (value !== null && typeof value === 'object') {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, exact(v)]));
      }
      return value;
    };
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value);
        expect(parseJson(slow(text))).toEqual(exact(JSON.parse(slow(text))));
      }),
      { numRuns: 500 },
    );
  });

  it('equals JSON.parse on whitespace, escapes, unicode and odd keys', () => {
    const texts = [
      ' \t\r\n{ "a" : [ 1 , 2 ] , "b\\u0041\\n\\"" : "x\\\\y\\/z\\ud83d\\ude00" , "é😀" : { } , "c" : [ ] } \n',
      '{"__proto__":{"polluted":1},"a":1,"a":2}',
      '"plain"',
      'true',
      'null',
      '-1.5e-3',
      '[[[[[]]]]]',
    ];
    for (const text of texts) {
      expect(parseJson(slow(text))).toEqual(JSON.parse(slow(text)));
    }
    const proto = (parseJson(slow('{"__proto__":{"polluted":1}}')) as unknown[])[0] as Record<string, unknown>;
    expect(Object.getPrototypeOf(proto)).toBe(Object.prototype);
    expect(Object.keys(proto)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('throws SyntaxError wherever JSON.parse does', () => {
    const bad = [
      '',
      ' ',
      '[1,]',
      '{"a":1,}',
      '{"a" 1}',
      '{a:1}',
      '[01]',
      '[1.]',
      '[.5]',
      '[1e]',
      '[1e+]',
      '[-]',
      '[+1]',
      '["unterminated]',
      '["tab\there"]',
      '["bad \\x escape"]',
      '[tru]',
      '[nul]',
      '[1 2]',
      '{"a":1}}',
      '[1]x',
      '[',
      '{',
      '{"a":',
      '[NaN]',
      '[Infinity]',
      "['single']",
    ];
    for (const text of bad) {
      expect(() => JSON.parse(slow(text)), text).toThrow(SyntaxError);
      expect(() => parseJson(slow(text)), text).toThrow(SyntaxError);
    }
  });

  it('parses nesting far deeper than recursion would allow', () => {
    const depth = 200_000;
    const text = `${'['.repeat(depth)}12345678901234567890${']'.repeat(depth)}`;
    let value = parseJson(text);
    for (let i = 0; i < depth; i++) value = (value as unknown[])[0];
    expect(value).toBe(12345678901234567890n);
  });
});

describe('stringifyJson', () => {
  it('writes bigint as a bare integer literal', () => {
    expect(stringifyJson({ a: 9007199254740993n, b: [-9223372036854775808n] })).toBe(
      '{"a":9007199254740993,"b":[-9223372036854775808]}',
    );
  });

  it('round-trips exactly with parseJson', () => {
    const value = { id: 'x', n: [1, 2.5, 18446744073709551615n, -9007199254740993n], ok: true, none: null };
    expect(parseJson(stringifyJson(value))).toEqual(value);
  });

  it('equals JSON.stringify for values without bigint', () => {
    fc.assert(
      fc.property(fc.anything({ withBigInt: false, withBoxedValues: false, withMap: false, withSet: false }), (value) => {
        expect(stringifyJson(value)).toBe(JSON.stringify(value) ?? 'null');
      }),
      { numRuns: 500 },
    );
    const special = { a: undefined, b: () => 1, c: [undefined, Number.NaN, -Infinity, -0], d: new Date(0) };
    expect(stringifyJson(special)).toBe(JSON.stringify(special));
  });

  it('rejects circular structures', () => {
    const cycle: Record<string, unknown> = {};
    cycle['self'] = cycle;
    expect(() => stringifyJson(cycle)).toThrow(TypeError);
  });
});
