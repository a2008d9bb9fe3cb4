import { ffs, fls, lowBits, modPow2, POW2, U64_LIMIT } from "./addr.js";

/** Out-record of {@link iommuPgsize}. `pgsize` 0 means no size fits (the kernel's BUG_ON). */
export class PgsizeResult {
  pgsize = 0;
  count = 0;
}

/**
 * `iommu_pgsize()`: the largest page size that fits the alignment of iova/paddr and the
 * length, and how many of them to map before a larger size becomes usable.
 *
 * Takes the domain's `pgsize_bitmap` rather than the domain so format code can reuse it.
 * All values are numbers: exact because callers pass page-aligned addresses and sizes.
 */
export function iommuPgsize(
  pgsizeBitmap: number,
  iova: number,
  paddr: number,
  size: number,
  out: PgsizeResult,
): PgsizeResult {
  // Sizes no larger than the highest set bit of size.
  let pgsizes = lowBits(pgsizeBitmap, fls(size));
  // ...and no larger than the common alignment of iova and paddr (unlimited for 0).
  const align =
    iova === 0 ? (paddr === 0 ? 64 : ffs(paddr)) : paddr === 0 ? ffs(iova) : Math.min(ffs(iova), ffs(paddr));
  if (align < 64) pgsizes = lowBits(pgsizes, align);
  if (pgsizes === 0) {
    out.pgsize = 0;
    out.count = 0;
    return out;
  }
  const idx = fls(pgsizes);
  const pgsize = POW2[idx]!;
  out.pgsize = pgsize;
  // Page sizes above the chosen one.
  const bigger = pgsizeBitmap - lowBits(pgsizeBitmap, idx);
  if (bigger !== 0) {
    const next = POW2[ffs(bigger)]!;
    // A larger page is reachable only if iova and paddr agree modulo it.
    const ioff = modPow2(iova, next);
    if (ioff === modPow2(paddr, next)) {
      const offset = next - ioff; // ioff === (iova | paddr) mod next here
      if (offset + next < U64_LIMIT && offset + next <= size) size = offset;
    }
  }
  out.count = Math.floor(size / pgsize);
  return out;
}
