/**
 * lib/scatterlist.c: `sg_alloc_table_from_pages_segment()` as the GPU drivers get it (through
 * `drm_gem_shmem_get_pages_sgt()` and, for panfrost heap chunks, directly), followed by a
 * `dma_map_sgtable()` on a GPU without an IOMMU in front: the DMA address is the physical
 * address. Physically consecutive pages merge into one segment of at most `maxSegment` bytes.
 */
import { SZ_4K } from "@iommu/core";
import type { GpuPages } from "./gpu-memory.js";

/** `UINT_MAX` rounded down to a page: the default segment limit. */
export const SG_MAX_SEGMENT = 0xffff_f000;

/** `struct sg_table` after DMA mapping: segment DMA addresses and lengths (bytes). */
export class SgTable {
  readonly addr: number[] = [];
  readonly len: number[] = [];

  /** `sgt->nents` */
  get nents(): number {
    return this.addr.length;
  }

  /** Total bytes. */
  get bytes(): number {
    let n = 0;
    for (const l of this.len) n += l;
    return n;
  }
}

/**
 * `sg_alloc_table_from_pages_segment(sgt, pages + first, count, 0, count * PAGE_SIZE,
 * maxSegment)`: every page must be present.
 */
export function sgAllocTableFromPages(
  pages: GpuPages,
  first: number,
  count: number,
  maxSegment = SG_MAX_SEGMENT,
): SgTable {
  const sgt = new SgTable();
  let segPfn = -1;
  let segLen = 0;
  for (let i = first; i < first + count; i++) {
    const pfn = pages.pfns[i]!;
    if (pfn < 0) throw new RangeError(`sgAllocTableFromPages: page ${i} is absent`);
    if (segLen > 0 && pfn === segPfn + segLen / SZ_4K && segLen + SZ_4K <= maxSegment) segLen += SZ_4K;
    else {
      if (segLen > 0) {
        sgt.addr.push(segPfn * SZ_4K);
        sgt.len.push(segLen);
      }
      segPfn = pfn;
      segLen = SZ_4K;
    }
  }
  if (segLen > 0) {
    sgt.addr.push(segPfn * SZ_4K);
    sgt.len.push(segLen);
  }
  return sgt;
}
