import { PAGE_SIZE } from "./addr.js";
import { IommuError } from "./errno.js";

const SLAB_BYTES = 0x10000;

/**
 * Slabs a PhysMem no longer uses (every page in them removed), kept for the next one: their
 * memory is already faulted in (a fresh slab costs the OS one page fault, ~1 µs, per 4 KiB
 * first touched — the dominant cost of building a table in a new PhysMem). Bounded: 16 MiB.
 * Chunks are zeroed when handed out, so nothing leaks between instances.
 */
const SLAB_POOL: ArrayBuffer[] = [];
const SLAB_POOL_MAX = 256;

/**
 * A run of simulated physical memory backed by one buffer. Page-table code resolves a
 * table's physical address to its chunk once per level and then indexes `words` directly:
 * entry i of a 64-bit table at `pa` is `words[w]` (low half) and `words[w + 1]` (high half)
 * with `w = (pa - chunk.pa) / 4 + 2 * i`.
 */
export interface MemChunk {
  /** Physical address of words[0]. */
  readonly pa: number;
  /** Length in bytes (a multiple of 4 KiB). */
  readonly bytes: number;
  readonly words: Uint32Array;
}

/**
 * Sparse physical memory: only pages that were allocated or imported exist; reads elsewhere
 * return 0 (and writes there throw, as a machine check would). Addresses are numbers: table
 * memory lives below 2^53 in every format we model.
 */
export class PhysMem {
  private readonly pages = new Map<number, MemChunk>();
  /**
   * Backing stores for small naturally aligned chunks (page-table pages), one per 64 KiB of
   * physical space touched. A fresh typed array costs a calloc'd off-heap store each
   * (~1.7 µs); a view into a shared slab ~0.1 µs. 64 KiB keeps sparse layouts cheap.
   */
  private readonly slabs = new Map<number, ArrayBuffer>();
  /** Live 4 KiB pages per slab; a slab with none goes back to the pool. */
  private readonly slabPages = new Map<number, number>();

  /** The chunk holding `pa`, or undefined. */
  chunk(pa: number): MemChunk | undefined {
    return this.pages.get(Math.floor(pa / PAGE_SIZE));
  }

  /** Map a fresh zeroed chunk at [pa, pa + bytes). Pages already present are replaced. */
  addChunk(pa: number, bytes: number): MemChunk {
    if (pa % PAGE_SIZE !== 0 || bytes % PAGE_SIZE !== 0 || bytes <= 0)
      throw new IommuError("EINVAL", "PhysMem.addChunk", { pa, bytes }, "not 4 KiB granular");
    const first = pa / PAGE_SIZE;
    for (let i = 0; i < bytes / PAGE_SIZE; i++) {
      if (this.pages.has(first + i)) {
        this.removeRange(pa, bytes); // replacing: release what is there first
        break;
      }
    }
    const c: MemChunk = { pa, bytes, words: this.backing(pa, bytes) };
    for (let i = 0; i < bytes / PAGE_SIZE; i++) this.pages.set(first + i, c);
    return c;
  }

  private backing(pa: number, bytes: number): Uint32Array {
    const slabBytes = SLAB_BYTES;
    const naturallyAligned = (bytes & (bytes - 1)) === 0 && pa % bytes === 0;
    if (!naturallyAligned || bytes > slabBytes) return new Uint32Array(bytes / 4);
    const slabIndex = Math.floor(pa / slabBytes);
    let slab = this.slabs.get(slabIndex);
    if (!slab) {
      slab = SLAB_POOL.pop() ?? new ArrayBuffer(slabBytes);
      this.slabs.set(slabIndex, slab);
    }
    this.slabPages.set(slabIndex, (this.slabPages.get(slabIndex) ?? 0) + bytes / PAGE_SIZE);
    const words = new Uint32Array(slab, pa - slabIndex * slabBytes, bytes / 4);
    words.fill(0);
    return words;
  }

  /** Unmap the pages of [pa, pa + bytes). */
  removeRange(pa: number, bytes: number): void {
    const first = Math.floor(pa / PAGE_SIZE);
    for (let i = 0; i < bytes / PAGE_SIZE; i++) {
      const c = this.pages.get(first + i);
      if (!c) continue;
      this.pages.delete(first + i);
      this.releaseSlabPage(c, (first + i) * PAGE_SIZE);
    }
  }

  /** Account one removed page of a slab-backed chunk; an empty slab returns to the pool. */
  private releaseSlabPage(c: MemChunk, pagePa: number): void {
    const slabIndex = Math.floor(pagePa / SLAB_BYTES);
    const slab = this.slabs.get(slabIndex);
    if (slab === undefined || c.words.buffer !== slab) return; // not slab-backed
    const left = this.slabPages.get(slabIndex)! - 1;
    if (left > 0) {
      this.slabPages.set(slabIndex, left);
      return;
    }
    this.slabPages.delete(slabIndex);
    this.slabs.delete(slabIndex);
    if (SLAB_POOL.length < SLAB_POOL_MAX) SLAB_POOL.push(slab);
  }

  /** Number of 4 KiB pages present. */
  get pageCount(): number {
    return this.pages.size;
  }

  read32(pa: number): number {
    const c = this.chunk(pa);
    return c ? c.words[(pa - c.pa) >>> 2]! : 0;
  }

  write32(pa: number, value: number): void {
    const c = this.chunk(pa);
    if (!c) throw new IommuError("EFAULT", "PhysMem.write32", { pa }, "no memory at this address");
    c.words[(pa - c.pa) >>> 2] = value;
  }

  /** A 64-bit little-endian entry as a bigint (tools and tests; hot paths use chunk()). */
  read64(pa: number): bigint {
    const c = this.chunk(pa);
    if (!c) return 0n;
    const w = (pa - c.pa) >>> 2;
    return (BigInt(c.words[w + 1]!) << 32n) | BigInt(c.words[w]!);
  }

  write64(pa: number, value: bigint): void {
    const c = this.chunk(pa);
    if (!c) throw new IommuError("EFAULT", "PhysMem.write64", { pa }, "no memory at this address");
    const w = (pa - c.pa) >>> 2;
    c.words[w] = Number(value & 0xffffffffn);
    c.words[w + 1] = Number((value >> 32n) & 0xffffffffn);
  }

  /**
   * Load raw bytes (e.g. a table image dumped from a real machine) at `pa`. The span is
   * rounded out to whole pages; pages that do not exist yet become one new chunk, so tables
   * inside one imported range are contiguous.
   */
  importRange(pa: number, data: Uint8Array): void {
    if (data.length === 0) return;
    const start = Math.floor(pa / PAGE_SIZE) * PAGE_SIZE;
    const end = Math.ceil((pa + data.length) / PAGE_SIZE) * PAGE_SIZE;
    let missing = false;
    for (let p = start; p < end; p += PAGE_SIZE) if (!this.chunk(p)) missing = true;
    if (missing) {
      // Keep bytes of pages that already exist, then back the whole span with one chunk.
      const keep = this.exportRange(start, end - start);
      const c = this.addChunk(start, end - start);
      new Uint8Array(c.words.buffer, c.words.byteOffset, c.bytes).set(keep);
    }
    // Copy page by page: pages may belong to different chunks.
    let i = 0;
    while (i < data.length) {
      const a = pa + i;
      const c = this.chunk(a)!;
      const pageEnd = (Math.floor(a / PAGE_SIZE) + 1) * PAGE_SIZE;
      const n = Math.min(data.length - i, pageEnd - a);
      new Uint8Array(c.words.buffer, c.words.byteOffset + (a - c.pa), n).set(data.subarray(i, i + n));
      i += n;
    }
  }

  /** Copy out [pa, pa + length); absent memory reads as zero. */
  exportRange(pa: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    let i = 0;
    while (i < length) {
      const a = pa + i;
      const c = this.chunk(a);
      const pageEnd = (Math.floor(a / PAGE_SIZE) + 1) * PAGE_SIZE;
      const n = Math.min(length - i, pageEnd - a);
      if (c) out.set(new Uint8Array(c.words.buffer, c.words.byteOffset + (a - c.pa), n), i);
      i += n;
    }
    return out;
  }

  /** The present memory as maximal runs of consecutive pages, ascending. */
  ranges(): Array<{ pa: number; bytes: number }> {
    const pfns = [...this.pages.keys()].sort((a, b) => a - b);
    const out: Array<{ pa: number; bytes: number }> = [];
    for (const pfn of pfns) {
      const last = out[out.length - 1];
      if (last && last.pa + last.bytes === pfn * PAGE_SIZE) last.bytes += PAGE_SIZE;
      else out.push({ pa: pfn * PAGE_SIZE, bytes: PAGE_SIZE });
    }
    return out;
  }
}
