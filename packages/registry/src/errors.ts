/**
 * The registry's coded errors.
 *
 * Lookups are NOT_FOUND, changes refused by the current state are CONFLICT, bad input is
 * INVALID_ARGUMENT and names the field. Schema and migration errors stop start-up: they say which
 * versions or files disagree, because the fix is an operator's (upgrade the code, restore the file).
 */
import { MODEL_NAME_RULE, defineError } from '@sibyl/protocol';
import type { VersionFacts } from './registry-types.js';

function show(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return value.length > 40 ? `"${value.slice(0, 37)}..."` : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return Array.isArray(value) ? `an array of ${value.length}` : typeof value === 'object' ? 'an object' : typeof value;
}

// ---- input ---------------------------------------------------------------------------------------

export const modelNameInvalid = defineError(
  'SIBYL_REGISTRY_MODEL_NAME_INVALID',
  'INVALID_ARGUMENT',
  'A model name does not follow the naming rule (it is never a path).',
  (name: unknown) => `invalid model name ${show(name)}: a model name must match ${MODEL_NAME_RULE}`,
);

export const fieldInvalid = defineError(
  'SIBYL_REGISTRY_FIELD_INVALID',
  'INVALID_ARGUMENT',
  'A field given to the registry has the wrong type or an out-of-range value.',
  (field: string, expected: string, got: unknown) => `field '${field}': expected ${expected}, got ${show(got)}`,
);

export const fieldUnknown = defineError(
  'SIBYL_REGISTRY_FIELD_UNKNOWN',
  'INVALID_ARGUMENT',
  'A request to the registry carries a field it does not know.',
  (field: string, known: readonly string[]) => `unknown field '${field}'; known fields: ${known.join(', ')}`,
);

// ---- models --------------------------------------------------------------------------------------

export const modelNotFound = defineError(
  'SIBYL_REGISTRY_MODEL_NOT_FOUND',
  'NOT_FOUND',
  'The model is not registered.',
  (model: string) => `model '${model}' is not registered`,
);

export const modelExists = defineError(
  'SIBYL_REGISTRY_MODEL_EXISTS',
  'CONFLICT',
  'A model with this name is already registered.',
  (model: string) => `model '${model}' already exists`,
);

export const modelHasLiveVersion = defineError(
  'SIBYL_REGISTRY_MODEL_LIVE',
  'CONFLICT',
  'A model cannot be deleted while one of its versions is live.',
  (model: string, live: number) =>
    `model '${model}' cannot be deleted while version ${live} is live; undeploy it first`,
);

// ---- versions ------------------------------------------------------------------------------------

export const versionNotFound = defineError(
  'SIBYL_REGISTRY_VERSION_NOT_FOUND',
  'NOT_FOUND',
  'The model has no version with this number.',
  (model: string, version: number) => `model '${model}' has no version ${version}`,
);

export const versionExists = defineError(
  'SIBYL_REGISTRY_VERSION_EXISTS',
  'CONFLICT',
  'An explicit version number given on registration is already taken.',
  (model: string, version: number) => `model '${model}' already has a version ${version}`,
);

export const versionLive = defineError(
  'SIBYL_REGISTRY_VERSION_LIVE',
  'CONFLICT',
  'The live version of a model cannot be retired.',
  (model: string, version: number) =>
    `version ${version} of model '${model}' is live and cannot be retired; deploy another version first`,
);

export const versionNotDeployable = defineError(
  'SIBYL_REGISTRY_VERSION_NOT_DEPLOYABLE',
  'CONFLICT',
  'A retired or failed version cannot be deployed or rolled back to.',
  (model: string, version: number, state: string, reason: string) =>
    `version ${version} of model '${model}' is ${state}${reason === '' ? '' : ` (${reason})`} and cannot be made live`,
);

export const versionRetired = defineError(
  'SIBYL_REGISTRY_VERSION_RETIRED',
  'CONFLICT',
  'A retired version is final: its state cannot change any more.',
  (model: string, version: number, wanted: string) =>
    `version ${version} of model '${model}' is retired; it cannot become ${wanted}`,
);

export const noPreviousVersion = defineError(
  'SIBYL_REGISTRY_NO_PREVIOUS_VERSION',
  'CONFLICT',
  'Rollback needs a version that was live before the current one.',
  (model: string, live: number | null) =>
    live === null
      ? `model '${model}' has no live version and nothing to roll back to`
      : `model '${model}' has no previous version to roll back to (version ${live} is live)`,
);

// ---- routing: pools, rules, traffic --------------------------------------------------------------

/** How a version's routing metadata reads in messages. */
export function describeFacts(facts: VersionFacts): string {
  const labels = Object.entries(facts.labels).map(([k, v]) => `${k}: ${JSON.stringify(v)}`);
  return (
    `model '${facts.name}' version ${facts.version} (platform '${facts.platform}', ` +
    `algorithm ${facts.algorithm === null ? 'null' : `'${facts.algorithm}'`}, tenant '${facts.tenant}', ` +
    `labels {${labels.join(', ')}})`
  );
}

export const poolNameInvalid = defineError(
  'SIBYL_REGISTRY_POOL_NAME_INVALID',
  'INVALID_ARGUMENT',
  'A pool name does not follow the naming rule of model names.',
  (name: unknown) => `invalid pool name ${show(name)}: a pool name must match ${MODEL_NAME_RULE}`,
);

export const poolSourceInvalid = defineError(
  'SIBYL_REGISTRY_POOL_SOURCE_INVALID',
  'INVALID_ARGUMENT',
  'A pool needs exactly one source of instances: fixed endpoints, or discovery.',
  (pool: string, endpoints: number, discovery: boolean) =>
    discovery
      ? `pool '${pool}' has discovery on and ${endpoints} fixed endpoint(s); give one or the other`
      : `pool '${pool}' has no endpoints and discovery off; give endpoints, or turn discovery on`,
);

export const poolNotFound = defineError(
  'SIBYL_REGISTRY_POOL_NOT_FOUND',
  'NOT_FOUND',
  'No backend pool has this name.',
  (pool: string) => `pool '${pool}' does not exist`,
);

export const poolExists = defineError(
  'SIBYL_REGISTRY_POOL_EXISTS',
  'CONFLICT',
  'A backend pool with this name already exists.',
  (pool: string) => `pool '${pool}' already exists`,
);

export const poolInUse = defineError(
  'SIBYL_REGISTRY_POOL_IN_USE',
  'CONFLICT',
  'A pool that routing rules name cannot be deleted.',
  (pool: string, rules: readonly number[]) =>
    `pool '${pool}' is named by routing rule${rules.length === 1 ? '' : 's'} ${rules.join(', ')}; change or delete ${rules.length === 1 ? 'it' : 'them'} first`,
);

export const ruleNotFound = defineError(
  'SIBYL_REGISTRY_RULE_NOT_FOUND',
  'NOT_FOUND',
  'No routing rule has this id.',
  (id: number) => `routing rule ${id} does not exist`,
);

export const noRoute = defineError(
  'SIBYL_REGISTRY_NO_ROUTE',
  'CONFLICT',
  'A version cannot be made live, canary or shadow when no routing rule matches its metadata, because no pool could serve it.',
  (facts: VersionFacts) => `${describeFacts(facts)} matches no routing rule; add a rule (or change one) that matches it first`,
);

export const ruleInUse = defineError(
  'SIBYL_REGISTRY_ROUTE_IN_USE',
  'CONFLICT',
  'A routing rule change or deletion is refused when it would leave a live, canary or shadow version matching no rule.',
  (id: number, change: 'update' | 'delete', facts: VersionFacts, role: string) =>
    `${change === 'update' ? 'updating' : 'deleting'} routing rule ${id} would leave ${describeFacts(facts)}, the ${role} version, matching no routing rule`,
);

export const trafficVersionInvalid = defineError(
  'SIBYL_REGISTRY_TRAFFIC_VERSION_INVALID',
  'CONFLICT',
  'A canary or shadow version must exist, must not be retired or failed, and must differ from the live version.',
  (model: string, version: number, role: 'canary' | 'shadow', why: string) =>
    `version ${version} of model '${model}' cannot be the ${role}: ${why}`,
);

export const nothingLive = defineError(
  'SIBYL_REGISTRY_NOTHING_LIVE',
  'CONFLICT',
  'A canary or shadow needs a live version to split traffic from.',
  (model: string, role: 'canary' | 'shadow') => `model '${model}' has no live version; deploy one before setting a ${role}`,
);

// ---- schema and database -------------------------------------------------------------------------

export const schemaTooNew = defineError(
  'SIBYL_REGISTRY_SCHEMA_TOO_NEW',
  'UNAVAILABLE',
  'The database schema was migrated by a newer Sibyl than this one; start-up stops rather than guess.',
  (databaseVersion: number, codeVersion: number) =>
    `the registry database is at schema version ${databaseVersion}, newer than the ${codeVersion} this Sibyl knows; upgrade Sibyl, or point it at another database`,
);

export const migrationChanged = defineError(
  'SIBYL_REGISTRY_MIGRATION_CHANGED',
  'INTERNAL',
  'An already applied migration file was edited after it ran; start-up stops.',
  (version: number, name: string, recorded: string, actual: string) =>
    `migration ${version} (${name}) was applied with checksum ${recorded.slice(0, 12)}, but the file now has ${actual.slice(0, 12)}; applied migrations must never change, add a new one instead`,
);

export const migrationMissing = defineError(
  'SIBYL_REGISTRY_MIGRATION_MISSING',
  'INTERNAL',
  'The database records a migration that this Sibyl does not have.',
  (version: number, name: string) =>
    `the registry database records migration ${version} (${name}), which this Sibyl does not have`,
);

export const migrationFailed = defineError(
  'SIBYL_REGISTRY_MIGRATION_FAILED',
  'INTERNAL',
  'A migration failed; its transaction was rolled back and start-up stops.',
  (file: string, detail: string) => `migration ${file} failed and was rolled back: ${detail}`,
);

export const migrationsInvalid = defineError(
  'SIBYL_REGISTRY_MIGRATIONS_INVALID',
  'INTERNAL',
  'The migrations directory holds a file whose name is not NNNN_name.sql, or two files with one number.',
  (dir: string, detail: string) => `migrations in ${dir}: ${detail}`,
);

export const dataDirInUse = defineError(
  'SIBYL_REGISTRY_DATA_DIR_IN_USE',
  'UNAVAILABLE',
  'Another process (or another open registry in this one) holds the embedded database directory.',
  (dir: string, pid: number, lockFile: string) =>
    `registry data directory ${dir} is in use by process ${pid}; stop it, or delete ${lockFile} if no Sibyl is running`,
);

export const databaseUnavailable = defineError(
  'SIBYL_REGISTRY_UNAVAILABLE',
  'UNAVAILABLE',
  'The registry database cannot be reached or closed the connection.',
  (detail: string) => `registry database unavailable: ${detail}`,
);
