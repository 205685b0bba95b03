/**
 * Which version directories a model serves, by its version_policy (Triton's three policies).
 */
import type { VersionPolicy } from './model-config.js';

export interface VersionSelection {
  /** Versions the policy serves that have a directory, ascending. */
  served: number[];
  /** Versions a `specific` policy names that have no directory, ascending. */
  missing: number[];
}

/** `present`: the version directories found, any order. */
export function selectVersions(policy: VersionPolicy, present: readonly number[]): VersionSelection {
  const sorted = [...present].sort((a, b) => a - b);
  if ('latest' in policy) return { served: sorted.slice(-policy.latest.num_versions), missing: [] };
  if ('specific' in policy) {
    const wanted = [...policy.specific.versions].sort((a, b) => a - b);
    return { served: wanted.filter((v) => sorted.includes(v)), missing: wanted.filter((v) => !sorted.includes(v)) };
  }
  return { served: sorted, missing: [] };
}

/** The policy in words, for messages: "all", "latest 2", "specific [1, 3]". */
export function describePolicy(policy: VersionPolicy): string {
  if ('latest' in policy) return `latest ${policy.latest.num_versions}`;
  if ('specific' in policy) return `specific [${policy.specific.versions.join(', ')}]`;
  return 'all';
}
