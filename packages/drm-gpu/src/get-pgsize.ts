/**
 * drivers/gpu/drm/panfrost/panfrost_mmu.c, drivers/gpu/drm/panthor/panthor_mmu.c:
 * `get_pgsize()`, the same static helper in both drivers. io-pgtable maps or unmaps many
 * pages in one call only inside one table, so a run is cut at the next boundary of the next
 * block size up: 4 KiB pages up to the next 2 MiB boundary (or for a run shorter than 2 MiB),
 * 2 MiB blocks up to the next 1 GiB boundary.
 */
import { modPow2, SZ_1G, SZ_2M, SZ_4K } from "@iommu/core";

/** The `size_t *count` out-parameter of get_pgsize(), reused by the callers' loops. */
export class PgCount {
  count = 0;
}

/**
 * `get_pgsize(addr, size, &count)`: returns the page size, and in `out.count` how many such
 * pages to hand io-pgtable in one call. Only `addr mod 1 GiB` matters, so callers pass
 * {@link alignBits}`(iova, paddr)` for the kernel's `iova | paddr`.
 *
 * Kernel arithmetic kept: `blk_offset = -addr % SZ_2M` (unsigned: the distance to the next
 * 2 MiB boundary, 0 when aligned); the 4 KiB case counts `min_not_zero(blk_offset, size)`
 * and rounds down, so a sub-page `size` yields a count of 0.
 */
export function getPgsize(addr: number, size: number, out: PgCount): number {
  const in2m = modPow2(addr, SZ_2M);
  const blk = in2m === 0 ? 0 : SZ_2M - in2m;
  if (blk !== 0 || size < SZ_2M) {
    const n = blk === 0 ? size : size === 0 ? blk : Math.min(blk, size);
    out.count = Math.floor(n / SZ_4K);
    return SZ_4K;
  }
  const in1g = modPow2(addr, SZ_1G);
  const blk1 = in1g === 0 ? SZ_1G : SZ_1G - in1g;
  out.count = Math.floor(Math.min(blk1, size) / SZ_2M);
  return SZ_2M;
}

/**
 * The low 30 bits of the kernel's `iova | paddr` (all get_pgsize looks at), exact for
 * addresses of any size: JavaScript's `|` works on 32 bits, so each side is reduced first.
 */
export function alignBits(iova: number, paddr: number): number {
  return modPow2(iova, SZ_1G) | modPow2(paddr, SZ_1G);
}
