import type { RegisterOptions } from './coordination.js';
import { optionInvalid } from './errors.js';
import type { InstanceInfo, InstanceKind, InstanceUpdate } from './instance.js';

const KINDS: ReadonlySet<InstanceKind> = new Set(['sibyl-onnx', 'sibyl-tf', 'triton', 'torchserve', 'pipeline']);

/** A registration's timing, defaults applied and checked. */
export interface RegistrationTiming {
  /** Heartbeat period, milliseconds. */
  readonly heartbeatMs: number;
  /** Lifetime of the instance key without a heartbeat, milliseconds. */
  readonly ttlMs: number;
}

export const DEFAULT_HEARTBEAT_MS = 1000;
export const DEFAULT_TTL_MS = 3000;

/**
 * Applies the defaults and refuses a TTL that a heartbeat could not keep alive: a TTL shorter than
 * twice the heartbeat would let a single late heartbeat (a GC pause, a slow write) expire a healthy
 * instance.
 */
export function normalizeTiming(options: RegisterOptions = {}): RegistrationTiming {
  const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
  positiveInteger('heartbeatMs', heartbeatMs);
  positiveInteger('ttlMs', ttlMs);
  if (ttlMs < 2 * heartbeatMs) {
    throw optionInvalid('ttlMs', `must be at least twice heartbeatMs (${heartbeatMs}), got ${ttlMs}`);
  }
  return Object.freeze({ heartbeatMs, ttlMs });
}

export function positiveInteger(option: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw optionInvalid(option, `must be a positive integer of milliseconds, got ${String(value)}`);
  }
}

/** Checks what a worker announces; a bad field is a programming error, caught at registration. */
export function checkInstance(info: Omit<InstanceInfo, 'updatedAt'>): void {
  for (const field of ['id', 'pool', 'httpAddress', 'grpcAddress'] as const) {
    if (typeof info[field] !== 'string' || info[field] === '') throw optionInvalid(field, 'must be a non-empty string');
  }
  if (!KINDS.has(info.kind)) throw optionInvalid('kind', `must be one of ${[...KINDS].join(', ')}, got ${String(info.kind)}`);
  if (!Number.isSafeInteger(info.memoryBudgetBytes) || info.memoryBudgetBytes < 0) {
    throw optionInvalid('memoryBudgetBytes', `must be a non-negative integer, got ${String(info.memoryBudgetBytes)}`);
  }
  if (!Number.isFinite(info.startedAt)) throw optionInvalid('startedAt', 'must be milliseconds since the epoch');
  if (typeof info.draining !== 'boolean') throw optionInvalid('draining', 'must be a boolean');
  checkUpdate({ warmModels: info.warmModels, load: info.load });
}

export function checkUpdate(patch: InstanceUpdate): void {
  if (patch.warmModels !== undefined && (!Array.isArray(patch.warmModels) || patch.warmModels.some((m) => typeof m !== 'string'))) {
    throw optionInvalid('warmModels', 'must be an array of `model/version` strings');
  }
  if (patch.load !== undefined && (!Number.isFinite(patch.load) || patch.load < 0)) {
    throw optionInvalid('load', `must be a non-negative number, got ${String(patch.load)}`);
  }
  if (patch.draining !== undefined && typeof patch.draining !== 'boolean') throw optionInvalid('draining', 'must be a boolean');
}
