/**
 * The model repositories as a ModelSource: Triton's behaviour. Each call scans the directories,
 * reads and validates each config.json, and selects versions by version_policy; a request without
 * a version reaches the highest READY version. Nothing is watched: a directory is read when the
 * service loads.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@sibyl/observability';
import { isSibylError } from '@sibyl/protocol';
import { configInvalid, modelNameConflict, noVersions, versionDirMissing } from './errors.js';
import { defaultDeclaredConfig, parseModelConfig, type DeclaredConfig } from './model-config.js';
import type { ModelSource, SourceListing, SourceModel } from './model-source.js';
import { scanRepositories, type ScannedModel } from './repository-scan.js';
import { describePolicy, selectVersions } from './version-policy.js';

export const IN_NO_REPOSITORY = 'it is in none of the model repositories';

/** A model's config.json, parsed (`raw`) and validated (`config`); both absent without a file. */
export interface ReadConfig {
  raw: Record<string, unknown> | undefined;
  config: DeclaredConfig;
}

/** Throws SIBYL_CONFIG_INVALID for a config.json that does not parse or breaks a rule. */
export async function readModelConfig(model: ScannedModel): Promise<ReadConfig> {
  if (model.configFile === undefined) return { raw: undefined, config: defaultDeclaredConfig() };
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(model.configFile, 'utf8'));
  } catch (err) {
    throw configInvalid(model.name, model.configFile, '', `not valid JSON: ${(err as Error).message}`);
  }
  const config = parseModelConfig(model.name, model.configFile, raw);
  return { raw: raw as Record<string, unknown>, config };
}

export function reasonOf(err: unknown): string {
  return isSibylError(err) ? err.message : `unexpected error: ${err instanceof Error ? err.message : String(err)}`;
}

/** Why a version the policy does not select is not served. */
export function policyReason(config: DeclaredConfig): string {
  return `its version_policy (${describePolicy(config.versionPolicy)}) does not serve it`;
}

async function describeModel(scanned: ScannedModel, logger: Logger): Promise<SourceModel> {
  const model: SourceModel = { name: scanned.name, versions: [], notServed: new Map(), unknownVersion: 'the model has no such version directory' };
  let config: DeclaredConfig;
  try {
    if (scanned.conflicts.length > 0) throw modelNameConflict(scanned.name, scanned.conflicts);
    config = (await readModelConfig(scanned)).config;
    for (const w of config.warnings) logger.warn({ model: scanned.name, field: w.field }, `model '${scanned.name}': ${w.message}`);
    if (scanned.versions.length === 0) throw noVersions(scanned.name, scanned.dir);
  } catch (err) {
    model.failure = reasonOf(err);
    return model;
  }
  const { served, missing } = selectVersions(config.versionPolicy, scanned.versions);
  const notServed = new Map<number, string>();
  for (const v of scanned.versions) if (!served.includes(v)) notServed.set(v, policyReason(config));
  model.notServed = notServed;
  for (const version of [...served, ...missing].sort((a, b) => a - b)) {
    const dir = join(scanned.dir, String(version));
    model.versions.push({
      version,
      location: { dir },
      config,
      ...(missing.includes(version) ? { failure: versionDirMissing(scanned.name, String(version), dir).message } : {}),
    });
  }
  return model;
}

export function createDirectorySource(repositories: readonly string[], logger: Logger): ModelSource {
  return {
    unknownModel: IN_NO_REPOSITORY,
    async list(): Promise<SourceListing> {
      const scan = await scanRepositories(repositories);
      for (const s of scan.skipped) logger.warn({ path: s.path }, s.reason);
      const models: SourceModel[] = [];
      for (const scanned of scan.models) models.push(await describeModel(scanned, logger));
      return { models, skipped: scan.skipped };
    },
    async get(name) {
      const scanned = (await scanRepositories(repositories)).models.find((m) => m.name === name);
      return scanned === undefined ? undefined : describeModel(scanned, logger);
    },
  };
}
