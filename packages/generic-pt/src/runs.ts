// drivers/iommu/generic_pt/iommu_pt.h (issue 17, model extension): a range walk in the style
// of `pt_walk_range` that reports every leaf and empty item of [iova, iova + size) to a
// PhysRunCollector, so the core hands out physically contiguous runs from one descent.
//
// Each item of the range is read once (pteReads), a contiguous entry once for all its copies
// (as `pt_next_entry` skips them); next-level tables are entered from their parent item, never
// from the top again. No allocation and no BigInt per item.
import type { PhysRunCollector } from "@iommu/core";
import type { PtIommu } from "./domain.js";
import { cPfn, cType } from "./entry-codec.js";
import { PT_ENTRY_EMPTY, PT_ENTRY_TABLE, PtAttrs } from "./pt-defs.js";
import { P2 } from "./pt-log2.js";
import type { PtTable } from "./pt-table.js";
import { ptIovaToPhysRunsSubPage } from "./runs-subpage.js";

const PAGE = 4096;
const PFN_LIMIT = P2[52]!;
/** Reused for every leaf's attributes (attrFromEntry writes it). */
const attrs = new PtAttrs();

/**
 * Model-only `iova_to_phys_runs` over a generic_pt table: the lower (and, with SIGN_EXTEND,
 * the upper) half of the top range are walked; IOVAs outside them (above max_vasz or an amdv1
 * table's current top, non-canonical) are holes, as iova_to_phys_length reports them. A
 * granule below 4 KiB (amdv1_mock) is walked by runs-subpage.ts; below, frames are 4 KiB.
 */
export function ptIovaToPhysRuns(pt: PtTable, runs: PhysRunCollector): void {
  if (pt.gLg2 !== 12) {
    ptIovaToPhysRunsSubPage(pt, runs);
    return;
  }
  const low = Math.min(pt.lkLow, PFN_LIMIT);
  const high = Math.min(pt.lkHigh, PFN_LIMIT);
  if (!segment(pt, runs, 0, low)) return;
  if (high > low && !runs.hole(low, high - low, (high - low) * PAGE)) return;
  if (high < PFN_LIMIT) segment(pt, runs, high, PFN_LIMIT);
}

/** The translatable frames [lo, hi) as the top table indexes them (masked, like idxAt). */
function segment(pt: PtTable, runs: PhysRunCollector, lo: number, hi: number): boolean {
  const from = Math.max(runs.startPfn, lo);
  const to = Math.min(runs.endPfn, hi);
  if (from >= to) return to < runs.endPfn;
  const top = pt.topLevel;
  const span = pt.topItems * pt.scale[top]!;
  const first = span >= PFN_LIMIT ? 0 : Math.floor(from / span) * span;
  return walk(pt, runs, pt.topWords, top, first, from, to) && to < runs.endPfn;
}

/** One table at `level` whose item 0 maps frame `first`: false when the collector is done. */
function walk(
  pt: PtTable,
  runs: PhysRunCollector,
  words: Uint32Array,
  level: number,
  first: number,
  from: number,
  to: number,
): boolean {
  const codec = pt.codec;
  const fmt = pt.fmt;
  const feat = pt.features;
  const counters = pt.counters;
  const items = pt.levelItems[level]!;
  const sc = pt.scale[level]!;
  const itemLg2 = 12 + 9 * level;
  for (let i = Math.floor((from - first) * pt.invScale[level]!); i < items; i++) {
    const pfn = first + i * sc;
    if (pfn >= to) return true;
    const lo = words[2 * i]!;
    const hi = words[2 * i + 1]!;
    counters.pteReads++;
    const t = cType(codec, lo, hi, level);
    if (t === PT_ENTRY_TABLE) {
      const next = pt.wordsOfPfn(cPfn(codec, lo, hi));
      if (!walk(pt, runs, next, level - 1, pfn, Math.max(from, pfn), to)) return false;
      continue;
    }
    if (t === PT_ENTRY_EMPTY) {
      if (!runs.hole(pfn, sc, P2[itemLg2]!)) return false;
      continue;
    }
    fmt.attrFromEntry(lo, hi, level, feat, attrs);
    const prot = fmt.protFromAttrs(attrs, feat);
    const n = pt.contigLg2(lo, hi, level);
    if (n === 0) {
      if (!runs.leaf(pfn, sc, cPfn(codec, lo, hi), prot, P2[itemLg2]!)) return false;
      continue;
    }
    // A contiguous entry: the unit from this copy, then past its other copies.
    const lg2 = Math.min(itemLg2 + n, 64);
    const unitPfns = P2[lg2 - 12]!;
    const unit = Math.floor(pfn / unitPfns) * unitPfns;
    if (!runs.leaf(unit, unitPfns, pt.oaPfnOf(lo, hi, level), prot, P2[lg2]!)) return false;
    i = Math.floor(i / P2[n]!) * P2[n]! + P2[n]! - 1;
  }
  return true;
}

/** The domain op: {@link ptIovaToPhysRuns} on the domain's table. */
export function iovaToPhysRunsOp(d: PtIommu, runs: PhysRunCollector): void {
  ptIovaToPhysRuns(d.pt, runs);
}
