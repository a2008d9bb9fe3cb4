/**
 * drivers/gpu/drm/panthor/panthor_mmu.c: `alloc_pt()` / `free_pt()`, panthor's custom
 * io-pgtable allocator. VM_BIND operations may run in the dma-fence signalling path, where
 * allocating is forbidden, so every page table an operation could need is reserved up front
 * in its operation context (`rsvd_page_tables`, from the `pt_cache` kmem_cache, all or
 * nothing) and handed out from there; the root table alone comes from the page allocator at
 * VM creation. Unused reserved pages go back to the cache when the context is cleaned up.
 */
import { type IommuCounters, SZ_4K, TableAllocator } from "@iommu/core";

/** `op_ctx->rsvd_page_tables` */
export interface RsvdPageTables {
  /** Pages reserved. */
  count: number;
  /** First page not yet handed out. */
  ptr: number;
  /** Physical addresses of the reserved pages. */
  pages: number[];
}

/**
 * The allocator io-pgtable sees for one panthor VM (`cfg.alloc = alloc_pt`, `cfg.free =
 * free_pt`, cookie = the VM). A {@link TableAllocator} by type; every page really comes from
 * the device's shared `backing` allocator (the page allocator and the pt_cache alike).
 */
export class PanthorPtAllocator extends TableAllocator {
  /** `vm->root_page_table`: -1 until the root is allocated. */
  rootPageTable = -1;
  /** The reserve of the operation in progress (`vm->op_ctx`), or null. */
  current: RsvdPageTables | null = null;
  private handoutCountdown = 0;

  constructor(
    readonly backing: TableAllocator,
    private readonly iommuCounters: IommuCounters,
  ) {
    super(backing.mem, { base: backing.base, arenaBytes: backing.arenaBytes });
  }

  /**
   * `alloc_pt()`: the root from the page allocator (WARN if an operation is in progress);
   * any other table must be 4 KiB and comes from the current reserve — WARN and NULL (-1)
   * without an operation or with the reserve used up.
   */
  override alloc(bytes: number): number {
    const counters = this.iommuCounters;
    if (this.rootPageTable < 0) {
      if (this.current) counters.warn("alloc_pt: root table allocated during an operation");
      const pa = this.backing.alloc(bytes);
      this.rootPageTable = pa;
      if (pa >= 0) counters.tablesAllocated++;
      return pa;
    }
    if (bytes !== SZ_4K) {
      counters.warn("alloc_pt: page table size is not 4K");
      return -1;
    }
    const r = this.current;
    if (!r) {
      counters.warn("alloc_pt: no operation context");
      return -1;
    }
    if (r.ptr >= r.count) {
      counters.warn("alloc_pt: reserved page tables exhausted");
      return -1;
    }
    if (this.handoutCountdown > 0 && --this.handoutCountdown === 0) return -1;
    const pa = r.pages[r.ptr++]!;
    const c = this.mem.chunk(pa)!;
    const w = (pa - c.pa) / 4;
    c.words.fill(0, w, w + SZ_4K / 4); // memset(page, 0, SZ_4K)
    counters.tablesAllocated++;
    return pa;
  }

  /** `free_pt()`: the root back to the page allocator, any other table to the pt_cache. */
  override release(pa: number): void {
    if (pa === this.rootPageTable) this.rootPageTable = -1;
    this.backing.release(pa);
    this.iommuCounters.tablesFreed++;
  }

  override sizeOf(pa: number): number {
    return this.backing.sizeOf(pa);
  }

  override get liveCount(): number {
    return this.backing.liveCount;
  }

  override liveBlocks(): Array<{ readonly pa: number; readonly bytes: number }> {
    return this.backing.liveBlocks();
  }

  /** Make the n-th next page taken from the backing allocator fail (root and reserves). */
  override failNth(n: number): void {
    this.backing.failNth(n);
  }

  /**
   * Model-only fault injection: the n-th next `alloc_pt()` hand-out from a reserve returns
   * NULL (as the kernel's WARN path does when a reserve runs short).
   */
  failHandoutNth(n: number): void {
    this.handoutCountdown = n;
  }

  /**
   * `kmem_cache_alloc_bulk(pt_cache, GFP_KERNEL, count, pages)`: all or nothing. Returns
   * the count reserved (`count`, or 0 after releasing a partial batch).
   */
  reserve(r: RsvdPageTables, count: number): number {
    for (let i = 0; i < count; i++) {
      const pa = this.backing.alloc(SZ_4K);
      if (pa < 0) {
        for (const p of r.pages) this.backing.release(p);
        r.pages.length = 0;
        return 0;
      }
      r.pages.push(pa);
    }
    return count;
  }

  /** `kmem_cache_free_bulk()` of the pages an operation did not use. */
  releaseUnused(r: RsvdPageTables): void {
    for (let i = r.ptr; i < r.count; i++) this.backing.release(r.pages[i]!);
    r.ptr = r.count;
  }
}
