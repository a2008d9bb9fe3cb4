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
import { subPageSink } from "./runs-subpage.js";

/** Reused for every leaf's attributes (attrFromEntry writes it). */
const attrs = new PtAttrs();

/**
 * Model-only: where the walk reports, in the table's granule frames — core's collector itself
 * for a 4 KiB granule, runs-subpage.ts's fold into 4 KiB frames below it.
 */
export interface RunSink {
  leaf(frame: number, frames: number, physFrame: number, prot: number, leafSize: number): boolean;
  hole(frame: number, frames: number, slotSize: number): boolean;
}

/**
 * Model-only `iova_to_phys_runs` over a generic_pt table: the lower (and, with SIGN_EXTEND,
 * the upper) half of the top range are walked; IOVAs outside them (above max_vasz or an amdv1
 * table's current top, non-canonical) are holes, as iova_to_phys_length reports them. A
 * granule below 4 KiB (amdv1_mock) reports to the fold of runs-subpage.ts.
 */
export function ptIovaToPhysRuns(pt: PtTable, runs: PhysRunCollector): void {
  const per = pt.gLg2 === 12 ? 1 : P2[12 - pt.gLg2]!;
  const sink: RunSink = per === 1 ? runs : subPageSink(runs, per, pt.gSize);
  const limit = pt.gPfnLimit;
  const from = runs.startPfn * per;
  const to = runs.endPfn * per;
  const low = Math.min(pt.lkLow, limit);
  const high = Math.min(pt.lkHigh, limit);
  if (!segment(pt, sink, per, 0, low, from, to)) return;
  if (high > low && !sink.hole(low, high - low, (high - low) * pt.gSize)) return;
  if (high < limit) segment(pt, sink, per, high, limit, from, to);
}

/** The translatable frames [lo, hi) as the top table indexes them (masked, like idxAt), clipped to [from0, to0). */
function segment(
  pt: PtTable,
  sink: RunSink,
  per: number,
  lo: number,
  hi: number,
  from0: number,
  to0: number,
): boolean {
  const from = Math.max(from0, lo);
  const to = Math.min(to0, hi);
  if (from >= to) return to < to0;
  const top = pt.topLevel;
  const span = pt.topItems * pt.scale[top]!;
  const first = span >= pt.gPfnLimit ? 0 : Math.floor(from / span) * span;
  // A contiguous entry is reported from the first whole 4 KiB frame in range (the fold
  // takes pieces in order; the collector clips either way).
  return walk(pt, sink, pt.topWords, top, first, from, to, Math.floor(from / per) * per) && to < to0;
}

/** One table at `level` whose item 0 maps frame `first`: false when the sink is done. */
function walk(
  pt: PtTable,
  sink: RunSink,
  words: Uint32Array,
  level: number,
  first: number,
  from: number,
  to: number,
  frameFrom: number,
): boolean {
  const codec = pt.codec;
  const fmt = pt.fmt;
  const feat = pt.features;
  const counters = pt.counters;
  const items = pt.levelItems[level]!;
  const sc = pt.scale[level]!;
  const itemLg2 = pt.gLg2 + 9 * level;
  for (let i = Math.floor((from - first) * pt.invScale[level]!); i < items; i++) {
    const pfn = first + i * sc;
    if (pfn >= to) return true;
    const lo = words[2 * i]!;
    const hi = words[2 * i + 1]!;
    counters.pteReads++;
    const t = cType(codec, lo, hi, level);
    if (t === PT_ENTRY_TABLE) {
      const next = pt.wordsOfPfn(cPfn(codec, lo, hi));
      if (!walk(pt, sink, next, level - 1, pfn, Math.max(from, pfn), to, frameFrom)) return false;
      continue;
    }
    if (t === PT_ENTRY_EMPTY) {
      if (!sink.hole(pfn, sc, P2[itemLg2]!)) return false;
      continue;
    }
    fmt.attrFromEntry(lo, hi, level, feat, attrs);
    const prot = fmt.protFromAttrs(attrs, feat);
    const n = pt.contigLg2(lo, hi, level);
    if (n === 0) {
      if (!sink.leaf(pfn, sc, cPfn(codec, lo, hi), prot, P2[itemLg2]!)) return false;
      continue;
    }
    // A contiguous entry: the unit from this copy, then past its other copies.
    const lg2 = Math.min(itemLg2 + n, 64);
    const unitPfns = P2[lg2 - pt.gLg2]!;
    const unit = Math.floor(pfn / unitPfns) * unitPfns;
    const s = Math.max(unit, frameFrom);
    if (!sink.leaf(s, unit + unitPfns - s, pt.oaPfnOf(lo, hi, level) + (s - unit), prot, P2[lg2]!))
      return false;
    i = Math.floor(i / P2[n]!) * P2[n]! + P2[n]! - 1;
  }
  return true;
}

/** The domain op: {@link ptIovaToPhysRuns} on the domain's table. */
export function iovaToPhysRunsOp(d: PtIommu, runs: PhysRunCollector): void {
  ptIovaToPhysRuns(d.pt, runs);
}
