// drivers/iommu/sun50i-iommu.c (issue 17, model extension): one descent over the directory
// and page tables of [iova, iova + size), reporting each PTE and empty entry to a
// PhysRunCollector — packages/core/docs/iova-to-phys-runs.md.
//
// The answers are those of sun50iIommuIovaToPhysLength page by page: IOVA bits above 31 are
// ignored (quirk iova-aliased: each 4 GiB window aliases the table), a strict domain answers
// one hole above 4 GiB, an invalid DTE is a 1 MiB hole, an invalid PTE (or one in absent
// memory) a 4 KiB hole; every leaf is a 4 KiB PTE whose ACI gives the prot. Each entry is read
// once; no allocation and no BigInt per entry.
import { type PhysRunCollector, runsOver32BitWindows } from "@iommu/core";
import {
  DTE_SPAN,
  NUM_DT_ENTRIES,
  NUM_PT_ENTRIES,
  SPAGE_SIZE,
  sun50iAciToProt,
  sun50iDteGetPtAddress,
  sun50iDteIsPtValid,
  sun50iGetPteAci,
  sun50iPteIsPageValid,
} from "./defs.js";
import type { Sun50iDomain } from "./sun50i-iommu.js";

/** Frames one DTE spans (1 MiB). */
const DTE_PFNS = NUM_PT_ENTRIES;
const TWO52 = 2 ** 52;

/**
 * Model-only `iova_to_phys_runs` for sun50i tables (the driver has no such op): the runs of
 * the collector's range in one walk, agreeing with one {@link sun50iIommuIovaToPhysLength} per
 * page. Non-strict domains alias every 4 GiB window onto the directory (the walk repeats per
 * window the range touches); strict domains report IOVAs at or above 4 GiB as one hole.
 */
export function sun50iIommuIovaToPhysRuns(d: Sun50iDomain, runs: PhysRunCollector): void {
  if (d.dt < 0) {
    runs.hole(0, TWO52, SPAGE_SIZE);
    return;
  }
  runsOver32BitWindows(d, runs, d.strict, 0, windowRuns);
}

/** DTEs of the 4 GiB window at frame `win` from frame `fromPfn` to frame `end`: -1 when done (Window32Walk). */
function windowRuns(
  d: Sun50iDomain,
  runs: PhysRunCollector,
  win: number,
  fromPfn: number,
  end: number,
): number {
  const counters = d.counters;
  for (let i = ((fromPfn - win) / DTE_PFNS) | 0; i < NUM_DT_ENTRIES; i++) {
    const first = win + i * DTE_PFNS;
    if (first >= end) return 0;
    const dte = d.dtWords[d.dtOff + i]!;
    counters.pteReads++;
    if (!sun50iDteIsPtValid(dte)) {
      if (!runs.hole(first, DTE_PFNS, DTE_SPAN)) return -1;
      continue;
    }
    const base = d.pt.resolve(d.allocator.mem, sun50iDteGetPtAddress(dte));
    // A DTE into absent memory reads as 256 invalid PTEs, as the single-address walk does.
    if (base < 0) {
      if (!runs.hole(first, DTE_PFNS, SPAGE_SIZE)) return -1;
      continue;
    }
    const words = d.pt.words;
    for (let j = Math.max(0, runs.startPfn - first); j < NUM_PT_ENTRIES && first + j < end; j++) {
      const pte = words[base + j]!;
      counters.pteReads++;
      const more = sun50iPteIsPageValid(pte)
        ? runs.leaf(first + j, 1, pte >>> 12, sun50iAciToProt(sun50iGetPteAci(pte)), SPAGE_SIZE)
        : runs.hole(first + j, 1, SPAGE_SIZE);
      if (!more) return -1;
    }
  }
  return 0;
}
