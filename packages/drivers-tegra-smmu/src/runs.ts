// drivers/iommu/tegra-smmu.c (issue 17, model extension): one descent over the page directory
// and page tables of [iova, iova + size), reporting each PTE and empty slot to a PhysRunCollector.
//
// Each PDE in the range is read once (the driver keeps the table in `pts[]`, but a lookup
// counts the PDE read as `tegra_smmu_iova_to_phys` does), each PTE once. No allocation and no
// BigInt per entry.
import { type PhysRunCollector, SZ_4K, SZ_4M } from "@iommu/core";
import { tegraPteProt } from "./inspect.js";
import type { TegraSmmuDomain } from "./tegra-smmu.js";

/** Frames of the 32-bit IOVA space (one pass over the page directory). */
const IOVA_PFNS = 2 ** 20;
const TWO52 = 2 ** 52;

/**
 * Model-only `iova_to_phys_runs` for tegra-smmu. The kernel's index masks alias IOVAs ≥ 4 GiB
 * onto the low 4 GiB (`iova-alias`): a default domain's runs repeat the 4 GiB table, as its
 * `iova_to_phys_length` does; a strict domain reports everything above 4 GiB as one hole.
 */
export function tegraIovaToPhysRuns(d: TegraSmmuDomain, runs: PhysRunCollector): void {
  const counters = d.counters;
  const mask = d.smmu.pfnMask;
  const end = runs.endPfn;
  let pfn = runs.startPfn;
  while (pfn < end) {
    if (d.strict && pfn >= IOVA_PFNS) {
      runs.hole(IOVA_PFNS, TWO52 - IOVA_PFNS, (TWO52 - IOVA_PFNS) * SZ_4K);
      return;
    }
    // The 4 GiB window holding `pfn` (window 0 unless the IOVA aliases).
    const window = pfn - (pfn % IOVA_PFNS);
    const whole = pfn === window;
    let tables = 0;
    for (let pde = (pfn - window) >>> 10; pde < 1024; pde++) {
      const first = window + pde * 1024;
      if (first >= end) return;
      counters.pteReads++; // the PDE
      const pt = d.pts[pde]!;
      if (pt < 0) {
        if (!runs.hole(first, 1024, SZ_4M)) return;
        continue;
      }
      tables++;
      const c = d.ptChunks[pde]!;
      const words = c.words;
      const base = (pt - c.pa) / 4;
      for (let j = Math.max(0, pfn - first); j < 1024 && first + j < end; j++) {
        const pte = words[base + j]!;
        counters.pteReads++;
        const ok =
          pte === 0
            ? runs.hole(first + j, 1, SZ_4K)
            : runs.leaf(first + j, 1, pte & mask, tegraPteProt(pte), SZ_4K);
        if (!ok) return;
      }
    }
    const next = window + IOVA_PFNS;
    if (whole && tables === 0) {
      // An empty directory: every alias of it is empty too.
      if (next < end) runs.hole(next, end - next, SZ_4M);
      return;
    }
    pfn = next;
  }
}
