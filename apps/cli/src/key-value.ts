import { usageError } from './cli-error.js';

/** Splits `key=value` at the first `=`; both sides must be non-empty. */
export function parseKeyValue(flag: string, raw: string, usage: string): [key: string, value: string] {
  const at = raw.indexOf('=');
  if (at <= 0) throw usageError(`--${flag}: expected KEY=VALUE, got '${raw}'`, usage);
  const key = raw.slice(0, at);
  const value = raw.slice(at + 1);
  if (value === '' && flag !== 'label') throw usageError(`--${flag}: '${key}' has no value`, usage);
  return [key, value];
}

/** A positive whole number: a model version. */
export function parseVersion(name: string, raw: string, usage: string): number {
  if (!/^[0-9]+$/.test(raw) || Number(raw) < 1 || !Number.isSafeInteger(Number(raw))) {
    throw usageError(`${name}: expected a version number (1, 2, ...), got '${raw}'`, usage);
  }
  return Number(raw);
}
