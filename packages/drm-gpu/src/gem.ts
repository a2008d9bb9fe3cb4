/**
 * drivers/gpu/drm/panfrost/panfrost_gem.c, drivers/gpu/drm/panthor/panthor_gem.c (over
 * drm_gem_shmem_helper.c): a GPU buffer object — its size, its pages (`bo->base.pages`) and
 * their scatter-gather table. Heap BOs (panfrost's PANFROST_BO_HEAP) get their pages 2 MiB at
 * a time on GPU fault, one sg table per chunk (`bo->sgts[]`).
 */
import { IommuError, SZ_2M, SZ_4K } from "@iommu/core";
import { type BackingKind, type GpuMemory, GpuPages } from "./gpu-memory.js";
import { type SgTable, sgAllocTableFromPages } from "./sg-table.js";

/** `panfrost_gem_create()` / `panthor_gem_create()` arguments (size and flags). */
export interface GpuBoOptions {
  /** Bytes, a multiple of 4 KiB (heap BOs are rounded up to 2 MiB, as panfrost_gem_create does). */
  size: number;
  /** PANFROST_BO_HEAP: pages come on GPU fault, 2 MiB at a time (implies noexec). */
  heap?: boolean;
  /** PANFROST_BO_NOEXEC: mapped with IOMMU_NOEXEC. */
  noexec?: boolean;
  /** Physical layout of the pages (default `scattered`; heap chunks use it per 2 MiB). */
  backing?: BackingKind;
}

/** A shmem-backed GPU buffer object (`struct panfrost_gem_object` / `panthor_gem_object`). */
export class GpuBo {
  readonly size: number;
  readonly heap: boolean;
  readonly noexec: boolean;
  readonly backing: BackingKind;
  /** `bo->base.pages`: null until pinned (heap BOs: until the first fault). */
  pages: GpuPages | null = null;
  /** `bo->base.sgt`: the whole BO's table (non-heap). */
  sgt: SgTable | null = null;
  /** `bo->sgts[]`: one table per faulted 2 MiB chunk (heap). */
  sgts: (SgTable | null)[] | null = null;
  /** `bo->heap_rss_size` */
  heapRssSize = 0;
  private readonly mem: GpuMemory;

  private constructor(mem: GpuMemory, o: GpuBoOptions) {
    this.mem = mem;
    this.heap = o.heap ?? false;
    this.size = this.heap ? Math.ceil(o.size / SZ_2M) * SZ_2M : o.size;
    this.noexec = this.heap || (o.noexec ?? false);
    this.backing = o.backing ?? "scattered";
  }

  /**
   * `panfrost_gem_create()` / `panthor_gem_create()`: a BO of `size` bytes; pages are
   * allocated when first needed. Throws EINVAL for a size that is not a positive multiple
   * of 4 KiB.
   */
  static create(mem: GpuMemory, options: GpuBoOptions): GpuBo {
    const { size } = options;
    if (!Number.isSafeInteger(size) || size <= 0 || size % SZ_4K !== 0)
      throw new IommuError("EINVAL", "GpuBo.create", { size });
    return new GpuBo(mem, options);
  }

  /**
   * `drm_gem_shmem_get_pages_sgt()`: pin every page (allocating them in the BO's layout)
   * and build the sg table once. Returns the table, or -ENOMEM. Not for heap BOs.
   */
  getPagesSgt(): SgTable | number {
    if (this.sgt) return this.sgt;
    if (this.heap) return -22;
    const n = this.size / SZ_4K;
    const pages = new GpuPages(n);
    const ret = this.mem.fill(pages, 0, n, this.backing);
    if (ret) return ret;
    this.pages = pages;
    this.sgt = sgAllocTableFromPages(pages, 0, n);
    return this.sgt;
  }

  /**
   * The page-gathering half of `panfrost_mmu_map_fault_addr()`: allocate the 2 MiB chunk at
   * page index `pageOffset` (pages already there are kept) and build its sg table.
   * Returns the table, or -ENOMEM (the pages array is left as the kernel leaves it).
   */
  heapChunkSgt(pageOffset: number): SgTable | number {
    const n = this.size / SZ_4K;
    if (!this.pages) {
      this.pages = new GpuPages(n);
      this.sgts = new Array(this.size / SZ_2M).fill(null);
    }
    const per = SZ_2M / SZ_4K;
    const pages = this.pages;
    // Allocate the missing pages (a partially filled chunk keeps what it has).
    let i = pageOffset;
    while (i < pageOffset + per) {
      if (pages.pfns[i]! >= 0) {
        i++;
        continue;
      }
      let j = i;
      while (j < pageOffset + per && pages.pfns[j]! < 0) j++;
      const ret = this.mem.fill(pages, i, j - i, this.backing);
      if (ret) return ret;
      i = j;
    }
    const sgt = sgAllocTableFromPages(pages, pageOffset, per);
    this.sgts![pageOffset / per] = sgt;
    return sgt;
  }

  /** Physical address of byte `offset` of the BO (pages must be present), or -1. */
  physOf(offset: number): number {
    const pfn = this.pages?.pfns[Math.floor(offset / SZ_4K)] ?? -1;
    return pfn < 0 ? -1 : pfn * SZ_4K + (offset % SZ_4K);
  }

  /** `folio_size(page_folio(pages[offset >> PAGE_SHIFT]))`, or 0 when the page is absent. */
  folioSizeAt(offset: number): number {
    const i = Math.floor(offset / SZ_4K);
    if (!this.pages || this.pages.pfns[i]! < 0) return 0;
    return 2 ** this.pages.folioShift[i]!;
  }
}
