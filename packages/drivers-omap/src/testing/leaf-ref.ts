/**
 * drivers/iommu/omap-iommu.c (test helper, not published): the reference the property tests
 * check the driver against — the leaves (4 KiB, 64 KiB, 1 MiB, 16 MiB) of a 32-bit IOVA space
 * and which 1 MiB slots hold an L2 table (those with a 4 KiB or 64 KiB leaf).
 */

/** One mapped page of the driver: `pages` 4 KiB frames from `start` → from `ppfn`. */
export interface RefLeaf {
  readonly start: number;
  readonly pages: number;
  readonly ppfn: number;
}

const PAGES = [4096, 256, 16, 1] as const;

export class LeafRef {
  private readonly leaves = new Map<number, RefLeaf>();
  private readonly small = new Map<number, number>();

  get size(): number {
    return this.leaves.size;
  }

  /** The leaf mapping IOVA frame `ipfn`, if any. */
  find(ipfn: number): RefLeaf | undefined {
    for (const n of PAGES) {
      const l = this.leaves.get(ipfn - (ipfn % n));
      if (l && l.pages === n) return l;
    }
    return undefined;
  }

  /** True when no frame of [ipfn, ipfn + n) is mapped. */
  isFree(ipfn: number, n: number): boolean {
    for (let p = ipfn; p < ipfn + n; p++) if (this.find(p)) return false;
    return true;
  }

  /** True when 1 MiB slot `slot` holds an L2 table (some 4 KiB / 64 KiB leaf). */
  hasTable(slot: number): boolean {
    return (this.small.get(slot) ?? 0) > 0;
  }

  add(leaf: RefLeaf): void {
    this.leaves.set(leaf.start, leaf);
    if (leaf.pages <= 16) {
      const s = Math.floor(leaf.start / 256);
      this.small.set(s, (this.small.get(s) ?? 0) + 1);
    }
  }

  remove(leaf: RefLeaf): void {
    this.leaves.delete(leaf.start);
    if (leaf.pages <= 16) {
      const s = Math.floor(leaf.start / 256);
      this.small.set(s, this.small.get(s)! - 1);
    }
  }

  /** Every leaf, in no particular order. */
  all(): RefLeaf[] {
    return [...this.leaves.values()];
  }
}
