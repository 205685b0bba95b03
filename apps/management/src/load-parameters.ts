/**
 * The parameters of Triton's repository load (spec/protocols.md §D.2), read and checked:
 * - `config`: a string holding the JSON form of a model config; it overrides the stored one.
 * - `file:<version>/<path>`: the base64 content of one file of the model; requires `config` (as in
 *   Triton). All files must name the same version directory. Management stores them as the model's
 *   next version: the directory number itself is not kept, as registry versions are never reused.
 * Any other key is refused (Triton answers 500 "unexpected error on creating Triton parameter").
 */
import { loadParameterInvalid } from './errors.js';

export interface LoadFile {
  /** Path inside the version directory, '/'-separated, checked to stay inside it. */
  path: string;
  content: Buffer;
}

export interface LoadParameters {
  config?: Record<string, unknown>;
  /** Empty for a plain load. */
  files: LoadFile[];
}

const FILE_PREFIX = 'file:';
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function parseLoadParameters(parameters: Readonly<Record<string, unknown>> | undefined): LoadParameters {
  const result: LoadParameters = { files: [] };
  let versionDir: string | undefined;
  for (const [key, value] of Object.entries(parameters ?? {})) {
    if (typeof value !== 'string') throw loadParameterInvalid(key, `must be a string (got ${value === null ? 'null' : typeof value})`);
    if (key === 'config') {
      result.config = parseConfig(value);
    } else if (key.startsWith(FILE_PREFIX)) {
      const [dir, path] = splitFileKey(key);
      if (versionDir !== undefined && dir !== versionDir) {
        throw loadParameterInvalid(key, `names version directory ${dir}, but another file: parameter names ${versionDir}; one load stores one version`);
      }
      versionDir = dir;
      result.files.push({ path, content: decodeBase64(key, value) });
    } else {
      throw loadParameterInvalid(key, "is not a load parameter: expected 'config' or 'file:<version>/<path>'");
    }
  }
  if (result.files.length > 0 && result.config === undefined) {
    throw loadParameterInvalid('config', 'is required when file: parameters are given (as in Triton): the JSON form of the model config');
  }
  return result;
}

function parseConfig(text: string): Record<string, unknown> {
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (err) {
    throw loadParameterInvalid('config', `is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw loadParameterInvalid('config', 'must hold a JSON object (a model config)');
  }
  return config as Record<string, unknown>;
}

/** `file:1/model.onnx` as ['1', 'model.onnx']; refuses paths that could leave the version directory. */
function splitFileKey(key: string): [string, string] {
  const rest = key.slice(FILE_PREFIX.length);
  const slash = rest.indexOf('/');
  const dir = slash === -1 ? rest : rest.slice(0, slash);
  const path = slash === -1 ? '' : rest.slice(slash + 1);
  if (!/^[0-9]+$/.test(dir)) throw loadParameterInvalid(key, "must be 'file:<version>/<path>' with a version directory made of digits");
  if (path === '') throw loadParameterInvalid(key, "names no file: expected 'file:<version>/<path>'");
  const segments = path.split('/');
  for (const segment of segments) {
    if (segment === '' || segment === '.' || segment === '..' || /[\\\x00-\x1f\x7f]/.test(segment)) {
      throw loadParameterInvalid(key, "has a path that is not a plain relative path (no '..', '.', empty segment, backslash or control character)");
    }
  }
  return [dir, path];
}

function decodeBase64(key: string, value: string): Buffer {
  const text = value.replace(/\s+/g, '');
  if (!BASE64.test(text)) throw loadParameterInvalid(key, 'is not valid base64 (the file content must be base64-encoded)');
  return Buffer.from(text, 'base64');
}
