/**
 * JSON that keeps 64-bit integers exact, written for the tests independently of the server's codec.
 *
 * `JSON.parse` turns 9007199254740993 into 9007199254740992, which would hide exactly the bug these
 * tests look for, so responses are read with this small parser: an integer literal that is not a
 * safe integer becomes a bigint; every other number is a JS number. `stringifyJson` writes bigints
 * as bare integer literals.
 */

export type JsonValue = null | boolean | number | bigint | string | JsonValue[] | { [key: string]: JsonValue };

/** JSON text with every bigint written as a plain integer literal. */
export function stringifyJson(value: unknown): string {
  const marker = '\u0000big:';
  const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${marker}${v.toString()}` : v));
  return text.replace(/"\\u0000big:(-?\d+)"/g, '$1');
}

/** Parses JSON text; integers outside ±(2^53 - 1) come back as bigint. Throws on malformed input. */
export function parseJson(text: string): JsonValue {
  let pos = 0;

  const fail = (what: string): never => {
    throw new SyntaxError(`parseJson: ${what} at offset ${pos} of ${JSON.stringify(text.slice(Math.max(0, pos - 20), pos + 20))}`);
  };
  const skipSpace = () => {
    while (pos < text.length && ' \t\n\r'.includes(text[pos]!)) pos++;
  };
  const literal = (word: string, value: JsonValue): JsonValue => {
    if (text.startsWith(word, pos)) {
      pos += word.length;
      return value;
    }
    return fail(`expected ${word}`);
  };
  const number = (): JsonValue => {
    const match = /^-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(pos, pos + 400));
    if (match === null) return fail('bad number');
    pos += match[0].length;
    const isInteger = match[1] === undefined && match[2] === undefined;
    const asNumber = Number(match[0]);
    if (isInteger && !Number.isSafeInteger(asNumber)) return BigInt(match[0]);
    return asNumber;
  };
  const string = (): string => {
    // Find the closing quote, honouring escapes, then let JSON.parse decode the literal.
    const start = pos;
    pos++;
    while (pos < text.length && text[pos] !== '"') pos += text[pos] === '\\' ? 2 : 1;
    if (pos >= text.length) fail('unterminated string');
    pos++;
    return JSON.parse(text.slice(start, pos)) as string;
  };
  const value = (): JsonValue => {
    skipSpace();
    const c = text[pos];
    if (c === '{') {
      pos++;
      const out: { [key: string]: JsonValue } = {};
      skipSpace();
      if (text[pos] === '}') {
        pos++;
        return out;
      }
      for (;;) {
        skipSpace();
        if (text[pos] !== '"') fail('expected a key');
        const key = string();
        skipSpace();
        if (text[pos] !== ':') fail("expected ':'");
        pos++;
        out[key] = value();
        skipSpace();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        if (text[pos] === '}') {
          pos++;
          return out;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      pos++;
      const out: JsonValue[] = [];
      skipSpace();
      if (text[pos] === ']') {
        pos++;
        return out;
      }
      for (;;) {
        out.push(value());
        skipSpace();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        if (text[pos] === ']') {
          pos++;
          return out;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return string();
    if (c === 't') return literal('true', true);
    if (c === 'f') return literal('false', false);
    if (c === 'n') return literal('null', null);
    return number();
  };

  const result = value();
  skipSpace();
  if (pos !== text.length) fail('trailing characters');
  return result;
}

/** Flattens nested JSON tensor data in row-major order. */
export function flatten(data: unknown): unknown[] {
  if (!Array.isArray(data)) return [data];
  const out: unknown[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) for (const x of v) walk(x);
    else out.push(v);
  };
  walk(data);
  return out;
}
