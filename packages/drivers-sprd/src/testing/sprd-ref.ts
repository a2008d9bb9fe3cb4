/**
 * drivers/iommu/sprd-iommu.c as a reference for the property tests: the IOMMU core (4 KiB
 * bitmap: one `map_pages`/`unmap_pages` call of `size / 4 KiB` pages) driving the flat table —
 * maps overwrite whatever is there, unmaps clear and report the whole range; strict: an
 * overlap is -EEXIST and an unmap stops at the first empty entry. Written from the kernel's
 * rules. IOVAs inside the aperture, PAs in [4 KiB, 4 GiB).
 */
import { ReferenceMap } from "@iommu/testing";

export const SPAGE = 0x1000;
export const APERTURE = 0x1000_0000;

export interface RefMapResult {
  readonly ret: number;
  readonly mapped: number;
  readonly unrolled: number;
}

export class SprdRef {
  readonly map = new ReferenceMap();

  constructor(readonly strict = false) {}

  iommuMap(iova: number, pa: number, size: number, prot: number): RefMapResult {
    if (iova % SPAGE || pa % SPAGE || size % SPAGE) return { ret: -22, mapped: 0, unrolled: 0 };
    if (size === 0) return { ret: 0, mapped: 0, unrolled: 0 };
    if (iova + size > APERTURE) return { ret: -22, mapped: 0, unrolled: 0 };
    if (this.strict && !this.map.isFree(iova, size)) return { ret: -17, mapped: 0, unrolled: 0 };
    this.map.cut(iova, size);
    this.map.add({ iova, size, phys: pa, prot, leaf: SPAGE });
    return { ret: 0, mapped: size, unrolled: 0 };
  }

  iommuUnmap(iova: number, size: number): number {
    if (iova % SPAGE || size % SPAGE || size === 0) return 0;
    if (iova + size > APERTURE) return 0;
    if (!this.strict) {
      this.map.cut(iova, size);
      return size;
    }
    let n = 0;
    while (n < size && this.map.find(iova + n)) n += SPAGE;
    if (n) this.map.cut(iova, n);
    return n;
  }
}
