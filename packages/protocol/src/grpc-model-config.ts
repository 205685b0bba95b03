/**
 * ModelConfig as the gRPC loader hands it over (PROTO_LOADER_OPTIONS: 64-bit integers as strings,
 * oneof names as extra fields, every repeated field present) back to the JSON form a REST client gets
 * (ModelConfiguration): the 64-bit fields of model_config.proto become numbers, the oneof markers and
 * empty lists go (proto3 cannot tell an empty list from an absent one), except `dims`, where an empty
 * list is a shape (one value per batch element).
 */
import type { ModelConfiguration } from './messages.js';

/** The int64/uint64 fields of the model_config.proto messages Sibyl declares (protos/inference/model_config.proto). */
const LONG_FIELDS: ReadonlySet<string> = new Set([
  'dims',
  'versions',
  'max_queue_delay_microseconds',
  'priority_levels',
  'default_priority_level',
  'default_timeout_microseconds',
]);

/** The oneof markers the loader adds (`oneofs: true`); the JSON form has only the chosen field. */
const ONEOF_MARKERS: ReadonlySet<string> = new Set(['policy_choice', 'scheduling_choice', 'input_data_type']);

function toNumber(value: unknown): unknown {
  return typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : value;
}

function normalise(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalise);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    if (ONEOF_MARKERS.has(key) || (Array.isArray(field) && field.length === 0 && key !== 'dims')) continue;
    if (LONG_FIELDS.has(key)) out[key] = Array.isArray(field) ? field.map(toNumber) : toNumber(field);
    else out[key] = normalise(field);
  }
  return out;
}

/** A decoded gRPC ModelConfig message in the REST JSON form. Throws when it has no name. */
export function modelConfigFromGrpc(message: unknown): ModelConfiguration {
  const config = normalise(message) as Record<string, unknown>;
  if (typeof config['name'] !== 'string') throw new TypeError('the ModelConfig message has no name');
  return config as unknown as ModelConfiguration;
}
