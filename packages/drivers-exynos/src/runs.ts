// drivers/iommu/exynos-iommu.c (issue 17, model extension): one descent over the level-1 and
// level-2 tables of [iova, iova + size), reporting each leaf and empty entry to a
// PhysRunCollector — packages/core/docs/iova-to-phys-runs.md.
//
// The answers are those of exynosIommuIovaToPhysLength page by page: IOVA bits above 31 are
// ignored (quirk iova-truncated: each 4 GiB window aliases the table), a strict domain answers
// one hole above 4 GiB, a faulting level-1 slot (0, type 3, ZERO_LV2LINK) is a 1 MiB hole, an
// empty level-2 slot (or one in absent memory) a 4 KiB hole. Each entry is read once, except a
// 64 KiB page: the first of its 16 replicas the range touches gives the whole page, as the
// SysMMU's walker reads one. No allocation and no BigInt per entry.
import { type PhysRunCollector, runsOver32BitWindows } from "@iommu/core";
import { LPAGE_SIZE, lv2tableBase, NUM_LV1ENTRIES, NUM_LV2ENTRIES, SECT_SIZE, SPAGE_SIZE } from "./defs.js";
import type { ExynosDomain } from "./exynos-iommu.js";
import { exynosLeafProt } from "./inspect.js";

/** Frames one level-1 entry spans (1 MiB). */
const L1_PFNS = NUM_LV2ENTRIES;
const TWO52 = 2 ** 52;

/**
 * Model-only `iova_to_phys_runs` for SysMMU tables (the driver has no such op): the runs of the
 * collector's range in one walk, agreeing with one {@link exynosIommuIovaToPhysLength} per
 * page. Non-strict domains alias every 4 GiB window onto the table (the walk repeats per window
 * the range touches); strict domains report IOVAs at or above 4 GiB as one hole.
 */
export function exynosIommuIovaToPhysRuns(d: ExynosDomain, runs: PhysRunCollector): void {
  if (d.pgtable < 0) {
    runs.hole(0, TWO52, SPAGE_SIZE);
    return;
  }
  runsOver32BitWindows(d, runs, d.strict, 0, windowRuns);
}

/** Level-1 entries of the 4 GiB window at frame `win` from frame `fromPfn` to frame `end`: -1 when done (Window32Walk). */
function windowRuns(
  d: ExynosDomain,
  runs: PhysRunCollector,
  win: number,
  fromPfn: number,
  end: number,
): number {
  const counters = d.counters;
  const shift = d.hw.pgEntShift;
  const zero = d.hw.zeroLv2Link;
  const l1 = d.l1;
  const l1Off = d.l1Off;
  for (let i = ((fromPfn - win) / L1_PFNS) | 0; i < NUM_LV1ENTRIES; i++) {
    const first = win + i * L1_PFNS;
    if (first >= end) return 0;
    const sent = l1[l1Off + i]!;
    counters.pteReads++;
    const t = sent & 3;
    let more: boolean;
    if (t === 2) {
      // sect_to_phys(sent) & ~(SECT_SIZE - 1), as a frame number
      more = runs.leaf(
        first,
        L1_PFNS,
        (sent >>> (20 - shift)) * 256,
        exynosLeafProt(sent, 1, shift),
        SECT_SIZE,
      );
    } else if (t === 1 && sent !== zero) {
      more = lv2Runs(d, runs, lv2tableBase(sent, shift), first, end);
    } else {
      more = runs.hole(first, L1_PFNS, SECT_SIZE);
    }
    if (!more) return -1;
  }
  return 0;
}

/** The level-2 table at `tablePa` for the 1 MiB at frame `first`: false when the collector is done. */
function lv2Runs(
  d: ExynosDomain,
  runs: PhysRunCollector,
  tablePa: number,
  first: number,
  end: number,
): boolean {
  const c = d.allocator.mem.chunk(tablePa);
  // A link into absent memory reads as 256 empty slots, as readLv2 does.
  if (c === undefined) return runs.hole(first, L1_PFNS, SPAGE_SIZE);
  const words = c.words;
  const base = (tablePa - c.pa) >>> 2;
  const counters = d.counters;
  const shift = d.hw.pgEntShift;
  for (let j = Math.max(0, runs.startPfn - first); j < NUM_LV2ENTRIES && first + j < end; j++) {
    // A table running past its memory reads 0 there, as the single-address walk does.
    const ent = words[base + j] ?? 0;
    counters.pteReads++;
    const t = ent & 3;
    let more: boolean;
    if (t === 0) {
      more = runs.hole(first + j, 1, SPAGE_SIZE);
    } else if (t === 1) {
      // A 64 KiB page: the replica read stands for the rest of its aligned group of 16.
      const rest = 16 - (j % 16);
      const physPfn = (ent >>> (16 - shift)) * 16 + (j % 16);
      more = runs.leaf(first + j, rest, physPfn, exynosLeafProt(ent, 2, shift), LPAGE_SIZE);
      j += rest - 1;
    } else {
      more = runs.leaf(first + j, 1, ent >>> (12 - shift), exynosLeafProt(ent, 2, shift), SPAGE_SIZE);
    }
    if (!more) return false;
  }
  return true;
}
