import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as errors from './errors.js';
import { SibylError, type ErrorFactory } from './sibyl-error.js';

const factories = Object.entries(errors) as [string, ErrorFactory<unknown[]>][];
const here = new URL('.', import.meta.url);
const tests = readdirSync(here)
  .filter((file) => file.endsWith('.test.ts') && file !== 'errors.test.ts')
  .map((file) => readFileSync(new URL(file, here), 'utf8'))
  .join('\n');

describe('protocol errors', () => {
  it('are coded INVALID_ARGUMENT factories with a description', () => {
    expect(factories.length).toBeGreaterThan(30);
    for (const [name, factory] of factories) {
      expect(factory.code, name).toMatch(/^SIBYL_[A-Z0-9]+(_[A-Z0-9]+)+$/);
      expect(factory.category, name).toBe('INVALID_ARGUMENT');
      expect(factory.description.length, name).toBeGreaterThan(20);
    }
    expect(new Set(factories.map(([, f]) => f.code)).size).toBe(factories.length);
  });

  it('build SibylErrors that map to HTTP 400 and gRPC INVALID_ARGUMENT', () => {
    const err = errors.elementCountMismatch("input 'x'", [2, 4], 8, 7);
    expect(err).toBeInstanceOf(SibylError);
    expect(err.code).toBe('SIBYL_TENSOR_ELEMENT_COUNT');
    expect(err.httpStatus).toBe(400);
    expect(err.grpcCode).toBe(3);
    expect(err.message).toBe("input 'x': expected 8 elements for shape [2,4], got 7");
  });

  it('show client values briefly, never a whole payload', () => {
    const long = 'x'.repeat(10_000);
    expect(errors.fieldType('id', 'a string', long).message.length).toBeLessThan(100);
    expect(errors.fieldType('inputs', 'an array', new Array(5)).message).toContain('array of 5');
    expect(errors.valueType("input 'x'", 'INT64', 0, 'an integer', undefined).message).toContain('got nothing');
    expect(errors.datatypeUnknown("input 'x'", 7).message).toContain('unknown datatype number 7');
    expect(errors.inputUnknown('m', 'y', []).message).toBe("unexpected input 'y' for model 'm'; its inputs are none");
  });

  it('each one is produced by some codec or validation test', () => {
    for (const [name, factory] of factories) expect(tests, `${name} (${factory.code}) is never tested`).toContain(factory.code);
  });
});
