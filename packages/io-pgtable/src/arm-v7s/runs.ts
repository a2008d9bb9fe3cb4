// drivers/iommu/io-pgtable-arm-v7s.c (issue 17, model extension): one descent over the L1 and
// L2 tables of [iova, iova + size), reporting each leaf and empty entry to a PhysRunCollector.
//
// Each entry is read once (pteReads), except the 15 replicas of a 16M supersection or a 64K
// large page: the first one read gives the whole unit, as arm_v7s_iova_to_phys reads one.
// No allocation and no BigInt per entry.
import type { PhysRunCollector } from "@iommu/core";
import { IO_PGTABLE_QUIRK_NO_PERMS } from "../io-pgtable.js";
import type { ArmV7sIoPgtable } from "./arm-v7s.js";
import {
  ARM_V7S_CONT_PAGES,
  ARM_V7S_L1_BLOCK,
  ARM_V7S_L2_BLOCK,
  ARM_V7S_L2_ENTRIES,
  ARM_V7S_TABLE_MASK,
} from "./defs.js";
import { leafProt } from "./inspect.js";
import { armV7sIopteToPaddr, armV7sPteIsCont } from "./pte.js";

const PAGE = 4096;
const L1_PFNS = ARM_V7S_L1_BLOCK / PAGE;
const TWO52 = 2 ** 52;

/**
 * Model-only `iova_to_phys_runs` for ARMv7 short descriptors: IOVAs at or above 2^ias are one
 * hole (the table does not translate them; the legacy walk would alias them).
 */
export function armV7sIovaToPhysRuns(t: ArmV7sIoPgtable, runs: PhysRunCollector): void {
  const mem = t.cfg.allocator.mem;
  const counters = t.cfg.counters;
  const noPerms = (t.quirks & IO_PGTABLE_QUIRK_NO_PERMS) !== 0;
  const l1c = mem.chunk(t.pgd);
  const limit = t.l1Entries * L1_PFNS;
  const to = Math.min(runs.endPfn, limit);
  if (l1c) {
    const l1 = l1c.words;
    const l1Base = ((t.pgd - l1c.pa) / 4) | 0;
    for (let i = Math.floor(runs.startPfn / L1_PFNS); i * L1_PFNS < to; i++) {
      const pfn = i * L1_PFNS;
      const pte = l1[l1Base + i]!;
      counters.pteReads++;
      const type = pte & 3;
      if (type === 0) {
        if (!runs.hole(pfn, L1_PFNS, ARM_V7S_L1_BLOCK)) return;
      } else if (type === 1) {
        const pa = t.mtk ? armV7sIopteToPaddr(pte, 1, true) : (pte & ARM_V7S_TABLE_MASK) >>> 0;
        if (!l2Runs(runs, mem.chunk(pa), pa, pfn, counters, t.mtk, noPerms)) return;
      } else if (armV7sPteIsCont(pte, 1)) {
        // A supersection: 16 replicas; report the unit from the one read, skip the rest.
        const unit = i - (i % ARM_V7S_CONT_PAGES);
        const ok = runs.leaf(
          unit * L1_PFNS,
          ARM_V7S_CONT_PAGES * L1_PFNS,
          armV7sIopteToPaddr(pte, 1, t.mtk) / PAGE,
          leafProt(pte, 1, noPerms),
          ARM_V7S_CONT_PAGES * ARM_V7S_L1_BLOCK,
        );
        if (!ok) return;
        i = unit + ARM_V7S_CONT_PAGES - 1;
      } else if (
        !runs.leaf(
          pfn,
          L1_PFNS,
          armV7sIopteToPaddr(pte, 1, t.mtk) / PAGE,
          leafProt(pte, 1, noPerms),
          ARM_V7S_L1_BLOCK,
        )
      )
        return;
    }
  }
  if (limit < TWO52) runs.hole(limit, TWO52 - limit, (TWO52 - limit) * PAGE);
}

/** The L2 table at `pa` for the 1M at frame `first`: false when the collector is done. */
function l2Runs(
  runs: PhysRunCollector,
  c: { pa: number; words: Uint32Array } | undefined,
  pa: number,
  first: number,
  counters: { pteReads: number },
  mtk: boolean,
  noPerms: boolean,
): boolean {
  // A table descriptor into absent memory reads as empty, like the single-address walk.
  if (!c) return runs.hole(first, ARM_V7S_L2_ENTRIES, ARM_V7S_L2_BLOCK);
  const words = c.words;
  const base = ((pa - c.pa) / 4) | 0;
  const to = runs.endPfn;
  for (let j = Math.max(0, runs.startPfn - first); j < ARM_V7S_L2_ENTRIES && first + j < to; j++) {
    const pte = words[base + j]!;
    counters.pteReads++;
    if ((pte & 3) === 0) {
      if (!runs.hole(first + j, 1, ARM_V7S_L2_BLOCK)) return false;
    } else if (armV7sPteIsCont(pte, 2)) {
      const unit = j - (j % ARM_V7S_CONT_PAGES);
      const ok = runs.leaf(
        first + unit,
        ARM_V7S_CONT_PAGES,
        armV7sIopteToPaddr(pte, 2, mtk) / PAGE,
        leafProt(pte, 2, noPerms),
        ARM_V7S_CONT_PAGES * ARM_V7S_L2_BLOCK,
      );
      if (!ok) return false;
      j = unit + ARM_V7S_CONT_PAGES - 1;
    } else if (
      !runs.leaf(
        first + j,
        1,
        armV7sIopteToPaddr(pte, 2, mtk) / PAGE,
        leafProt(pte, 2, noPerms),
        ARM_V7S_L2_BLOCK,
      )
    )
      return false;
  }
  return true;
}
