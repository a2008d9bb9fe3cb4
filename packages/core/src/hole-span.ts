/**
 * Model-only (part of the iova_to_phys_length contract, docs/iova-to-phys-length.md): the hole
 * length a format reports for an IOVA outside everything its table can translate. Rare (an
 * out-of-range lookup), so it computes exactly with bigints rather than on the hot path.
 */
import { type Addr, toBigInt } from "./addr.js";

/** An inclusive IOVA range a table translates: `[first, last]`. */
export type IovaRange = readonly [first: bigint, last: bigint];

/**
 * Model-only: the size of the largest naturally aligned power-of-two block (at most 2^64) that
 * contains `iova` and overlaps none of `ranges` — what `iova_to_phys_length` reports as the
 * hole length for an IOVA outside the table's reach, so a caller crosses the whole unreachable
 * span in a few steps instead of one smallest page at a time. Returns 0 when `iova` lies
 * inside one of the ranges (the caller's walk should have answered).
 */
export function holeSpanOutside(iova: Addr, ranges: readonly IovaRange[]): number {
  const v = toBigInt(iova);
  for (let k = 64n; k >= 0n; k--) {
    const size = 1n << k;
    const first = (v >> k) << k;
    const last = first + size - 1n;
    let disjoint = true;
    for (const [lo, hi] of ranges) if (first <= hi && last >= lo) disjoint = false;
    if (disjoint) return Number(size);
  }
  return 0;
}
