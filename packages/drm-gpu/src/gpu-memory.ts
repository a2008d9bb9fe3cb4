/**
 * mm/shmem + the page allocator, as the GPU drivers' buffer objects see them: physical pages
 * handed out in a chosen layout, each page knowing its folio size (panthor's huge-page
 * heuristic reads `folio_size(page_folio(pg))`). Pages are frame numbers only; their
 * contents are never read, so no {@link PhysMem} chunk backs them (page tables live in the
 * TableAllocator's arena, below this memory).
 */
import { IommuError, SZ_1G, SZ_2M, SZ_4K } from "@iommu/core";

/**
 * How a BO's pages are laid out in physical memory:
 * - `scattered`: 4 KiB folios, no two physically adjacent (shmem under memory pressure);
 * - `contiguous`: 4 KiB folios, one physically contiguous 2 MiB-aligned run (a carveout, CMA);
 * - `thp`: 2 MiB folios (transparent huge pages), each 2 MiB-aligned, folios not adjacent;
 * - `huge1g`: 1 GiB folios (hugetlb-style), 1 GiB-aligned and contiguous; a BO smaller than
 *   a folio (or its tail) uses the start of one.
 * A THP-backed size that is not a multiple of 2 MiB ends in scattered 4 KiB pages.
 */
export type BackingKind = "scattered" | "contiguous" | "thp" | "huge1g";

/** `struct page *pages[]` of a BO: frame number and log2(folio size) per 4 KiB page; -1 = absent. */
export class GpuPages {
  readonly pfns: Float64Array;
  readonly folioShift: Uint8Array;

  constructor(count: number) {
    this.pfns = new Float64Array(count).fill(-1);
    this.folioShift = new Uint8Array(count);
  }

  get count(): number {
    return this.pfns.length;
  }
}

/** Where BO memory lives in the physical address space. */
export interface GpuMemoryOptions {
  /** Physical address where BO memory starts (default 4 GiB; 1 GiB aligned). */
  base?: number;
  /** Bytes available (default 60 GiB). */
  size?: number;
}

/**
 * A deterministic page allocator for BO memory: a bump pointer (memory is never reused, so
 * every run of a scenario sees the same addresses), with injectable failure (`failNth`), as
 * `shmem_read_mapping_page()` can fail.
 */
export class GpuMemory {
  readonly base: number;
  readonly size: number;
  private next: number;
  private failCountdown = 0;
  /** Pages handed out so far. */
  pagesAllocated = 0;

  constructor(options: GpuMemoryOptions = {}) {
    this.base = options.base ?? 4 * SZ_1G;
    this.size = options.size ?? 60 * SZ_1G;
    if (this.base % SZ_1G !== 0) throw new IommuError("EINVAL", "GpuMemory", { base: this.base });
    this.next = this.base;
  }

  /** Make the n-th next allocation call fail (1 = the very next); 0 cancels. */
  failNth(n: number): void {
    this.failCountdown = n;
  }

  private take(bytes: number, align: number): number {
    const pa = Math.ceil(this.next / align) * align;
    if (pa + bytes > this.base + this.size) return -1;
    this.next = pa + bytes;
    return pa;
  }

  /**
   * Fill `pages[first, first + count)` in the layout `kind`. Returns 0, or -ENOMEM (-12)
   * with nothing filled when out of memory or when an injected failure hits.
   */
  fill(pages: GpuPages, first: number, count: number, kind: BackingKind): number {
    if (this.failCountdown > 0 && --this.failCountdown === 0) return -12;
    const folio = kind === "thp" ? SZ_2M : kind === "huge1g" ? SZ_1G : SZ_4K;
    const perFolio = folio / SZ_4K;
    const shift = Math.log2(folio);
    const whole =
      kind === "huge1g" ? Math.ceil(count / perFolio) : kind === "thp" ? Math.floor(count / perFolio) : 0;
    const mark = this.next;
    let i = first;
    if (kind === "contiguous") {
      const pa = this.take(count * SZ_4K, SZ_2M);
      if (pa < 0) return this.undo(pages, first, i, mark);
      for (let k = 0; k < count; k++, i++) this.set(pages, i, pa + k * SZ_4K, 12);
    } else {
      for (let f = 0; f < whole; f++) {
        const pa = this.take(folio, folio);
        if (pa < 0) return this.undo(pages, first, i, mark);
        // A THP gap: the next folio is not physically adjacent.
        if (kind === "thp") this.next += SZ_2M;
        for (let k = 0; k < perFolio && i < first + count; k++, i++)
          this.set(pages, i, pa + k * SZ_4K, shift);
      }
      for (; i < first + count; i++) {
        const pa = this.take(SZ_4K, SZ_4K);
        if (pa < 0) return this.undo(pages, first, i, mark);
        this.next += SZ_4K; // a gap: no two scattered pages are adjacent
        this.set(pages, i, pa, 12);
      }
    }
    this.pagesAllocated += count;
    return 0;
  }

  private set(pages: GpuPages, i: number, pa: number, shift: number): void {
    pages.pfns[i] = pa / SZ_4K;
    pages.folioShift[i] = shift;
  }

  private undo(pages: GpuPages, first: number, end: number, mark: number): number {
    pages.pfns.fill(-1, first, end);
    this.next = mark;
    return -12;
  }
}
