// drivers/iommu/sprd-iommu.c (issue 17, model extension): one pass over the flat table's
// entries of [iova, iova + size), reporting each to a PhysRunCollector —
// packages/core/docs/iova-to-phys-runs.md.
//
// The answers are those of sprdIommuIovaToPhysLength page by page: an entry other than 0 is a
// mapped 4 KiB page (read/write: the table has no permission bits), entry 0 a 4 KiB hole (a
// page at PA 0 included, quirk pa-zero), everything beyond the 256 MiB aperture one hole (with
// the lookup's WARN, once per call). Each entry is read once; no allocation and no BigInt per
// entry.
import { IOMMU_READ, IOMMU_WRITE, type PhysRunCollector } from "@iommu/core";
import { SPRD_IOMMU_PAGE_SIZE, SPRD_PGT_ENTRIES } from "./defs.js";
import type { SprdDomain } from "./sprd-iommu.js";

const TWO52 = 2 ** 52;
const RW = IOMMU_READ | IOMMU_WRITE;

/**
 * Model-only `iova_to_phys_runs` for the sprd flat table (the driver has no such op): the runs
 * of the collector's range in one pass, agreeing with one {@link sprdIommuIovaToPhysLength}
 * per page. A domain not attached yet (no table) answers holes.
 */
export function sprdIommuIovaToPhysRuns(d: SprdDomain, runs: PhysRunCollector): void {
  const end = Math.min(runs.endPfn, SPRD_PGT_ENTRIES);
  if (d.pgt < 0) {
    if (!runs.hole(0, SPRD_PGT_ENTRIES, SPRD_IOMMU_PAGE_SIZE)) return;
  } else {
    const words = d.pgtWords;
    const off = d.pgtOff;
    const counters = d.counters;
    for (let i = runs.startPfn; i < end; i++) {
      const ent = words[off + i]!;
      counters.pteReads++;
      const more =
        ent === 0 ? runs.hole(i, 1, SPRD_IOMMU_PAGE_SIZE) : runs.leaf(i, 1, ent, RW, SPRD_IOMMU_PAGE_SIZE);
      if (!more) return;
    }
  }
  if (runs.endPfn > SPRD_PGT_ENTRIES) {
    d.counters.warn("sprd: iova_to_phys outside the aperture");
    runs.hole(SPRD_PGT_ENTRIES, TWO52 - SPRD_PGT_ENTRIES, (TWO52 - SPRD_PGT_ENTRIES) * SPRD_IOMMU_PAGE_SIZE);
  }
}
