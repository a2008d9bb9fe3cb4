// drivers/iommu/mtk_iommu_v1.c (issue 17, model extension): one pass over the flat descriptor
// table for [iova, iova + size), reporting each descriptor to a PhysRunCollector.
//
// One read per descriptor in the range; no allocation and no BigInt per entry.
import { IOMMU_READ, IOMMU_WRITE, type PhysRunCollector, SZ_4K } from "@iommu/core";
import { F_DESC_VALID, MTK_V1_ENTRIES, type MtkIommuV1Domain } from "./mtk-iommu-v1.js";

const TWO52 = 2 ** 52;
/** Descriptors carry no permissions: every page is readable and writable (as the inspector says). */
const RW = IOMMU_READ | IOMMU_WRITE;

/**
 * Model-only `iova_to_phys_runs` for mtk_iommu_v1: a descriptor with F_DESC_VALID is a 4 KiB
 * leaf (frame `desc >> 12`), anything else a 4 KiB hole; IOVAs beyond the table (≥ 4 GiB) are
 * one hole, and a domain without the table is all hole — where `iova_to_phys_length` answers
 * unmapped.
 */
export function mtkV1IovaToPhysRuns(d: MtkIommuV1Domain, runs: PhysRunCollector): void {
  const c = d.pgtChunk;
  if (!c) {
    runs.hole(0, TWO52, SZ_4K);
    return;
  }
  const counters = d.counters;
  const words = c.words;
  const base = (d.pgtPa - c.pa) / 4;
  const to = Math.min(runs.endPfn, MTK_V1_ENTRIES);
  for (let p = runs.startPfn; p < to; p++) {
    const e = words[base + p]!;
    counters.pteReads++;
    const ok = e & F_DESC_VALID ? runs.leaf(p, 1, e >>> 12, RW, SZ_4K) : runs.hole(p, 1, SZ_4K);
    if (!ok) return;
  }
  if (runs.endPfn > MTK_V1_ENTRIES)
    runs.hole(MTK_V1_ENTRIES, TWO52 - MTK_V1_ENTRIES, (TWO52 - MTK_V1_ENTRIES) * SZ_4K);
}
