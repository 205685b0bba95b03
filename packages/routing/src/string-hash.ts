/**
 * A fast, well-mixed 53-bit hash of a string, the same in every process and on every platform: what
 * rendezvous placement and the traffic split are computed from, so every router and gateway agrees.
 *
 * Two 32-bit FNV-1a passes over the UTF-16 code units with different offset bases, each finished with
 * murmur3's fmix32 avalanche (FNV-1a alone mixes its last characters poorly, and rendezvous keys differ
 * only at the end). Not cryptographic: placement needs spread, not secrecy.
 */

const FNV_PRIME = 0x01000193;
const BASIS_A = 0x811c9dc5;
const BASIS_B = 0x050c5d1f;

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** An integer in [0, 2^53), uniformly spread. */
export function stringHash53(text: string): number {
  let a = BASIS_A;
  let b = BASIS_B;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, FNV_PRIME);
    b = Math.imul(b ^ c, FNV_PRIME);
  }
  // Fold the length in so that b's pass differs from a's in more than its start.
  const high = fmix32(a ^ text.length);
  const low = fmix32(Math.imul(b, 0x9e3779b1) ^ high);
  // 32 bits of `high` and the top 21 bits of `low`: exactly representable as a double.
  return high * 2 ** 21 + (low >>> 11);
}

/** 2^53: `stringHash53(x) / HASH_RANGE` lies in [0, 1). */
export const HASH_RANGE = 2 ** 53;
