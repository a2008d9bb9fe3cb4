/**
 * include/asm-generic/io.h (`readl`/`writel` on an `__iomem` window): the register file of a
 * fake IOMMU — each 32-bit register reads back the last value written (0 before), with no side
 * effects of its own; a driver model adds the registers that behave otherwise (self-clearing,
 * read-only) and counts the accesses.
 *
 * Registers inside the window are a typed array: TLB flushes write registers per mapped page,
 * so this is a hot path and allocates nothing. Offsets outside the window (or unaligned) still
 * work, through a map.
 */

/** A fake device's 32-bit registers over a window of `bytes` (model). */
export class MmioRegs {
  private readonly words: Uint32Array;
  private readonly limit: number;
  private readonly outside = new Map<number, number>();

  /** A zeroed window of `bytes` (a multiple of 4); `initial` sets registers by offset. */
  constructor(bytes: number, initial: Readonly<Record<number, number>> = {}) {
    this.words = new Uint32Array(bytes >>> 2);
    this.limit = this.words.length * 4;
    for (const [offset, value] of Object.entries(initial)) this.write(Number(offset), value);
  }

  /** The register at `offset`: the last value written, 0 if never written. */
  read(offset: number): number {
    if (offset >= 0 && offset < this.limit && (offset & 3) === 0) return this.words[offset >>> 2]!;
    return this.outside.get(offset) ?? 0;
  }

  /** Set the register at `offset` to `value` as a u32. */
  write(offset: number, value: number): void {
    if (offset >= 0 && offset < this.limit && (offset & 3) === 0) this.words[offset >>> 2] = value;
    else this.outside.set(offset, value >>> 0);
  }
}
