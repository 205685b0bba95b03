/**
 * How the registry starts PGlite, in process or on its thread: PGlite's own start parameters, with
 * PostgreSQL's shared_buffers cut from its default 128 MB to 16 MB. In PGlite the buffer pool is WASM
 * memory that stays resident once touched (measured: 244 MiB more resident for an open database with
 * the default, 124 MiB with 16 MB), and the registry's tables hold a few MB: 16 MB keeps all of them
 * cached many times over.
 */
import { PGlite, type PGliteOptions } from '@electric-sql/pglite';

export const REGISTRY_SHARED_BUFFERS = '16MB';

export function registryPgliteOptions(dataDir: string | undefined): PGliteOptions {
  const startParams = [...PGlite.defaultStartParams, '-c', `shared_buffers=${REGISTRY_SHARED_BUFFERS}`];
  return dataDir === undefined ? { startParams } : { dataDir, startParams };
}
