/**
 * Checks of pools, routing rules and traffic as callers hand them to the registry, before any SQL
 * runs; each refusal names its field (validate-input.ts has the shared checks).
 */
import { isValidModelName } from '@sibyl/protocol';
import { fieldInvalid, poolNameInvalid } from './errors.js';
import { POOL_KINDS, type PoolKind, type RouteMatch } from './registry-types.js';
import { checkLabels, checkObject, checkText } from './validate-input.js';

const MAX_ENDPOINTS = 256;
/** `http://host:port` or `grpc://host:port`: a host name, an IPv4 address or a bracketed IPv6 one. */
const ENDPOINT = /^(http|grpc):\/\/([A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})|\[[0-9A-Fa-f:.]{2,45}\]):([0-9]{1,5})$/;
const MATCH_FIELDS = ['platform', 'algorithm', 'name', 'tenant', 'labels'] as const;

export function checkPoolName(name: unknown): string {
  if (typeof name !== 'string' || !isValidModelName(name)) throw poolNameInvalid(name);
  return name;
}

export function checkPoolKind(value: unknown, field = 'kind'): PoolKind {
  if (!(POOL_KINDS as readonly unknown[]).includes(value)) throw fieldInvalid(field, `one of ${POOL_KINDS.join(', ')}`, value);
  return value as PoolKind;
}

export function checkEndpoint(value: unknown, field: string): string {
  const m = typeof value === 'string' ? ENDPOINT.exec(value) : null;
  const port = m === null ? 0 : Number(m[3]);
  if (m === null || port < 1 || port > 65_535) {
    throw fieldInvalid(field, 'an http://host:port or grpc://host:port URL (port 1 to 65535, no path)', value);
  }
  return value as string;
}

export function checkEndpoints(value: unknown, field = 'endpoints'): string[] {
  if (!Array.isArray(value)) throw fieldInvalid(field, 'an array of http://host:port or grpc://host:port URLs', value);
  if (value.length > MAX_ENDPOINTS) throw fieldInvalid(field, `at most ${MAX_ENDPOINTS} endpoints`, value);
  const seen = new Set<string>();
  return value.map((endpoint: unknown, i: number) => {
    const url = checkEndpoint(endpoint, `${field}[${i}]`);
    if (seen.has(url)) throw fieldInvalid(`${field}[${i}]`, 'each endpoint once', url);
    seen.add(url);
    return url;
  });
}

export function checkBoolean(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw fieldInvalid(field, 'true or false', value);
  return value;
}

export function checkPriority(value: unknown, field = 'priority'): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < -2_147_483_648 || value > 2_147_483_647) {
    throw fieldInvalid(field, 'a whole number (a 32-bit integer; lower is tried first)', value);
  }
  return value;
}

export function checkRuleId(value: unknown, field = 'id'): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > 2_147_483_647) {
    throw fieldInvalid(field, 'a rule id (a whole number, 1 or more)', value);
  }
  return value;
}

/** A rule's match: known fields only, each a non-empty glob; labels a map of globs. */
export function checkMatch(value: unknown, field = 'match'): RouteMatch {
  const given = checkObject(value, field, MATCH_FIELDS);
  const match: RouteMatch = {};
  for (const key of ['platform', 'algorithm', 'name', 'tenant'] as const) {
    if (given[key] !== undefined) match[key] = checkText(given[key], `${field}.${key}`);
  }
  if (given.labels !== undefined) match.labels = checkLabels(given.labels, `${field}.labels`);
  return match;
}

/** 0..1, a fraction of the requests without a version. */
export function checkWeight(value: unknown, field = 'canaryWeight'): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw fieldInvalid(field, 'a number from 0 to 1', value);
  }
  return value;
}
