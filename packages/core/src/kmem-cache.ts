/**
 * mm/slab_common.c + mm/slub.c as the IOMMU drivers use them for sub-page tables
 * (`kmem_cache_create`, `kmem_cache_zalloc`, `kmem_cache_free`, `kmem_cache_destroy`): a
 * deterministic slab over {@link TableAllocator} pages, so that small table addresses — and
 * the descriptors that point at them — are the same on every run.
 *
 * - objects are carved from a slab page (4 KiB by default) lowest address first, one every
 *   `size` rounded up to `align` bytes;
 * - freed objects are reused LIFO before anything new is carved; every object is handed out
 *   zeroed (`__GFP_ZERO`);
 * - slab pages stay with the cache until `kmem_cache_destroy()`.
 *
 * The cache's pages are taken from the allocator uncounted ({@link allocUncounted}): a driver
 * counts each table object itself, in the counters of the domain it belongs to. Allocation
 * failure can be injected per object ({@link KmemCache.failNth}) besides the allocator's own.
 * Only table allocation and free run here (never per PTE); they allocate a list slot at most.
 */
import { SZ_4K } from "./sizes.js";
import type { TableAllocator } from "./table-allocator.js";
import { allocUncounted, releaseUncounted } from "./uncounted-alloc.js";

/** Layout of a {@link KmemCache}: `kmem_cache_create(name, size, align, …)`. */
export interface KmemCacheOptions {
  /** The cache's name (`/proc/slabinfo`), for messages and tools. */
  readonly name: string;
  /** `size`: bytes of one object. */
  readonly size: number;
  /** `align`: object alignment in bytes (default `size`; a power of two). */
  readonly align?: number;
  /** Bytes of one slab page taken from the allocator (default 4 KiB). */
  readonly slabBytes?: number;
}

/** `struct kmem_cache` of equal-size zeroed table objects (model). */
export class KmemCache {
  readonly allocator: TableAllocator;
  readonly name: string;
  /** `object_size` */
  readonly size: number;
  /** Bytes between consecutive objects of a slab page (`size` rounded up to `align`). */
  readonly stride: number;
  readonly slabBytes: number;
  /** Objects handed out and not freed. */
  liveObjects = 0;
  /** Objects handed out since the cache was created. */
  allocatedTotal = 0;
  /** Objects freed since the cache was created. */
  freedTotal = 0;
  /** Allocations that failed (injected or out of memory). */
  failedTotal = 0;
  private readonly freeList: number[] = [];
  private readonly slabs: number[] = [];
  private readonly live = new Set<number>();
  private carve = 0;
  private carveEnd = 0;
  private failCountdown = 0;

  /** `kmem_cache_create(name, size, align, …)` over `allocator`'s pages. */
  constructor(allocator: TableAllocator, options: KmemCacheOptions) {
    const align = options.align ?? options.size;
    this.allocator = allocator;
    this.name = options.name;
    this.size = options.size;
    this.stride = Math.ceil(options.size / align) * align;
    this.slabBytes = options.slabBytes ?? SZ_4K;
  }

  /** Slab pages the cache holds. */
  get blockCount(): number {
    return this.slabs.length;
  }

  /** Make the n-th next object allocation fail (1 = the very next one); 0 cancels. */
  failNth(n: number): void {
    this.failCountdown = n;
  }

  /** Whether `pa` is an object this cache handed out and has not seen freed. */
  owns(pa: number): boolean {
    return this.live.has(pa);
  }

  /** `kmem_cache_zalloc()`: a zeroed object's physical address, or -1 (the kernel's NULL). */
  alloc(): number {
    if (this.failCountdown > 0 && --this.failCountdown === 0) {
      this.failedTotal++;
      return -1;
    }
    let pa = this.freeList.pop();
    if (pa === undefined) {
      if (this.carve >= this.carveEnd) {
        const slab = allocUncounted(this.allocator, this.slabBytes);
        if (slab < 0) {
          this.failedTotal++;
          return -1;
        }
        this.slabs.push(slab);
        this.carve = slab;
        this.carveEnd = slab + this.slabBytes - this.stride + 1;
      }
      pa = this.carve;
      this.carve += this.stride;
    }
    const c = this.allocator.mem.chunk(pa)!;
    const w = (pa - c.pa) / 4;
    c.words.fill(0, w, w + this.size / 4);
    this.live.add(pa);
    this.liveObjects++;
    this.allocatedTotal++;
    return pa;
  }

  /**
   * `kmem_cache_free()`: false (and nothing done) for an address the cache does not hold live,
   * e.g. a table of an adopted image.
   */
  free(pa: number): boolean {
    if (!this.live.delete(pa)) return false;
    this.freeList.push(pa);
    this.liveObjects--;
    this.freedTotal++;
    return true;
  }

  /**
   * `kmem_cache_destroy()`: give every slab page back to the allocator, except the pages
   * holding an object of `leaked` (objects never freed pin their slab; they stay counted live).
   */
  destroy(leaked: ReadonlySet<number> = EMPTY): void {
    const pinned = new Set<number>();
    for (const pa of leaked) pinned.add(pa - (pa % this.slabBytes));
    for (const s of this.slabs)
      if (!pinned.has(s) && this.allocator.sizeOf(s)) releaseUncounted(this.allocator, s);
    this.slabs.length = 0;
    this.freeList.length = 0;
    this.live.clear();
    for (const pa of leaked) this.live.add(pa);
    this.carve = 0;
    this.carveEnd = 0;
    this.liveObjects = leaked.size;
  }
}

const EMPTY: ReadonlySet<number> = new Set();
