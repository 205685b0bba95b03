/**
 * Checks of what callers hand the registry, before any SQL runs. The management API validates
 * requests with its own schema too; these checks keep the registry safe for every other caller
 * (the CLI, the repository import, tests) and make every refusal name its field.
 */
import { DATATYPES, isDatatype, isValidModelName } from '@sibyl/protocol';
import { fieldInvalid, fieldUnknown, modelNameInvalid } from './errors.js';
import {
  ARTIFACT_FORMATS,
  VERSION_STATES,
  type ArtifactFormat,
  type VersionSignature,
  type VersionState,
} from './registry-types.js';

const SHA256 = /^[0-9a-f]{64}$/;
const MAX_TEXT = 256;
const MAX_DESCRIPTION = 4096;
const MAX_LABELS = 64;
const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9_.\/-]{0,62}$/;
const MAX_LABEL_VALUE = 256;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function checkObject(value: unknown, field: string, known: readonly string[]): Record<string, unknown> {
  if (!isPlainObject(value)) throw fieldInvalid(field, 'an object', value);
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) throw fieldUnknown(field === '' ? key : `${field}.${key}`, known);
  }
  return value;
}

export function checkModelName(name: unknown): string {
  if (typeof name !== 'string' || !isValidModelName(name)) throw modelNameInvalid(name);
  return name;
}

/** Tenants are named like models: never a path. */
export function checkTenant(tenant: unknown, field = 'tenant'): string {
  if (typeof tenant !== 'string' || !isValidModelName(tenant)) {
    throw fieldInvalid(field, 'a tenant name (letters, digits, _ . -; at most 128)', tenant);
  }
  return tenant;
}

export function checkText(value: unknown, field: string, max = MAX_TEXT, allowEmpty = false): string {
  if (typeof value !== 'string' || (!allowEmpty && value === '') || value.length > max) {
    throw fieldInvalid(field, `${allowEmpty ? 'a' : 'a non-empty'} string of at most ${max} characters`, value);
  }
  return value;
}

export function checkOptionalText(value: unknown, field: string): string | null {
  return value === undefined || value === null ? null : checkText(value, field);
}

export function checkDescription(value: unknown, field = 'description'): string {
  return checkText(value, field, MAX_DESCRIPTION, true);
}

export function checkLabels(value: unknown, field = 'labels'): Record<string, string> {
  if (!isPlainObject(value)) throw fieldInvalid(field, 'an object of string labels', value);
  const entries = Object.entries(value);
  if (entries.length > MAX_LABELS) throw fieldInvalid(field, `at most ${MAX_LABELS} labels`, `${entries.length} labels`);
  const labels: Record<string, string> = {};
  for (const [key, label] of entries) {
    if (!LABEL_KEY.test(key)) throw fieldInvalid(`${field}`, `label keys matching ${LABEL_KEY.source}`, key);
    if (typeof label !== 'string' || label.length > MAX_LABEL_VALUE) {
      throw fieldInvalid(`${field}.${key}`, `a string of at most ${MAX_LABEL_VALUE} characters`, label);
    }
    labels[key] = label;
  }
  return labels;
}

export function checkVersionNumber(value: unknown, field = 'version'): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > 2_147_483_647) {
    throw fieldInvalid(field, 'a whole number from 1 to 2147483647', value);
  }
  return value;
}

export function checkSha256(value: unknown, field = 'sha256'): string {
  if (typeof value !== 'string' || !SHA256.test(value)) throw fieldInvalid(field, '64 lower-case hex digits', value);
  return value;
}

export function checkSize(value: unknown, field = 'size'): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw fieldInvalid(field, 'a whole number of bytes, 0 or more', value);
  }
  return value;
}

/** A base name as the artifact store keeps it: never a path. */
export function checkFilename(value: unknown, field = 'filename'): string {
  if (typeof value !== 'string' || value === '' || value.length > MAX_TEXT || /[\/\\\0]/.test(value) || value === '.' || value === '..') {
    throw fieldInvalid(field, 'a file name without a directory part', value);
  }
  return value;
}

export function checkFormat(value: unknown, field = 'format'): ArtifactFormat {
  if (!(ARTIFACT_FORMATS as readonly unknown[]).includes(value)) throw fieldInvalid(field, `one of ${ARTIFACT_FORMATS.join(', ')}`, value);
  return value as ArtifactFormat;
}

export function checkState(value: unknown, field = 'state'): VersionState {
  if (!(VERSION_STATES as readonly unknown[]).includes(value)) throw fieldInvalid(field, `one of ${VERSION_STATES.join(', ')}`, value);
  return value as VersionState;
}

function checkTensors(value: unknown, field: string): VersionSignature['inputs'] {
  if (!Array.isArray(value)) throw fieldInvalid(field, 'an array of tensors', value);
  return value.map((tensor, i) => {
    const where = `${field}[${i}]`;
    const t = checkObject(tensor, where, ['name', 'datatype', 'shape']);
    const name = checkText(t.name, `${where}.name`);
    if (!isDatatype(t.datatype)) throw fieldInvalid(`${where}.datatype`, `one of ${DATATYPES.join(', ')}`, t.datatype);
    if (!Array.isArray(t.shape)) throw fieldInvalid(`${where}.shape`, 'an array of dimensions', t.shape);
    const shape = t.shape.map((d: unknown, j: number) => {
      if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < -1) {
        throw fieldInvalid(`${where}.shape[${j}]`, 'a whole number, -1 for a variable dimension', d);
      }
      return d;
    });
    return { name, datatype: t.datatype, shape };
  });
}

export function checkSignature(value: unknown, field = 'signature'): VersionSignature {
  const s = checkObject(value, field, ['platform', 'inputs', 'outputs', 'maxBatchSize']);
  const signature: VersionSignature = {
    platform: checkText(s.platform, `${field}.platform`),
    inputs: checkTensors(s.inputs, `${field}.inputs`),
    outputs: checkTensors(s.outputs, `${field}.outputs`),
  };
  if (s.maxBatchSize !== undefined) {
    if (typeof s.maxBatchSize !== 'number' || !Number.isSafeInteger(s.maxBatchSize) || s.maxBatchSize < 0) {
      throw fieldInvalid(`${field}.maxBatchSize`, 'a whole number, 0 or more', s.maxBatchSize);
    }
    signature.maxBatchSize = s.maxBatchSize;
  }
  return signature;
}

export function checkConfig(value: unknown, field = 'config'): Record<string, unknown> | null {
  if (value === undefined || value === null) return null;
  if (!isPlainObject(value)) throw fieldInvalid(field, 'an object (the model config)', value);
  return value;
}

export function checkEventsLimit(value: unknown): number {
  if (value === undefined) return 100;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > 1000) {
    throw fieldInvalid('limit', 'a whole number from 1 to 1000', value);
  }
  return value;
}

export function checkEventCursor(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw fieldInvalid('before', 'an event id (a whole number, 1 or more)', value);
  }
  return value;
}
