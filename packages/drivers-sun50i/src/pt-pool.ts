/**
 * drivers/iommu/sun50i-iommu.c: `iommu->pt_pool` (a kmem_cache named after the IOMMU device, object size
 * and alignment PT_SIZE = 1 KiB), modelled as a slab over the {@link TableAllocator}:
 * a new 4 KiB block hands out its objects lowest address first, freed objects are reused LIFO
 * and come back zeroed (`kmem_cache_zalloc`), blocks stay with the cache until it is destroyed.
 * The cache counts nothing: callers count each object in the counters it belongs to.
 */
import type { TableAllocator } from "@iommu/core";
import { PT_SIZE } from "./defs.js";

const BLOCK_BYTES = 4096;

/** `iommu->pt_pool`: the kmem_cache of 1 KiB page tables (one per IOMMU instance and table allocator). */
export class PtPool {
  readonly allocator: TableAllocator;
  private readonly freeList: number[] = [];
  private readonly blocks: number[] = [];
  private readonly owned = new Set<number>();
  private failCountdown = 0;
  /** Objects currently handed out. */
  liveCount = 0;

  constructor(allocator: TableAllocator) {
    this.allocator = allocator;
  }

  /** 4 KiB blocks the cache holds. */
  get blockCount(): number {
    return this.blocks.length;
  }

  /** Make the n-th next object allocation fail (1 = the very next one); 0 cancels. */
  failNth(n: number): void {
    this.failCountdown = n;
  }

  /** Whether `pa` is an object this cache handed out and still counts as live. */
  owns(pa: number): boolean {
    return this.owned.has(pa);
  }

  /** `kmem_cache_zalloc()`: a zeroed object's PA, or -1 (the kernel's NULL). */
  alloc(): number {
    if (this.failCountdown > 0 && --this.failCountdown === 0) return -1;
    let pa = this.freeList.pop();
    if (pa === undefined) {
      const block = allocDetached(this.allocator, BLOCK_BYTES);
      if (block < 0) return -1;
      this.blocks.push(block);
      for (let off = BLOCK_BYTES - PT_SIZE; off > 0; off -= PT_SIZE) this.freeList.push(block + off);
      pa = block;
    } else {
      const c = this.allocator.mem.chunk(pa)!;
      const w = (pa - c.pa) >>> 2;
      c.words.fill(0, w, w + PT_SIZE / 4);
    }
    this.owned.add(pa);
    this.liveCount++;
    return pa;
  }

  /** `kmem_cache_free()`. Objects the cache does not own (an adopted image's) are left alone. */
  release(pa: number): boolean {
    if (!this.owned.delete(pa)) return false;
    this.liveCount--;
    this.freeList.push(pa);
    return true;
  }

  /** `kmem_cache_destroy()`: give every block back to the allocator. */
  destroy(): void {
    for (const b of this.blocks) releaseDetached(this.allocator, b);
    this.blocks.length = 0;
    this.freeList.length = 0;
    this.owned.clear();
    this.liveCount = 0;
  }
}

/**
 * `allocator.alloc(bytes)` with its counters detached: the driver counts its tables itself, per
 * object, in the counters of the domain (or driver) they belong to.
 */
export function allocDetached(allocator: TableAllocator, bytes: number): number {
  const counters = allocator.counters;
  allocator.counters = undefined;
  try {
    return allocator.alloc(bytes);
  } finally {
    allocator.counters = counters;
  }
}

/** `allocator.release(pa)` with its counters detached (see {@link allocDetached}). */
export function releaseDetached(allocator: TableAllocator, pa: number): void {
  const counters = allocator.counters;
  allocator.counters = undefined;
  try {
    allocator.release(pa);
  } finally {
    allocator.counters = counters;
  }
}
