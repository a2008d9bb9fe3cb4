// drivers/iommu/generic_pt/iommu_pt.h (issue 17, model extension) for a granule below 4 KiB
// (amdv1_mock, `PT_GRANULE_LG2SZ` 11): the range walk of runs.ts in granule frames, with the
// pieces folded into the 4 KiB frames core's PhysRunCollector counts in.
//
// A piece that covers whole 4 KiB frames goes through unchanged (converted). The granules of
// a frame that several pieces share are gathered first: when they form one PA-contiguous
// mapping of one prot (or are all empty) the frame is reported as such, with the smallest
// unit (2 KiB) as its leafSize. When they do not — a 2 KiB leaf beside a hole, or two 2 KiB
// leaves that are not PA-contiguous — the collector's 4 KiB frames cannot say it; the frame
// is then reported as the granule at its first byte in the range translates it (the answer
// of one iova_to_phys_length per page at that byte, the convention of core's fallback for
// sub-page units). No allocation and no BigInt per item.
import type { PhysRunCollector } from "@iommu/core";
import { cPfn, cType } from "./entry-codec.js";
import { PT_ENTRY_EMPTY, PT_ENTRY_TABLE, PtAttrs } from "./pt-defs.js";
import { P2 } from "./pt-log2.js";
import type { PtTable } from "./pt-table.js";

/** Reused for every leaf's attributes (attrFromEntry writes it). */
const attrs = new PtAttrs();

/** Model-only: the 4 KiB frame being assembled from granule pieces (one per lookup, reused). */
class FrameFold {
  runs: PhysRunCollector | null = null;
  /** Granules per 4 KiB frame. */
  per = 2;
  /** The granule of the frame the range starts in that is its first byte in range. */
  startFrame = 0;
  startIdx = 0;
  frame = -1;
  got = 0;
  uniform = true;
  mapped = false;
  /** Phys granule of the frame's first granule, if the run so far is PA-contiguous. */
  physStart = 0;
  prot = 0;
  size = 0;
  /** The granule at the frame's first byte in range: mapped?, its phys granule, prot, unit. */
  dMapped = false;
  dPhys = 0;
  dProt = 0;
  dSize = 0;

  constructor() {
    this.physStart = this.dPhys = this.size = this.dSize = 0.5;
    this.physStart = this.dPhys = this.size = this.dSize = 0;
  }

  begin(runs: PhysRunCollector, per: number, gSize: number): void {
    this.runs = runs;
    this.per = per;
    this.startFrame = runs.startPfn;
    this.startIdx = Math.floor(runs.startOffset / gSize);
    this.frame = -1;
    this.got = 0;
  }

  /** Granules [f, f + n) mapped to phys granules from `phys` (or a hole): false when done. */
  piece(mapped: boolean, f: number, n: number, phys: number, prot: number, size: number): boolean {
    const runs = this.runs!;
    const per = this.per;
    while (n > 0) {
      const frame = Math.floor(f / per);
      const idx = f - frame * per;
      // Whole frames go through at once, but for the range's first frame (its phys is taken
      // at the first byte in range, see add()).
      if (idx === 0 && n >= per && frame !== this.startFrame) {
        const frames = Math.floor(n / per);
        const ok = mapped
          ? runs.leaf(frame, frames, Math.floor(phys / per), prot, size)
          : runs.hole(frame, frames, size);
        if (!ok) return false;
        f += frames * per;
        n -= frames * per;
        if (mapped) phys += frames * per;
        continue;
      }
      const take = Math.min(n, per - idx);
      if (!this.add(frame, idx, take, mapped, phys, prot, size)) return false;
      f += take;
      n -= take;
      if (mapped) phys += take;
    }
    return true;
  }

  /** Granules [idx, idx + take) of `frame`; reports the frame once all its granules are in. */
  private add(
    frame: number,
    idx: number,
    take: number,
    mapped: boolean,
    phys: number,
    prot: number,
    size: number,
  ): boolean {
    if (this.got === 0) {
      this.frame = frame;
      this.uniform = true;
      this.mapped = mapped;
      this.physStart = mapped ? phys - idx : 0;
      this.prot = mapped ? prot : 0;
      this.size = size;
    } else {
      if (mapped !== this.mapped || (mapped && (phys - idx !== this.physStart || prot !== this.prot)))
        this.uniform = false;
      if (size < this.size) this.size = size;
    }
    const d = frame === this.startFrame ? this.startIdx : 0;
    if (d >= idx && d < idx + take) {
      this.dMapped = mapped;
      this.dPhys = mapped ? phys + (d - idx) : 0;
      this.dProt = mapped ? prot : 0;
      this.dSize = size;
    }
    this.got += take;
    if (this.got < this.per) return true;
    this.got = 0;
    const runs = this.runs!;
    const per = this.per;
    // The frame's phys is read at its first byte in range (as one lookup per page there
    // reads it): exact whenever the phys keeps the IOVA's offset in its 4 KiB page.
    if (this.uniform)
      return this.mapped
        ? runs.leaf(frame, 1, Math.floor(this.dPhys / per), this.prot, this.size)
        : runs.hole(frame, 1, this.size);
    return this.dMapped
      ? runs.leaf(frame, 1, Math.floor(this.dPhys / per), this.dProt, this.dSize)
      : runs.hole(frame, 1, this.dSize);
  }
}

const fold = new FrameFold();

/**
 * Model-only `iova_to_phys_runs` over a table whose granule is below 4 KiB: the walk of
 * runs.ts in granule frames, folded into 4 KiB frames (see the file comment for the frames
 * the collector cannot represent).
 */
export function ptIovaToPhysRunsSubPage(pt: PtTable, runs: PhysRunCollector): void {
  const per = P2[12 - pt.gLg2]!;
  fold.begin(runs, per, pt.gSize);
  const limit = pt.gPfnLimit;
  const from = runs.startPfn * per;
  const to = runs.endPfn * per;
  const low = Math.min(pt.lkLow, limit);
  const high = Math.min(pt.lkHigh, limit);
  if (!segment(pt, 0, low, from, to)) return;
  if (high > low && !fold.piece(false, low, high - low, 0, 0, (high - low) * pt.gSize)) return;
  if (high < limit) segment(pt, high, limit, from, to);
}

/** The translatable granules [lo, hi) clipped to [from, to). */
function segment(pt: PtTable, lo: number, hi: number, from0: number, to0: number): boolean {
  const from = Math.max(from0, lo);
  const to = Math.min(to0, hi);
  if (from >= to) return to < to0;
  const top = pt.topLevel;
  const span = pt.topItems * pt.scale[top]!;
  const first = span >= pt.gPfnLimit ? 0 : Math.floor(from / span) * span;
  return walk(pt, pt.topWords, top, first, from, to) && to < to0;
}

/** One table at `level` whose item 0 maps granule `first`: false when the collector is done. */
function walk(
  pt: PtTable,
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
      if (!walk(pt, next, level - 1, pfn, Math.max(from, pfn), to)) return false;
      continue;
    }
    if (t === PT_ENTRY_EMPTY) {
      if (!fold.piece(false, pfn, sc, 0, 0, P2[itemLg2]!)) return false;
      continue;
    }
    fmt.attrFromEntry(lo, hi, level, feat, attrs);
    const prot = fmt.protFromAttrs(attrs, feat);
    const n = pt.contigLg2(lo, hi, level);
    if (n === 0) {
      if (!fold.piece(true, pfn, sc, cPfn(codec, lo, hi), prot, P2[itemLg2]!)) return false;
      continue;
    }
    // A contiguous entry: the unit from this copy, then past its other copies.
    const lg2 = Math.min(itemLg2 + n, 64);
    const unitPfns = P2[lg2 - pt.gLg2]!;
    const unit = Math.floor(pfn / unitPfns) * unitPfns;
    // Pieces before the range start are not reported: the fold needs them in order from `from`.
    const s = Math.max(unit, Math.floor(from / fold.per) * fold.per);
    const oa = pt.oaPfnOf(lo, hi, level) + (s - unit);
    if (!fold.piece(true, s, unit + unitPfns - s, oa, prot, P2[lg2]!)) return false;
    i = Math.floor(i / P2[n]!) * P2[n]! + P2[n]! - 1;
  }
  return true;
}
