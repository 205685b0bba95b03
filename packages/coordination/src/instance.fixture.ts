import type { InstanceInfo } from './instance.js';

export type Announced = Omit<InstanceInfo, 'updatedAt'>;

/** What a worker called `id` announces, with `overrides`. */
export function instance(id: string, overrides: Partial<Announced> = {}): Announced {
  return {
    id,
    pool: 'onnx',
    kind: 'sibyl-onnx',
    httpAddress: `${id}.local:8000`,
    grpcAddress: `${id}.local:8001`,
    memoryBudgetBytes: 1 << 30,
    warmModels: [],
    load: 0,
    draining: false,
    startedAt: 1_700_000_000_000,
    ...overrides,
  };
}
