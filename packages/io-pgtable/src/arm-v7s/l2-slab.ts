/**
 * drivers/iommu/io-pgtable-arm-v7s.c: the `io-pgtable_armv7s_l2` kmem_cache of 1 KiB L2
 * tables (`__arm_v7s_alloc_table(2)` / `__arm_v7s_free_table(2)`).
 */
import type { TableAllocator } from "@iommu/core";
import { ARM_V7S_L2_TABLE_BYTES } from "./defs.js";

const BLOCK_BYTES = 4096;
const OBJECTS_PER_BLOCK = BLOCK_BYTES / ARM_V7S_L2_TABLE_BYTES;

/**
 * `data->l2_tables`, the `io-pgtable_armv7s_l2` kmem_cache: 1 KiB L2 tables (size = align =
 * 1 KiB) carved out of 4 KiB blocks of the table allocator. A new block hands out its pieces
 * lowest address first; freed tables are reused LIFO; every table comes back zeroed
 * (`kmem_cache_zalloc`). Blocks stay with the cache until it is destroyed, as a slab keeps
 * partially used pages.
 *
 * Table accounting is per 1 KiB object: each allocation / free bumps the allocator's
 * `counters.tablesAllocated` / `tablesFreed` once, while the 4 KiB block requests behind them
 * are made with the allocator's counters detached so they are not counted a second time.
 */
export class ArmV7sL2Slab {
  private readonly allocator: TableAllocator;
  private readonly free: number[] = [];
  private readonly blocks: number[] = [];
  private readonly owned = new Set<number>();
  private failCountdown = 0;
  /** L2 tables currently handed out. */
  liveCount = 0;

  constructor(allocator: TableAllocator) {
    this.allocator = allocator;
  }

  /** Make the n-th next table allocation fail (1 = the very next one); 0 cancels. */
  failNth(n: number): void {
    this.failCountdown = n;
  }

  /** Whether `pa` is a table this cache handed out (adopted images hold foreign tables). */
  owns(pa: number): boolean {
    return this.owned.has(pa);
  }

  /** `kmem_cache_zalloc`: a zeroed 1 KiB table, or -1 (the kernel's NULL). */
  alloc(): number {
    if (this.failCountdown > 0 && --this.failCountdown === 0) return -1;
    let pa = this.free.pop();
    if (pa === undefined) {
      const block = this.allocBlock();
      if (block < 0) return -1;
      this.blocks.push(block);
      for (let i = OBJECTS_PER_BLOCK - 1; i > 0; i--) this.free.push(block + i * ARM_V7S_L2_TABLE_BYTES);
      pa = block;
    } else {
      const c = this.allocator.mem.chunk(pa)!;
      const w = (pa - c.pa) / 4;
      c.words.fill(0, w, w + ARM_V7S_L2_TABLE_BYTES / 4);
    }
    this.owned.add(pa);
    this.liveCount++;
    const counters = this.allocator.counters;
    if (counters) counters.tablesAllocated++;
    return pa;
  }

  /** `kmem_cache_free`. Tables the cache does not own (adopted images) are left alone. */
  release(pa: number): void {
    if (!this.owned.delete(pa)) return;
    this.liveCount--;
    this.free.push(pa);
    const counters = this.allocator.counters;
    if (counters) counters.tablesFreed++;
  }

  /** `kmem_cache_destroy`: give every block back (all tables must have been released). */
  destroy(): void {
    const counters = this.allocator.counters;
    this.allocator.counters = undefined;
    try {
      for (const b of this.blocks) this.allocator.release(b);
    } finally {
      this.allocator.counters = counters;
    }
    this.blocks.length = 0;
    this.free.length = 0;
    this.owned.clear();
    this.liveCount = 0;
  }

  private allocBlock(): number {
    const counters = this.allocator.counters;
    this.allocator.counters = undefined;
    try {
      return this.allocator.alloc(BLOCK_BYTES);
    } finally {
      this.allocator.counters = counters;
    }
  }
}
