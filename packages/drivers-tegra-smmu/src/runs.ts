// drivers/iommu/tegra-smmu.c (issue 17, model extension): one descent over the page directory
// and page tables of [iova, iova + size), reporting each PTE and empty slot to a PhysRunCollector.
//
// Each PDE in the range is read once (the driver keeps the table in `pts[]`, but a lookup
// counts the PDE read as `iova_to_phys_length` does), each PTE once. No allocation and no
// BigInt per entry.
import { type PhysRunCollector, runsOver32BitWindows, SZ_4K, SZ_4M } from "@iommu/core";
import { tegraPteProt } from "./inspect.js";
import type { TegraSmmuDomain } from "./tegra-smmu.js";

/**
 * Model-only `iova_to_phys_runs` for tegra-smmu. The kernel's index masks alias IOVAs ≥ 4 GiB
 * onto the low 4 GiB (`iova-alias`): a default domain's runs repeat the 4 GiB table, as its
 * `iova_to_phys_length` does; a strict domain reports everything above 4 GiB as one hole.
 */
export function tegraIovaToPhysRuns(d: TegraSmmuDomain, runs: PhysRunCollector): void {
  runsOver32BitWindows(d, runs, d.strict, SZ_4M, windowRuns);
}

/** The directory for the 4 GiB window at frame `window`, from frame `fromPfn` to `end` (Window32Walk). */
function windowRuns(
  d: TegraSmmuDomain,
  runs: PhysRunCollector,
  window: number,
  fromPfn: number,
  end: number,
): number {
  const counters = d.counters;
  const mask = d.smmu.pfnMask;
  let tables = 0;
  for (let pde = (fromPfn - window) >>> 10; pde < 1024; pde++) {
    const first = window + pde * 1024;
    if (first >= end) return tables;
    counters.pteReads++; // the PDE
    const pt = d.pts[pde]!;
    if (pt < 0) {
      if (!runs.hole(first, 1024, SZ_4M)) return -1;
      continue;
    }
    tables++;
    const c = d.ptChunks[pde]!;
    const words = c.words;
    const base = (pt - c.pa) / 4;
    for (let j = Math.max(0, fromPfn - first); j < 1024 && first + j < end; j++) {
      const pte = words[base + j]!;
      counters.pteReads++;
      const ok =
        pte === 0
          ? runs.hole(first + j, 1, SZ_4K)
          : runs.leaf(first + j, 1, pte & mask, tegraPteProt(pte), SZ_4K);
      if (!ok) return -1;
    }
  }
  return tables;
}
