/**
 * Typed reads of one JSON object of a config.json, each failure naming the field's full path.
 *
 * Integer fields accept a JSON number or a decimal string, as the protobuf JSON mapping does (Triton
 * writes int64 fields such as `dims` as strings in its own JSON output).
 */
import { configInvalid } from './errors.js';

export interface ConfigWarning {
  field: string;
  message: string;
}

/** Where a config is being read: the model, its file, and the warnings collected so far. */
export interface ConfigContext {
  model: string;
  file: string;
  warnings: ConfigWarning[];
}

export type JsonObject = Record<string, unknown>;

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

export function fail(ctx: ConfigContext, field: string, why: string): never {
  throw configInvalid(ctx.model, ctx.file, field, why);
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function objectAt(ctx: ConfigContext, field: string, value: unknown): JsonObject {
  if (!isObject(value)) fail(ctx, field, `must be an object, got ${describe(value)}`);
  return value;
}

export function arrayAt(ctx: ConfigContext, field: string, value: unknown): unknown[] {
  if (!Array.isArray(value)) fail(ctx, field, `must be an array, got ${describe(value)}`);
  return value;
}

export function stringAt(ctx: ConfigContext, field: string, value: unknown): string {
  if (typeof value !== 'string') fail(ctx, field, `must be a string, got ${describe(value)}`);
  return value;
}

export function booleanAt(ctx: ConfigContext, field: string, value: unknown): boolean {
  if (typeof value !== 'boolean') fail(ctx, field, `must be true or false, got ${describe(value)}`);
  return value;
}

/** An integer (number or decimal string) no smaller than `min`. */
export function integerAt(ctx: ConfigContext, field: string, value: unknown, min: number, what: string): number {
  const n = typeof value === 'string' && /^-?[0-9]+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min) {
    fail(ctx, field, `must be ${what}, got ${describe(value)}`);
  }
  return n;
}

/** Converts lowerCamelCase to snake_case, to point a misspelt field at Triton's name. */
function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/**
 * Rejects fields `known` lacks (naming the first, with a hint for the camelCase spelling of a known
 * one) and records a warning for each field in `ignored` that is set to something other than its
 * default: these are Triton fields this runtime accepts but does not implement yet.
 */
export function checkFields(
  ctx: ConfigContext,
  path: string,
  obj: JsonObject,
  known: readonly string[],
  ignored: readonly string[] = [],
): void {
  for (const key of Object.keys(obj)) {
    const field = path === '' ? key : `${path}.${key}`;
    if (ignored.includes(key)) {
      if (!isDefault(obj[key])) {
        ctx.warnings.push({ field, message: `field '${field}' is not implemented by this runtime yet and is ignored` });
      }
      continue;
    }
    if (known.includes(key)) continue;
    const snake = snakeCase(key);
    const hint = snake !== key && (known.includes(snake) || ignored.includes(snake)) ? ` (Triton spells it '${snake}')` : '';
    fail(ctx, field, `unknown field${hint}; Triton's model configuration has no such field here`);
  }
}

/**
 * A scalar or list protobuf default (false, 0, "", []): setting it changes nothing. A message field
 * is never a default, even empty: `"dynamic_batching": {}` turns dynamic batching on in Triton.
 */
function isDefault(value: unknown): boolean {
  if (value === false || value === 0 || value === '' || value === null) return true;
  return Array.isArray(value) && value.length === 0;
}
