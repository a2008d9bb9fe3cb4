/**
 * mm/slub.c as drivers/iommu/s390-iommu.c uses it (`kmem_cache_alloc` / `kmem_cache_free` of 2 KiB page-table
 * objects): a deterministic slab over @iommu/core's TableAllocator. Objects are carved from
 * 4 KiB blocks lowest address first; freed objects are reused LIFO before any new one is
 * carved; every object is zeroed when handed out. Blocks go back to the allocator only when
 * the cache is destroyed.
 */
import { SZ_4K, type TableAllocator } from "@iommu/core";
import { allocTableMem, releaseTableMem } from "./table-mem.js";

/** `struct kmem_cache` of equal-size page-table objects (model). */
export class SlabCache {
  /** Objects handed out and not freed. */
  liveObjects = 0;
  /** Objects handed out since the cache was created. */
  allocatedTotal = 0;
  private readonly freeList: number[] = [];
  private readonly blocks: number[] = [];
  private carve = -1;
  private carveEnd = -1;

  constructor(
    readonly allocator: TableAllocator,
    readonly objectBytes: number,
  ) {}

  /** `kmem_cache_zalloc()`: a zeroed object's physical address, or -1 when out of memory. */
  alloc(): number {
    let pa = this.freeList.pop();
    if (pa === undefined) {
      if (this.carve < 0 || this.carve >= this.carveEnd) {
        const blk = allocTableMem(this.allocator, SZ_4K);
        if (blk < 0) return -1;
        this.blocks.push(blk);
        this.carve = blk;
        this.carveEnd = blk + SZ_4K;
      }
      pa = this.carve;
      this.carve += this.objectBytes;
    }
    const c = this.allocator.mem.chunk(pa)!;
    const w = (pa - c.pa) / 4;
    c.words.fill(0, w, w + this.objectBytes / 4);
    this.liveObjects++;
    this.allocatedTotal++;
    return pa;
  }

  /** `kmem_cache_free()` */
  release(pa: number): void {
    this.freeList.push(pa);
    this.liveObjects--;
  }

  /** Slab blocks in use (4 KiB each). */
  get blockCount(): number {
    return this.blocks.length;
  }

  /**
   * `kmem_cache_destroy()` (model): give every block back to the allocator, except those
   * holding an object in `keep` (leaked objects pin their slab).
   */
  destroy(keep: ReadonlySet<number> = new Set()): void {
    const pinned = new Set<number>();
    for (const pa of keep) pinned.add(pa - (pa % SZ_4K));
    for (const b of this.blocks)
      if (!pinned.has(b) && this.allocator.sizeOf(b)) releaseTableMem(this.allocator, b);
    this.blocks.length = 0;
    this.freeList.length = 0;
    this.carve = -1;
    this.carveEnd = -1;
    this.liveObjects = keep.size;
  }
}
