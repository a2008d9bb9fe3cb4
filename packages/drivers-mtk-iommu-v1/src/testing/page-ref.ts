/**
 * drivers/iommu/mtk_iommu_v1.c (test helper, not published): the reference the property tests check the driver
 * against — an interval map of 4 KiB pages (IOVA frame → physical frame and prot), with a
 * sorted key index so a hole's whole span can be checked for emptiness.
 */

/** One mapped 4 KiB page. */
export interface RefPage {
  readonly ppfn: number;
  readonly prot: number;
}

export class PageRef {
  private readonly pages = new Map<number, RefPage>();
  private sorted: number[] | null = [];

  get size(): number {
    return this.pages.size;
  }

  get(ipfn: number): RefPage | undefined {
    return this.pages.get(ipfn);
  }

  set(ipfn: number, page: RefPage): void {
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
    let a = 0;
    let b = k.length;
    while (a < b) {
      const m = (a + b) >>> 1;
      if (k[m]! < lo) a = m + 1;
      else b = m;
    }
    const out: number[] = [];
    for (let i = a; i < k.length && k[i]! < hi; i++) out.push(k[i]!);
    return out;
  }

  /** True when some frame in [lo, hi) is mapped. */
  anyIn(lo: number, hi: number): boolean {
    const k = this.keys();
    let a = 0;
    let b = k.length;
    while (a < b) {
      const m = (a + b) >>> 1;
      if (k[m]! < lo) a = m + 1;
      else b = m;
    }
    return a < k.length && k[a]! < hi;
  }
}
