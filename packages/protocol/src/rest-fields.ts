/**
 * Typed reads of fields from a parsed JSON request, each failing with the field's path.
 */
import { fieldMissing, fieldType } from './errors.js';
import type { Parameters } from './tensor.js';

export type JsonObject = Record<string, unknown>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function objectAt(value: unknown, path: string): JsonObject {
  if (!isJsonObject(value)) throw fieldType(path, 'an object', value);
  return value;
}

export function requiredString(object: JsonObject, key: string, path: string): string {
  const value = object[key];
  if (value === undefined) throw fieldMissing(`${path}.${key}`);
  if (typeof value !== 'string') throw fieldType(`${path}.${key}`, 'a string', value);
  return value;
}

export function requiredArray(object: JsonObject, key: string, path: string): unknown[] {
  const value = object[key];
  if (value === undefined) throw fieldMissing(path === '' ? key : `${path}.${key}`);
  if (!Array.isArray(value)) throw fieldType(path === '' ? key : `${path}.${key}`, 'an array', value);
  return value;
}

/**
 * A `$parameters` object (spec §A.7): values are strings, numbers or booleans (bigint for integers
 * beyond 2^53). The parsed object itself is returned, not a copy.
 */
export function parametersAt(value: unknown, path: string): Parameters {
  const object = objectAt(value, path);
  for (const key in object) {
    const member = object[key];
    const type = typeof member;
    if (type !== 'string' && type !== 'number' && type !== 'boolean' && type !== 'bigint') {
      throw fieldType(`${path}.${key}`, 'a string, number or boolean', member);
    }
  }
  return object as Parameters;
}

export function hasKeys(object: object): boolean {
  for (const _ in object) return true;
  return false;
}
