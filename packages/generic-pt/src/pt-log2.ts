/**
 * drivers/iommu/generic_pt/pt_log2.h: the log2 and bit helpers of the walker and the formats,
 * on exact doubles (frame numbers and page-size bitmaps stay below 2^53). Internal: not part
 * of the package's public surface.
 */

/** `log2_to_int(k)` for k = 0..64, as exact doubles. */
export const P2: readonly number[] = Array.from({ length: 65 }, (_, k) => 2 ** k);

/** `log2_div` as a multiply: 2^-k for k = 0..64 (exact, and cheaper than a divide). */
export const P2INV: readonly number[] = Array.from({ length: 65 }, (_, k) => 2 ** -k);

/** `ffz_t(u32, x)`: index of the lowest zero bit of a 32-bit value; 32 when all ones. */
export function ffz32(x: number): number {
  const inv = ~x;
  if (inv === 0) return 32;
  return 31 - Math.clz32(inv & -inv);
}

/** `ffs_t` (0-based) of a non-negative integer double below 2^53; 64 for 0. */
export function ctz(x: number): number {
  if (x === 0) return 64;
  const lo = x >>> 0;
  if (lo !== 0) return 31 - Math.clz32(lo & -lo);
  const hi = Math.floor(x / 4294967296) >>> 0;
  return 32 + 31 - Math.clz32(hi & -hi);
}

/** `fls_t(x) - 1`: 0-based index of the highest set bit of an integer double below 2^53; -1 for 0. */
export function flsIdx(x: number): number {
  if (x < 4294967296) return 31 - Math.clz32(x >>> 0);
  return 32 + 31 - Math.clz32(Math.floor(x / 4294967296) >>> 0);
}

/** `GENMASK(hi, lo)` as a bitmap number, minus the bits listed in `except`. */
export function genmask(hi: number, lo: number, except: readonly number[] = []): number {
  let v = 0;
  for (let b = lo; b <= hi; b++) if (!except.includes(b)) v += P2[b]!;
  return v;
}

/** `a | b` of two bitmaps below 2^52 (page-size bitmaps). */
export function or52(a: number, b: number): number {
  const TWO26 = 67108864;
  const al = a % TWO26;
  const bl = b % TWO26;
  const ah = Math.floor(a / TWO26);
  const bh = Math.floor(b / TWO26);
  return (ah | bh) * TWO26 + (al | bl);
}
