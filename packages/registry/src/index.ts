export type { Db, DbKind, ListenOptions, Queryable, QueryResult } from './db.js';
export { openDb, type OpenDbOptions } from './open-db.js';
export {
  loadMigrations,
  migrate,
  migrationChecksum,
  MIGRATIONS_DIR,
  type MigrateOptions,
  type MigrateResult,
  type Migration,
} from './migrate.js';
export { createRegistry, type Registry, type RegistryOptions } from './registry.js';
export { openRegistry, type OpenedRegistry, type OpenRegistryOptions } from './open-registry.js';
export { REGISTRY_CHANNEL } from './audit.js';
export { explainRules, globMatch, matchRule, orderRules, versionFacts } from './rule-match.js';
export * from './registry-types.js';
export * from './errors.js';
