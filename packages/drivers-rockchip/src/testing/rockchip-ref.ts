/**
 * drivers/iommu/rockchip-iommu.c as a reference for the property tests: the IOMMU core's
 * map/unmap loops driving `rk_iommu_map` (one "page" of up to 4 MiB per call, as 4 KiB PTEs;
 * -EADDRINUSE on a valid PTE) and `rk_iommu_unmap` (valid PTEs from the IOVA up to the first
 * invalid one), on an interval map of 4 KiB leaves plus the set of valid DTEs. Written from the
 * kernel's rules, not from the model's code. IOVAs below 4 GiB.
 */
import { largestPage, pageSizesOf, ReferenceMap } from "@iommu/testing";

export const SPAGE = 0x1000;
export const DTE_SPAN = 0x40_0000;
export const RK_SIZES: readonly number[] = pageSizesOf(0x7f_f000);

export interface RefMapResult {
  readonly ret: number;
  readonly mapped: number;
  readonly unrolled: number;
}

export class RockchipRef {
  readonly map = new ReferenceMap();
  /** 4 MiB slots whose DTE is valid (page tables are never freed). */
  readonly tables = new Set<number>();

  /** One `rk_iommu_map(iova, pa, size)` of an aligned chunk. */
  private mapOne(iova: number, pa: number, size: number, prot: number, group: number): number {
    this.tables.add(Math.floor(iova / DTE_SPAN));
    if (!this.map.isFree(iova, size)) return -98;
    this.map.add({ iova, size, phys: pa, prot, leaf: SPAGE, group });
    return 0;
  }

  /** One `rk_iommu_unmap(iova, size)`: the valid run from `iova`, at most `size`. */
  private unmapOne(iova: number, size: number): number {
    if (!this.tables.has(Math.floor(iova / DTE_SPAN))) return 0;
    let n = 0;
    while (n < size && this.map.find(iova + n)) n += SPAGE;
    if (n) this.map.cut(iova, n);
    return n;
  }

  iommuMap(iova: number, pa: number, size: number, prot: number): RefMapResult {
    if (iova % SPAGE || pa % SPAGE || size % SPAGE) return { ret: -22, mapped: 0, unrolled: 0 };
    const group = this.map.nextGroup();
    let done = 0;
    while (done < size) {
      const p = largestPage(RK_SIZES, iova + done, pa + done, size - done);
      const ret = this.mapOne(iova + done, pa + done, p, prot, group);
      if (ret) return { ret, mapped: done, unrolled: done ? this.iommuUnmap(iova, done) : 0 };
      done += p;
    }
    return { ret: 0, mapped: done, unrolled: 0 };
  }

  iommuUnmap(iova: number, size: number): number {
    if (iova % SPAGE || size % SPAGE) return 0;
    let done = 0;
    while (done < size) {
      const p = largestPage(RK_SIZES, iova + done, iova + done, size - done);
      const u = this.unmapOne(iova + done, p);
      if (u === 0) break;
      done += u;
    }
    return done;
  }

  /** The span `iova_to_phys_length` reports for a hole: 4 KiB under a valid DTE, else 4 MiB. */
  holeLength(iova: number): number {
    return this.tables.has(Math.floor(iova / DTE_SPAN)) ? SPAGE : DTE_SPAN;
  }
}
