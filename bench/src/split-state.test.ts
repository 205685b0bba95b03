import { describe, expect, it } from 'vitest';
import { databaseUrlFor, parseIntegerReplies, redactUrl, redisUrlWithDb } from './split-state.js';

describe('scratch state URLs', () => {
  it('points at another database or index on the same server, credentials kept', () => {
    expect(databaseUrlFor('postgres://postgres:pw@127.0.0.1:5432/test?sslmode=disable', 'sibyl_bench_ab')).toBe('postgres://postgres:pw@127.0.0.1:5432/sibyl_bench_ab?sslmode=disable');
    expect(redisUrlWithDb('redis://127.0.0.1:6379', 7)).toBe('redis://127.0.0.1:6379/7');
    expect(redisUrlWithDb('redis://:pw@127.0.0.1:6379/0', 12)).toBe('redis://:pw@127.0.0.1:6379/12');
  });

  it('hides a password in what the report prints', () => {
    expect(redactUrl('redis://user:secret@host:6379/3')).toBe('redis://user:***@host:6379/3');
    expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });
});

describe('parseIntegerReplies', () => {
  it('waits for every reply, then returns them in order', () => {
    expect(parseIntegerReplies('+OK\r\n', 2)).toBeUndefined();
    expect(parseIntegerReplies('+OK\r\n:4', 2)).toBeUndefined();
    expect(parseIntegerReplies('+OK\r\n:42\r\n', 2)).toEqual(['OK', 42]);
  });

  it('throws on an error reply or a reply it does not read', () => {
    expect(() => parseIntegerReplies('-ERR DB index is out of range\r\n', 2)).toThrow(/DB index is out of range/);
    expect(() => parseIntegerReplies('$3\r\nabc\r\n', 1)).toThrow(/unexpected reply/);
  });
});
