import type { IommuCounters } from "./counters.js";
import { IommuError } from "./errno.js";
import { type MemChunk, PhysMem } from "./phys-mem.js";

export interface TableAllocatorOptions {
  /** Physical address of the arena (default 0x80000000, the reference harness's ptbase). */
  base?: number;
  /** Arena size in bytes (default 2 GiB). */
  arenaBytes?: number;
  /** Counters to bump on every allocation and free (tablesAllocated / tablesFreed). */
  counters?: IommuCounters;
}

/**
 * Page-table page allocator over {@link PhysMem}, deterministic so that table addresses —
 * and so TTBR values and table descriptors — match the kernel reference harness:
 *
 * - a request of s bytes takes a naturally aligned block of the smallest power of two
 *   ≥ max(s, 4 KiB), zeroed;
 * - freed blocks go on a LIFO list per size and are reused first;
 * - otherwise the block is the lowest aligned one at or above the arena's high-water mark.
 *
 * Allocation failure can be injected (`failNth`) to test -ENOMEM paths and rollback.
 */
export class TableAllocator {
  readonly mem: PhysMem;
  readonly base: number;
  readonly arenaBytes: number;
  counters: IommuCounters | undefined;
  private top = 0;
  private readonly free = new Map<number, number[]>();
  private readonly live = new Map<number, MemChunk>();
  private failCountdown = 0;
  liveBytes = 0;
  allocatedTotal = 0;
  freedTotal = 0;
  failedTotal = 0;

  constructor(mem: PhysMem = new PhysMem(), options: TableAllocatorOptions = {}) {
    this.mem = mem;
    this.base = options.base ?? 0x8000_0000;
    this.arenaBytes = options.arenaBytes ?? 0x8000_0000;
    this.counters = options.counters;
    if (this.base % 4096 !== 0) throw new IommuError("EINVAL", "TableAllocator", { base: this.base });
  }

  /** Number of live blocks. */
  get liveCount(): number {
    return this.live.size;
  }

  /** Make the n-th next allocation fail (1 = the very next one); 0 cancels. */
  failNth(n: number): void {
    this.failCountdown = n;
  }

  /** Block size used for a request of `bytes`. */
  static blockSize(bytes: number): number {
    let b = 4096;
    while (b < bytes) b *= 2;
    return b;
  }

  /**
   * Allocate a zeroed, naturally aligned block; returns its physical address, or -1 when out
   * of memory (the kernel's NULL: callers turn it into -ENOMEM).
   */
  alloc(bytes: number): number {
    if (this.failCountdown > 0 && --this.failCountdown === 0) {
      this.failedTotal++;
      return -1;
    }
    const size = TableAllocator.blockSize(bytes);
    let pa = this.free.get(size)?.pop();
    if (pa === undefined) {
      const off = Math.ceil(this.top / size) * size;
      if (off + size > this.arenaBytes) {
        this.failedTotal++;
        return -1;
      }
      this.top = off + size;
      pa = this.base + off;
    }
    const c = this.mem.addChunk(pa, size);
    this.live.set(pa, c);
    this.liveBytes += size;
    this.allocatedTotal++;
    if (this.counters) this.counters.tablesAllocated++;
    return pa;
  }

  /** Free a block returned by alloc(). Freeing anything else is a kernel bug: it throws. */
  release(pa: number): void {
    const c = this.live.get(pa);
    if (!c) throw new IommuError("EINVAL", "TableAllocator.release", { pa }, "not a live table block");
    this.live.delete(pa);
    this.mem.removeRange(pa, c.bytes);
    this.liveBytes -= c.bytes;
    this.freedTotal++;
    if (this.counters) this.counters.tablesFreed++;
    let list = this.free.get(c.bytes);
    if (!list) {
      list = [];
      this.free.set(c.bytes, list);
    }
    list.push(pa);
  }

  /**
   * The live blocks, ascending by address: a read-only view (copies) for tests and tools, e.g.
   * to snapshot every table's bytes with `mem.exportRange(pa, bytes)`.
   */
  liveBlocks(): Array<{ readonly pa: number; readonly bytes: number }> {
    const out: Array<{ pa: number; bytes: number }> = [];
    for (const [pa, c] of this.live) out.push({ pa, bytes: c.bytes });
    return out.sort((a, b) => a.pa - b.pa);
  }

  /** Size of a live block, or 0. */
  sizeOf(pa: number): number {
    return this.live.get(pa)?.bytes ?? 0;
  }

  /** Drop every block and start the arena afresh (totals are kept). */
  reset(): void {
    for (const [pa, c] of this.live) this.mem.removeRange(pa, c.bytes);
    this.live.clear();
    this.free.clear();
    this.top = 0;
    this.liveBytes = 0;
  }
}
