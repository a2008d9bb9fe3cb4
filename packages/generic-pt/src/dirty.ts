/**
 * drivers/iommu/generic_pt/iommu_pt.h `read_and_clear_dirty` (`IOMMU_PT_DIRTY_OPS`) and the
 * `set_dirty` test helper of `pt_iommu_ops`.
 */
import {
  type Addr,
  IOMMU_DIRTY_NO_CLEAR,
  type IommuDirtyBitmap,
  iotlbGatherAddRange,
  offOf,
  pfnOf,
} from "@iommu/core";
import type { PtIommu } from "./domain.js";
import { cPfn, cType } from "./entry-codec.js";
import { gFrameOf, gOffOf } from "./granule.js";
import { lookup } from "./lookup.js";
import { EOPNOTSUPP, PT_ENTRY_OA, PT_ENTRY_TABLE } from "./pt-defs.js";
import { P2 } from "./pt-log2.js";
import type { PtTable } from "./pt-table.js";

/** `read_and_clear_dirty`: report write-dirty leaves in [iova, iova+size), clearing D unless NO_CLEAR. */
export function ptReadAndClearDirty(
  pt: PtTable,
  iova: number,
  size: number,
  flags: number,
  dirty: IommuDirtyBitmap,
): number {
  const fmt = pt.fmt;
  if (!fmt.isWriteDirty || !fmt.makeWriteClean) return EOPNOTSUPP;
  const g = pt.gLg2;
  let ret =
    g === 12
      ? pt.makeRange(pfnOf(iova), offOf(iova), size)
      : pt.makeRange(gFrameOf(g, iova), gOffOf(g, iova), size);
  if (!ret) ret = pt.checkTopRange();
  if (ret) return ret;
  const feat = pt.features;
  const top = pt.topLevel;
  let level = top;
  let words = pt.topWords;
  let i = pt.idxAt(level);
  let end = pt.endIdx(level, i);
  for (;;) {
    if (i >= end) {
      if (level === top) return 0;
      level++;
      words = pt.lvWords[level]!;
      i = pt.lvIdx[level]! + 1;
      end = pt.lvEnd[level]!;
      pt.indexToVa(level, i);
      continue;
    }
    const lo = words[2 * i]!;
    const hi = words[2 * i + 1]!;
    pt.counters.pteReads++;
    const t = cType(pt.codec, lo, hi, level);
    if (t === PT_ENTRY_TABLE) {
      pt.lvWords[level] = words;
      pt.lvIdx[level] = i;
      pt.lvEnd[level] = end;
      level--;
      words = pt.wordsOfPfn(cPfn(pt.codec, lo, hi));
      i = pt.idxAt(level);
      end = pt.endIdx(level, i);
      continue;
    }
    let n = 0;
    if (t === PT_ENTRY_OA) {
      n = pt.contigLg2(lo, hi, level);
      if (fmt.isWriteDirty(words, i, level, feat)) {
        const isz = P2[pt.gLg2 + 9 * level]!;
        // The kernel takes index|(2^n-1) as the end: one item short for a contiguous entry.
        const len = n === 0 ? isz : (Math.min(i | ((1 << n) - 1), end) - i) * isz;
        const va = pt.curPfn * pt.gSize + pt.curOff;
        dirty.record(va, len);
        if (!(flags & IOMMU_DIRTY_NO_CLEAR)) {
          fmt.makeWriteClean(words, i, level, feat);
          pt.counters.pteWrites++;
          if (dirty.gather) iotlbGatherAddRange(dirty.gather, va, len);
        }
      }
    }
    // pt_next_entry
    i = n ? i + (1 << n) - ((i + (1 << n)) % (1 << n)) : i + 1;
    pt.indexToVa(level, i);
  }
}

/** `set_dirty` (iommufd selftest helper): mark the leaf at iova write-dirty. */
export function ptSetDirty(pt: PtTable, iova: Addr): number {
  const fmt = pt.fmt;
  if (!fmt.makeWriteDirty) return EOPNOTSUPP;
  const g = pt.gLg2;
  const r = g === 12 ? lookup(pt, pfnOf(iova), offOf(iova)) : lookup(pt, gFrameOf(g, iova), gOffOf(g, iova));
  if (r) return r;
  // lookup left the cursor on iova: walk again to find the item.
  let level = pt.topLevel;
  let words = pt.topWords;
  for (;;) {
    const i = pt.idxAt(level);
    const lo = words[2 * i]!;
    const hi = words[2 * i + 1]!;
    const t = cType(pt.codec, lo, hi, level);
    if (t === PT_ENTRY_TABLE) {
      words = pt.tableWords(cPfn(pt.codec, lo, hi) * pt.gSize);
      level--;
      continue;
    }
    fmt.makeWriteDirty(words, i);
    return 0;
  }
}

/** `IOMMU_PT_DIRTY_OPS(fmt).read_and_clear_dirty`: the domain op (`NS(read_and_clear_dirty)`). */
export function readAndClearDirtyOp(
  d: PtIommu,
  iova: number,
  size: number,
  flags: number,
  dirty: IommuDirtyBitmap,
): number {
  return ptReadAndClearDirty(d.pt, iova, size, flags, dirty);
}
