/**
 * drivers/iommu/exynos-iommu.c as a reference for the property tests: the IOMMU core's
 * map/unmap loops of the ~6.3 era driving the legacy one-page `.map`/`.unmap`, on an interval
 * map of leaves (the kit's ReferenceMap) plus the set of level-1 slots that hold a level-2
 * table. Written from the kernel's rules, not from the model's code. IOVAs below 4 GiB.
 */
import { largestPage, ReferenceMap } from "@iommu/testing";

export const SECT = 0x10_0000;
export const LPAGE = 0x1_0000;
export const SPAGE = 0x1000;
export const EXYNOS_SIZES: readonly number[] = [SECT, LPAGE, SPAGE];

/** What `iommu_map()` did: 0 or an errno, and the bytes mapped / unrolled. */
export interface RefMapResult {
  readonly ret: number;
  readonly mapped: number;
  readonly unrolled: number;
}

export class ExynosRef {
  readonly map = new ReferenceMap();
  /** Level-1 slots linking a level-2 table (other than the zero table). */
  readonly tables = new Set<number>();
  warns = 0;

  /** `strict`: unmapping a hole returns 0 instead of the hole's size. */
  constructor(readonly strict = false) {}

  private sectionAt(slot: number): boolean {
    const l = this.map.lookup(slot * SECT);
    return l !== undefined && l.unitSize === SECT;
  }

  /** One legacy `.map(iova, pa, size)` of an aligned page. */
  private mapOne(iova: number, pa: number, size: number, prot: number, group: number): number {
    const slot = Math.floor(iova / SECT);
    if (size === SECT) {
      if (!this.map.isFree(iova, SECT)) {
        this.warns++;
        return -98;
      }
      this.tables.delete(slot); // an empty level-2 table is freed and replaced
      this.map.add({ iova, size, phys: pa, prot, leaf: SECT, group });
      return 0;
    }
    if (this.sectionAt(slot)) {
      this.warns++;
      return -98;
    }
    this.tables.add(slot);
    if (!this.map.isFree(iova, size)) {
      this.warns++;
      return -98;
    }
    this.map.add({ iova, size, phys: pa, prot, leaf: size, group });
    return 0;
  }

  /** One legacy `.unmap(iova, size)`. */
  private unmapOne(iova: number, size: number): number {
    const slot = Math.floor(iova / SECT);
    const l = this.map.lookup(iova);
    if (l && l.unitSize === SECT) {
      if (size < SECT) {
        this.warns++;
        return 0;
      }
      this.map.cut(l.unitIova, SECT);
      return SECT;
    }
    if (!this.tables.has(slot)) return this.strict ? 0 : Math.min(size, SECT);
    if (!l) return this.strict ? 0 : SPAGE;
    if (l.unitSize === SPAGE) {
      this.map.cut(iova, SPAGE);
      return SPAGE;
    }
    if (size < LPAGE) {
      this.warns++;
      return 0;
    }
    this.map.cut(l.unitIova, LPAGE);
    return LPAGE;
  }

  /** `iommu_map()` (the core loop of that era: one page of the largest fitting size per call). */
  iommuMap(iova: number, pa: number, size: number, prot: number): RefMapResult {
    if (iova % SPAGE || pa % SPAGE || size % SPAGE) return { ret: -22, mapped: 0, unrolled: 0 };
    const group = this.map.nextGroup();
    let done = 0;
    while (done < size) {
      const p = largestPage(EXYNOS_SIZES, iova + done, pa + done, size - done);
      const ret = this.mapOne(iova + done, pa + done, p, prot, group);
      if (ret) return { ret, mapped: done, unrolled: done ? this.iommuUnmap(iova, done) : 0 };
      done += p;
    }
    return { ret: 0, mapped: done, unrolled: 0 };
  }

  /** `iommu_unmap()`: the core loop, stopping at a 0 return. */
  iommuUnmap(iova: number, size: number): number {
    if (iova % SPAGE || size % SPAGE) return 0;
    let done = 0;
    while (done < size) {
      const p = largestPage(EXYNOS_SIZES, iova + done, iova + done, size - done);
      const u = this.unmapOne(iova + done, p);
      if (u === 0) break;
      done += u;
    }
    return done;
  }

  /** The span `iova_to_phys_length` reports for a hole: 4 KiB under a table, else 1 MiB. */
  holeLength(iova: number): number {
    return this.tables.has(Math.floor(iova / SECT)) ? SPAGE : SECT;
  }
}
