import type { InstanceInfo, InstanceKind } from './instance.js';

const KINDS: ReadonlySet<string> = new Set<InstanceKind>(['sibyl-onnx', 'sibyl-tf', 'triton', 'torchserve', 'pipeline']);

export function encodeInstance(info: InstanceInfo): string {
  return JSON.stringify(info);
}

/**
 * Reads an instance key written by any Sibyl process. Returns undefined for anything that is not a
 * complete InstanceInfo (another version's format, a hand-written key), so one bad key cannot take
 * the whole set down; the caller logs it.
 */
export function decodeInstance(text: string): InstanceInfo | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const strings = ['id', 'pool', 'httpAddress', 'grpcAddress'] as const;
  if (strings.some((k) => typeof v[k] !== 'string' || v[k] === '')) return undefined;
  if (typeof v.kind !== 'string' || !KINDS.has(v.kind)) return undefined;
  const numbers = ['memoryBudgetBytes', 'load', 'startedAt', 'updatedAt'] as const;
  if (numbers.some((k) => typeof v[k] !== 'number' || !Number.isFinite(v[k]))) return undefined;
  if (typeof v.draining !== 'boolean') return undefined;
  if (!Array.isArray(v.warmModels) || v.warmModels.some((m) => typeof m !== 'string')) return undefined;
  return Object.freeze({
    id: v.id as string,
    pool: v.pool as string,
    kind: v.kind as InstanceKind,
    httpAddress: v.httpAddress as string,
    grpcAddress: v.grpcAddress as string,
    memoryBudgetBytes: v.memoryBudgetBytes as number,
    warmModels: Object.freeze([...(v.warmModels as string[])]),
    load: v.load as number,
    draining: v.draining,
    startedAt: v.startedAt as number,
    updatedAt: v.updatedAt as number,
  });
}
