/**
 * Test kit (not published) for drivers/iommu/io-pgtable*.c: the C integer wrap points of
 * io-pgtable's counts and sizes (`min_t(int, pgcount, …)`, `int num_entries = size >> shift`,
 * `size_t` sums), and a fast-check arbitrary that favours them.
 */
import fc from "fast-check";

/**
 * The values where a `size_t` narrowed to `int` or `u32` changes sign or wraps. 2^64 − 1 is
 * not a double: as a number it is 2^64, which narrows like the size_t value 0.
 */
export const WRAP_POINTS: readonly number[] = [
  0,
  1,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 31 + 1,
  2 ** 32 - 1,
  2 ** 32,
  2 ** 32 + 1,
  2 ** 53 - 1,
  2 ** 63,
  2 ** 64 - 1,
];

/** C `(int)` of a size_t value held in a number (what `min_t(int, v, …)` sees). */
export function cInt(v: number): number {
  return v | 0;
}

/**
 * A size_t-style count: mostly a wrap point or a neighbour of one (±1, ±2), sometimes a small
 * count, sometimes any safe integer.
 */
export function wrapCount(): fc.Arbitrary<number> {
  const near = fc
    .tuple(fc.constantFrom(...WRAP_POINTS), fc.integer({ min: -2, max: 2 }))
    .map(([p, d]) => Math.max(0, p + d));
  return fc.oneof(
    { arbitrary: fc.constantFrom(...WRAP_POINTS), weight: 4 },
    { arbitrary: near, weight: 3 },
    { arbitrary: fc.integer({ min: 0, max: 1024 }), weight: 2 },
    { arbitrary: fc.maxSafeNat(), weight: 1 },
  );
}

/** A byte size that is a page-size multiple at a wrap point: `pgsize · 2^k` for k in 0..52. */
export function wrapSize(pgsize: number): fc.Arbitrary<number> {
  return fc.oneof(
    { arbitrary: fc.constantFrom(...WRAP_POINTS.map((p) => Math.floor(p / pgsize) * pgsize)), weight: 3 },
    { arbitrary: fc.integer({ min: 0, max: 52 }).map((k) => pgsize * 2 ** k), weight: 2 },
  );
}
