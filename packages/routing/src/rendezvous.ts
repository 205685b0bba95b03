/**
 * Rendezvous (highest-random-weight) hashing: every instance scores each key, and the key lives on
 * the instances with the highest scores. Removing an instance moves only the keys that were on it
 * (each to its next-highest instance); adding one takes a fair share from every other. No ring state
 * to keep in step between processes: the set of ids is enough.
 */
import { stringHash53 } from './string-hash.js';

/** The score of instance `id` for `key`. */
export function rendezvousScore(id: string, key: string): number {
  return stringHash53(`${id}\u0000${key}`);
}

/**
 * `instanceIds` ordered by their score for `key`, highest first (ties, vanishingly rare, by id): the
 * first is the key's home, the next ones where it goes when the ones before it are gone.
 */
export function rendezvousOrder(instanceIds: readonly string[], key: string): string[] {
  return instanceIds
    .map((id) => ({ id, score: rendezvousScore(id, key) }))
    .sort((x, y) => y.score - x.score || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0))
    .map((s) => s.id);
}
