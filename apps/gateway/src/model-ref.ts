/**
 * The (name, version) pair every model route and RPC carries, checked at the edge before the data
 * plane sees it, so no backend ever receives a name with `/` or `..` in it.
 */
import { modelNameInvalid, modelVersionInvalid } from './errors.js';
import { isValidModelName, isValidModelVersion } from '@sibyl/protocol';

/** Throws SIBYL_GATEWAY_MODEL_NAME_INVALID unless `name` matches MODEL_NAME_RULE. */
export function checkModelName(name: string): string {
  if (!isValidModelName(name)) throw modelNameInvalid(name);
  return name;
}

/**
 * Undefined or empty means "the server's version policy picks" and yields undefined; anything else
 * must match MODEL_VERSION_RULE or SIBYL_GATEWAY_MODEL_VERSION_INVALID is thrown.
 */
export function checkModelVersion(version: string | undefined): string | undefined {
  if (version === undefined || version === '') return undefined;
  if (!isValidModelVersion(version)) throw modelVersionInvalid(version);
  return version;
}
