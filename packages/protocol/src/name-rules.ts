/**
 * What a model name and a model version may look like (DESIGN.md §5), everywhere one is read: a name is never a
 * path, a version is a decimal number as in Triton's route regex. No imports, so any errors.ts
 * can quote the rules in its messages.
 */

export const MODEL_NAME_RULE = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$';
export const MODEL_VERSION_RULE = '[0-9]+';

const MODEL_NAME = new RegExp(MODEL_NAME_RULE);
const MODEL_VERSION = /^[0-9]+$/;

export function isValidModelName(name: string): boolean {
  return MODEL_NAME.test(name);
}

export function isValidModelVersion(version: string): boolean {
  return MODEL_VERSION.test(version);
}
