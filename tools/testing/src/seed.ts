/** Seeds: one per suite, derived from its name, so every format replays its own sequences. */

/** FNV-1a (32-bit) of a string: the default seed of a conformance suite named `name`. */
export function seedOf(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The seed of check number `k` of a suite whose seed is `seed` (k = 0 is the suite's own). */
export function deriveSeed(seed: number, k: number): number {
  return (seed + Math.imul(k, 0x9e3779b9)) >>> 0;
}
