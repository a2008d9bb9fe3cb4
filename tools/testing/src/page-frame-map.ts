/**
 * drivers/iommu (test helper): the reference for drivers that map 4 KiB pages only
 * (tegra-smmu, mtk_iommu_v1, s390) — a map of IOVA frame → physical frame and prot, with a
 * sorted key index so that a hole's whole span can be checked for emptiness. Frames, not
 * addresses: s390's IOVA space is 64 bits wide, its frame numbers stay below 2^52.
 */

/** One mapped 4 KiB page. */
export interface PageFrame {
  readonly ppfn: number;
  readonly prot: number;
}

/** IOVA frame → {@link PageFrame}, with range queries over the mapped frames. */
export class PageFrameMap {
  private readonly pages = new Map<number, PageFrame>();
  private sorted: number[] | null = [];

  get size(): number {
    return this.pages.size;
  }

  get(ipfn: number): PageFrame | undefined {
    return this.pages.get(ipfn);
  }

  set(ipfn: number, page: PageFrame): void {
    if (!this.pages.has(ipfn)) this.sorted = null;
    this.pages.set(ipfn, page);
  }

  delete(ipfn: number): boolean {
    const had = this.pages.delete(ipfn);
    if (had) this.sorted = null;
    return had;
  }

  /** Mapped frames, ascending. */
  keys(): readonly number[] {
    if (!this.sorted) this.sorted = [...this.pages.keys()].sort((a, b) => a - b);
    return this.sorted;
  }

  /** Mapped frames in [lo, hi), ascending. */
  between(lo: number, hi: number): number[] {
    const k = this.keys();
    const out: number[] = [];
    for (let i = this.lowerBound(lo); i < k.length && k[i]! < hi; i++) out.push(k[i]!);
    return out;
  }

  /** True when some frame in [lo, hi) is mapped. */
  anyIn(lo: number, hi: number): boolean {
    const k = this.keys();
    const a = this.lowerBound(lo);
    return a < k.length && k[a]! < hi;
  }

  /** Index of the first mapped frame ≥ `lo`. */
  private lowerBound(lo: number): number {
    const k = this.keys();
    let a = 0;
    let b = k.length;
    while (a < b) {
      const m = (a + b) >>> 1;
      if (k[m]! < lo) a = m + 1;
      else b = m;
    }
    return a;
  }
}
