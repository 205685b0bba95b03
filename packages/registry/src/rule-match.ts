/**
 * Routing rules matched against a model version's metadata. One implementation, used by the registry
 * (which refuses, inside its transactions, a release that no rule would route) and by the router
 * (`@sibyl/routing`), so the two never disagree about which rule matches.
 *
 * A rule matches when every field of its `match` matches (AND); an empty match matches every version.
 * Strings are globs over the whole value, case-sensitive: `*` any run of characters (also none), `?`
 * exactly one character, anything else itself. Rules are tried by priority (lower first), then id;
 * the first that matches wins.
 */
import type { Model, ModelVersion, RouteMatch, RoutingRule, RuleExplanation, VersionFacts } from './registry-types.js';

/**
 * Whether `text` as a whole matches the glob `pattern`. Characters are code points, so `?` matches
 * one emoji as it matches one letter. Linear backtracking over the last `*`: O(pattern × text) at
 * worst, never exponential.
 */
export function globMatch(pattern: string, text: string): boolean {
  const p = Array.from(pattern);
  const t = Array.from(text);
  let pi = 0;
  let ti = 0;
  let star = -1;
  let resume = 0;
  while (ti < t.length) {
    const c = p[pi];
    if (c === '*') {
      star = pi++;
      resume = ti;
    } else if (c !== undefined && (c === '?' || c === t[ti])) {
      pi++;
      ti++;
    } else if (star >= 0) {
      pi = star + 1;
      ti = ++resume;
    } else {
      return false;
    }
  }
  while (p[pi] === '*') pi++;
  return pi === p.length;
}

/** The metadata of `version` (of `model`) that rules match on. */
export function versionFacts(model: Model, version: ModelVersion): VersionFacts {
  return {
    name: model.name,
    version: version.version,
    platform: version.signature.platform,
    algorithm: model.algorithm,
    tenant: model.tenant,
    labels: model.labels,
  };
}

/** Rules in the order they are tried: priority, then id. Returns a new array. */
export function orderRules(rules: readonly RoutingRule[]): RoutingRule[] {
  return [...rules].sort((a, b) => a.priority - b.priority || a.id - b.id);
}

function quote(value: string | null): string {
  return value === null ? 'null' : `'${value}'`;
}

function fieldReason(field: string, value: string | null, pattern: string): [boolean, string] {
  const ok = value !== null && globMatch(pattern, value);
  return [ok, `${field} ${quote(value)} ${ok ? 'matches' : 'does not match'} '${pattern}'`];
}

/** Checks one match against the facts, with a reason for every field it names. */
function explainMatch(match: RouteMatch, facts: VersionFacts): { matched: boolean; reasons: string[] } {
  const checks: Array<[boolean, string]> = [];
  if (match.name !== undefined) checks.push(fieldReason('name', facts.name, match.name));
  if (match.platform !== undefined) checks.push(fieldReason('platform', facts.platform, match.platform));
  if (match.algorithm !== undefined) checks.push(fieldReason('algorithm', facts.algorithm, match.algorithm));
  if (match.tenant !== undefined) checks.push(fieldReason('tenant', facts.tenant, match.tenant));
  for (const [key, pattern] of Object.entries(match.labels ?? {})) {
    const value = Object.hasOwn(facts.labels, key) ? facts.labels[key]! : undefined;
    checks.push(value === undefined ? [false, `label ${key}: missing`] : fieldReason(`label ${key}`, value, pattern));
  }
  if (checks.length === 0) return { matched: true, reasons: ['empty match: matches every version'] };
  return { matched: checks.every(([ok]) => ok), reasons: checks.map(([, reason]) => reason) };
}

/** The rule that routes a version with these facts: the first match in rule order; undefined when none. */
export function matchRule(rules: readonly RoutingRule[], facts: VersionFacts): RoutingRule | undefined {
  return orderRules(rules).find((rule) => explainMatch(rule.match, facts).matched);
}

/**
 * Every rule, in the order they are tried, with whether it matches and why. The first entry with
 * `matched` is the rule `matchRule` picks; later matches are shadowed by it.
 */
export function explainRules(rules: readonly RoutingRule[], facts: VersionFacts): RuleExplanation[] {
  return orderRules(rules).map((rule) => ({ rule, ...explainMatch(rule.match, facts) }));
}
