/**
 * drivers/iommu/sun50i-iommu.c as a reference for the property tests: the IOMMU core's 4 KiB
 * loops driving `sun50i_iommu_map` (one PTE per call, -EBUSY on a valid one) and
 * `sun50i_iommu_unmap` (4 KiB or 0 at a hole, which stops the core), on an interval map of
 * 4 KiB leaves plus the set of valid DTEs. Written from the kernel's rules. IOVAs below 4 GiB.
 */
import { ReferenceMap } from "@iommu/testing";

export const SPAGE = 0x1000;
export const DTE_SPAN = 0x10_0000;

export interface RefMapResult {
  readonly ret: number;
  readonly mapped: number;
  readonly unrolled: number;
}

export class Sun50iRef {
  readonly map = new ReferenceMap();
  /** 1 MiB slots whose DTE is valid (page tables are freed only with the domain). */
  readonly tables = new Set<number>();

  iommuMap(iova: number, pa: number, size: number, prot: number): RefMapResult {
    if (iova % SPAGE || pa % SPAGE || size % SPAGE) return { ret: -22, mapped: 0, unrolled: 0 };
    const group = this.map.nextGroup();
    for (let done = 0; done < size; done += SPAGE) {
      this.tables.add(Math.floor((iova + done) / DTE_SPAN));
      if (this.map.find(iova + done))
        return { ret: -16, mapped: done, unrolled: done ? this.iommuUnmap(iova, done) : 0 };
      this.map.add({ iova: iova + done, size: SPAGE, phys: pa + done, prot, leaf: SPAGE, group });
    }
    return { ret: 0, mapped: size, unrolled: 0 };
  }

  iommuUnmap(iova: number, size: number): number {
    if (iova % SPAGE || size % SPAGE) return 0;
    let done = 0;
    while (done < size && this.map.find(iova + done)) {
      this.map.cut(iova + done, SPAGE);
      done += SPAGE;
    }
    return done;
  }

  holeLength(iova: number): number {
    return this.tables.has(Math.floor(iova / DTE_SPAN)) ? SPAGE : DTE_SPAN;
  }
}
