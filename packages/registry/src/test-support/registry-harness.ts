/** One migrated database and a registry on it for a whole describe block, with unique model names. */
import { afterAll, beforeAll } from 'vitest';
import { migrate } from '../migrate.js';
import { createRegistry, type Registry } from '../registry.js';
import { openHarness, type Backend, type Harness } from './backends.js';

export interface RegistryFixture {
  readonly h: Harness;
  readonly registry: Registry;
  /** A model name no other test of the block uses. */
  name(prefix?: string): string;
}

export function useRegistry(backend: Backend): RegistryFixture {
  let harness: Harness | undefined;
  let registry: Registry | undefined;
  let counter = 0;
  beforeAll(async () => {
    harness = await openHarness(backend);
    await migrate(harness.db);
    registry = createRegistry(harness.db, { actor: 'tester' });
  }, 60_000);
  afterAll(() => harness?.cleanup(), 60_000);
  return {
    get h() {
      return harness!;
    },
    get registry() {
      return registry!;
    },
    name: (prefix = 'model') => `${prefix}-${++counter}`,
  };
}
