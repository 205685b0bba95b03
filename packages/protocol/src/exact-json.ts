/**
 * JSON with exact 64-bit integers.
 *
 * INT64 and UINT64 tensors and int64 parameters must survive the REST codec bit for bit, but
 * JSON.parse turns 9007199254740993 into 9007199254740992. parseJson returns integer literals
 * beyond ±(2^53−1) as bigint and is otherwise identical to JSON.parse (same values, same key order,
 * SyntaxError on bad input). Such a literal is a run of at least 16 digits that is neither a
 * fraction nor followed by one or by an exponent: text without such a run (including float data
 * with 17 significant digits, as Python writes it) takes the native parser, and only the rest pays
 * for the hand-written one (about 2.5 times slower).
 */

/**
 * A candidate unsafe integer literal. The leading class keeps the scan linear (a run is tried only
 * from its first digit) and skips fraction digits; exponent digits after a sign, or a run inside a
 * string, may still match, which only costs the slower parser.
 */
const LONG_INTEGER_RUN = /(?:^|[^.\d+eE])\d{16,}(?![.\deE])/;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = -MAX_SAFE;

/** JSON.parse, except that integer literals outside ±(2^53−1) become bigint. Throws SyntaxError. */
export function parseJson(text: string): unknown {
  if (!LONG_INTEGER_RUN.test(text)) return JSON.parse(text);
  return new ExactParser(text).parse();
}

type Container = unknown[] | Record<string, unknown>;

/** Iterative (an explicit stack, not recursion), so nesting depth is bounded only by memory, as in V8's own parser. */
class ExactParser {
  private pos = 0;

  constructor(private readonly text: string) {}

  parse(): unknown {
    const stack: Container[] = [];
    const keys: string[] = [];
    let value: unknown;
    for (;;) {
      // Read one value; an opening bracket pushes its container and reads the first member instead.
      this.skipSpace();
      const c = this.text.charCodeAt(this.pos);
      if (c === 0x7b /* { */) {
        this.pos++;
        this.skipSpace();
        if (this.text.charCodeAt(this.pos) === 0x7d /* } */) {
          this.pos++;
          value = {};
        } else {
          stack.push({});
          keys.push(this.readKey());
          continue;
        }
      } else if (c === 0x5b /* [ */) {
        this.pos++;
        this.skipSpace();
        if (this.text.charCodeAt(this.pos) === 0x5d /* ] */) {
          this.pos++;
          value = [];
        } else {
          stack.push([]);
          keys.push('');
          continue;
        }
      } else {
        value = this.readScalar(c);
      }
      // Store the value in its container; close every container that ends here.
      for (;;) {
        const top = stack[stack.length - 1];
        if (top === undefined) {
          this.skipSpace();
          if (this.pos < this.text.length) this.fail();
          return value;
        }
        const isArray = Array.isArray(top);
        if (isArray) top.push(value);
        else setMember(top, keys[keys.length - 1]!, value);
        this.skipSpace();
        const next = this.text.charCodeAt(this.pos);
        if (next === 0x2c /* , */) {
          this.pos++;
          if (!isArray) {
            this.skipSpace();
            keys[keys.length - 1] = this.readKey();
          }
          break;
        }
        if (next === (isArray ? 0x5d : 0x7d)) {
          this.pos++;
          value = stack.pop();
          keys.pop();
          continue;
        }
        this.fail();
      }
    }
  }

  /** A member name and its colon. */
  private readKey(): string {
    if (this.text.charCodeAt(this.pos) !== 0x22) this.fail();
    const key = this.readString();
    this.skipSpace();
    if (this.text.charCodeAt(this.pos) !== 0x3a /* : */) this.fail();
    this.pos++;
    return key;
  }

  private readScalar(c: number): unknown {
    const text = this.text;
    if (c === 0x22) return this.readString();
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.readNumber();
    if (text.startsWith('true', this.pos)) {
      this.pos += 4;
      return true;
    }
    if (text.startsWith('false', this.pos)) {
      this.pos += 5;
      return false;
    }
    if (text.startsWith('null', this.pos)) {
      this.pos += 4;
      return null;
    }
    return this.fail();
  }

  private readString(): string {
    const text = this.text;
    const start = this.pos;
    let plain = true;
    for (let i = start + 1; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        this.pos = i + 1;
        // Escapes and control characters are rare: the native parser decodes (or rejects) them.
        return plain ? text.slice(start + 1, i) : (JSON.parse(text.slice(start, i + 1)) as string);
      }
      if (c === 0x5c /* \ */) {
        plain = false;
        i++;
      } else if (c < 0x20) {
        plain = false;
      }
    }
    this.pos = text.length;
    return this.fail();
  }

  private readNumber(): number | bigint {
    const text = this.text;
    const start = this.pos;
    let i = start;
    if (text.charCodeAt(i) === 0x2d) i++;
    const first = text.charCodeAt(i);
    if (first === 0x30) i++;
    else if (first >= 0x31 && first <= 0x39) i = skipDigits(text, i);
    else return this.failAt(i);
    let integer = true;
    if (text.charCodeAt(i) === 0x2e /* . */) {
      integer = false;
      const end = skipDigits(text, i + 1);
      if (end === i + 1) return this.failAt(end);
      i = end;
    }
    const e = text.charCodeAt(i);
    if (e === 0x65 || e === 0x45) {
      integer = false;
      i++;
      const sign = text.charCodeAt(i);
      if (sign === 0x2b || sign === 0x2d) i++;
      const end = skipDigits(text, i);
      if (end === i) return this.failAt(end);
      i = end;
    }
    this.pos = i;
    const literal = text.slice(start, i);
    if (integer && literal.length >= 16) {
      const big = BigInt(literal);
      if (big > MAX_SAFE || big < MIN_SAFE) return big;
    }
    return Number(literal);
  }

  private skipSpace(): void {
    const text = this.text;
    let i = this.pos;
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
    this.pos = i;
  }

  private fail(): never {
    return this.failAt(this.pos);
  }

  private failAt(pos: number): never {
    if (pos >= this.text.length) throw new SyntaxError('Unexpected end of JSON input');
    throw new SyntaxError(`Unexpected token '${this.text.charAt(pos)}' in JSON at position ${pos}`);
  }
}

function skipDigits(text: string, i: number): number {
  for (;;) {
    const c = text.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) i++;
    else return i;
  }
}

/** As JSON.parse does: a "__proto__" member is an own property, never the prototype. */
function setMember(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

/**
 * JSON.stringify (no replacer, no indentation), except that bigint is written as a bare integer
 * literal rather than throwing. Non-finite numbers become null, as in JSON.stringify.
 */
export function stringifyJson(value: unknown): string {
  return writeValue(value, new Set()) ?? 'null';
}

function writeValue(value: unknown, open: Set<object>): string | undefined {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON(): unknown }).toJSON();
  }
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    case 'object': {
      if (value === null) return 'null';
      if (open.has(value)) throw new TypeError('Converting circular structure to JSON');
      open.add(value);
      let out: string;
      if (Array.isArray(value)) {
        out = '[';
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ',';
          out += writeValue(value[i], open) ?? 'null';
        }
        out += ']';
      } else {
        out = '{';
        let first = true;
        for (const key of Object.keys(value)) {
          const member = writeValue((value as Record<string, unknown>)[key], open);
          if (member === undefined) continue;
          out += `${first ? '' : ','}${JSON.stringify(key)}:${member}`;
          first = false;
        }
        out += '}';
      }
      open.delete(value);
      return out;
    }
    default:
      return undefined;
  }
}
