// drivers/iommu/io-pgtable-arm.c (issue 17, model extension): the range walk of
// `__arm_lpae_iopte_walk` reporting every leaf and empty entry of [iova, iova + size) to a
// PhysRunCollector, so the core can hand out physically contiguous runs from one descent.
//
// Each entry of the range is read once (counted in pteReads): a table's neighbours are read
// from the same table page, never from the root again. No allocation, no BigInt per entry.
import type { PhysRunCollector } from "@iommu/core";
import { type Dialect, dialectOf, leafProt } from "./inspect.js";
import { ABSENT_TABLE, type ArmLpaeIoPgtable } from "./pgtable.js";

const MAX_LEVELS = 4;
const TWO52 = 2 ** 52;

/**
 * Model-only `iova_to_phys_runs` for ARM LPAE (all granules, S1/S2/Mali, TTBR1): IOVAs outside
 * the input range (beyond ias, or below the TTBR1 upper region) are reported as holes, like
 * iovaToPhysLength's answer there.
 */
export function armLpaeIovaToPhysRuns(d: ArmLpaeIoPgtable, runs: PhysRunCollector): void {
  // The translatable frames [lo, hi). Below 4 KiB of ias nothing is a whole frame.
  const frames = d.ias >= 12 ? d.iasFrames : 0;
  const lo = d.ttbr1 ? TWO52 - frames : 0;
  const hi = d.ttbr1 ? TWO52 : frames;
  if (lo > 0 && !runs.hole(0, lo, lo * 4096)) return;
  const from = Math.max(runs.startPfn, lo);
  const to = Math.min(runs.endPfn, hi);
  if (from < to && d.startLevel < MAX_LEVELS) {
    if (!walkTable(d, dialectOf(d.fmt), runs, d.pgdWords, d.pgdBase, d.startLevel, lo, from, to)) return;
  } else if (from < to) {
    if (!runs.hole(from, to - from, d.granule)) return;
  }
  if (hi < TWO52) runs.hole(hi, TWO52 - hi, (TWO52 - hi) * 4096);
}

/**
 * One table at `lvl` whose entry 0 maps frame `firstPfn`: visit its entries that overlap
 * frames [from, to), descending into next-level tables. False when the collector is done.
 */
function walkTable(
  d: ArmLpaeIoPgtable,
  dialect: Dialect,
  runs: PhysRunCollector,
  words: Uint32Array,
  base: number,
  lvl: number,
  firstPfn: number,
  from: number,
  to: number,
): boolean {
  const counters = d.counters;
  const n = d.entriesAt(lvl);
  const bp = d.blockPfns[lvl]!;
  const size = d.blockSize[lvl]!;
  const leafType = d.leafType[lvl]!;
  const last = lvl === MAX_LEVELS - 1;
  for (let i = Math.floor((from - firstPfn) * d.pfnScale[lvl]!); i < n; i++) {
    const pfn = firstPfn + i * bp;
    if (pfn >= to) return true;
    const w = base + 2 * i;
    const lo = words[w]!;
    const hi = words[w + 1]!;
    counters.pteReads++;
    if ((lo & 3) === leafType) {
      if (!runs.leaf(pfn, bp, d.ptePfn(lo, hi), leafProt(dialect, lo, hi), size)) return false;
    } else if (!last && (lo & 3) === 3) {
      const pa = d.ptePa(lo, hi);
      const c = d.mem.chunk(pa);
      // A table missing from memory reads as zeros, as the single-address walk sees it.
      const nw = c ? c.words : ABSENT_TABLE;
      const nb = c ? ((pa - c.pa) / 4) | 0 : 0;
      if (!walkTable(d, dialect, runs, nw, nb, lvl + 1, pfn, Math.max(from, pfn), to)) return false;
    } else if (!runs.hole(pfn, bp, size)) return false;
  }
  return true;
}
