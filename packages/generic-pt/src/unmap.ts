/**
 * drivers/iommu/generic_pt/iommu_pt.h `unmap_pages` (c17ee635): `__unmap_range` as a loop,
 * with a single-descent fast path and the level-0 run of single-item leaves.
 */
import { type Addr, ERRNO, type IotlbGather, offOf, pfnOf } from "@iommu/core";
import type { PtIommu } from "./domain.js";
import { cContig, cPfn, cType } from "./entry-codec.js";
import { gFrameOf, gOffOf } from "./granule.js";
import type { PtFormat } from "./pt-common.js";
import { PT_ENTRY_OA, PT_ENTRY_TABLE, sizeTimes } from "./pt-defs.js";
import { P2 } from "./pt-log2.js";
import type { PtTable } from "./pt-table.js";

// Local copies: hot paths avoid loading imported bindings.
const EINVAL = -ERRNO.EINVAL;
const PAGE = 4096;

/**
 * `IOMMU_PT_DOMAIN_OPS(fmt).unmap_pages`: the domain op (`NS(unmap_pages)`), made once per
 * format like the kernel's per-format instantiation (each format's op gets its own V8 feedback).
 * A format with a granule below 4 KiB (amdv1_mock) gets the converting {@link ptUnmapPages}.
 */
export function unmapOps(fmt: PtFormat): {
  unmapPages(d: PtIommu, iova: Addr, pgsize: number, pgcount: number, gather: IotlbGather | null): number;
} {
  if (fmt.granuleLg2 !== 12)
    return {
      unmapPages: (d, iova, pgsize, pgcount, gather) => ptUnmapPages(d.pt, iova, pgsize, pgcount, gather),
    };
  return {
    unmapPages(d, iova, pgsize, pgcount, gather) {
      // ptUnmapPages' number path, without its granule dispatch.
      if (typeof iova === "number") return unmapPagesNumber(d.pt, iova, pgsize, pgcount, gather);
      return ptUnmapPages(d.pt, iova, pgsize, pgcount, gather);
    },
  };
}

/**
 * `unmap_pages` of one aligned 4 KiB page when {@link unmapFast} would clear a plain level-0
 * leaf from the walk cache, with coherent tables: true with the entry cleared, the counters,
 * cursor and gather as {@link ptUnmapPagesPfn} leaves them; false, nothing written or counted,
 * when the full path must run. No loop: the op inlines it, and the full path is compiled only if it
 * runs, which shortens a process's first pass (it waits for that code).
 */
function unmapCachedLeaf(pt: PtTable, vaPfn: number, iova: number, gather: IotlbGather | null): boolean {
  if (pt.fIncoherent) return false;
  // The cursor makeRange sets for [vaPfn·4K, +4K).
  const w = pt.cachedItem0(vaPfn, 0, PAGE - 1);
  if (w < 0) return false;
  const words = pt.wcWords[0]!;
  const lo = words[w]!;
  const hi = words[w + 1]!;
  if (cType(pt.codec, lo, hi, 0) !== PT_ENTRY_OA || cContig(pt.codec, lo, hi)) return false;
  words[w] = 0;
  words[w + 1] = 0;
  const c = pt.counters;
  c.pteReads += pt.topLevel + 1;
  c.pteWrites++;
  pt.uUnmapped = PAGE;
  pt.gatherRangePages(gather ?? pt.scratchGather.init(), iova, PAGE, pt.uFree);
  return true;
}

/**
 * `unmap_pages` (c17ee635): unmap [iova, iova + pgsize·pgcount); stops at the first hole,
 * removes whole entries (possibly more than asked), and reports the IOVA to the gather.
 */
export function ptUnmapPages(
  pt: PtTable,
  iova: Addr,
  pgsize: number,
  pgcount: number,
  gather: IotlbGather | null,
): number {
  if (pt.gLg2 !== 12) {
    const g = pt.gLg2;
    return ptUnmapPagesPfn(
      pt,
      gFrameOf(g, iova),
      gOffOf(g, iova),
      Number(iova),
      sizeTimes(pgsize, pgcount),
      gather,
    );
  }
  if (typeof iova === "number") return unmapPagesNumber(pt, iova, pgsize, pgcount, gather);
  return ptUnmapPagesPfn(pt, pfnOf(iova), offOf(iova), Number(iova), sizeTimes(pgsize, pgcount), gather);
}

/** `unmap_pages` of a number IOVA, 4 KiB granule: a single cached leaf in line, else the full path. */
function unmapPagesNumber(
  pt: PtTable,
  iova: number,
  pgsize: number,
  pgcount: number,
  gather: IotlbGather | null,
): number {
  const vp = Math.floor(iova / PAGE);
  if (pgsize === PAGE && pgcount === 1 && iova === vp * PAGE && unmapCachedLeaf(pt, vp, iova, gather))
    return PAGE;
  return ptUnmapPagesPfn(pt, vp, iova - vp * PAGE, iova, sizeTimes(pgsize, pgcount), gather);
}

/** `unmap_pages` on a frame-split iova (`iovaNum` = the iova as the gather records it). */
export function ptUnmapPagesPfn(
  pt: PtTable,
  vaPfn: number,
  vaOff: number,
  iovaNum: number,
  len: number,
  gather: IotlbGather | null,
): number {
  if (pt.makeRange(vaPfn, vaOff, len) !== 0 || pt.checkTopRange() !== 0) return 0;
  pt.uUnmapped = 0;
  if (!unmapFast(pt)) unmapWalk(pt);
  pt.gatherRangePages(gather ?? pt.scratchGather.init(), iovaNum, len, pt.uFree);
  return pt.uUnmapped;
}

/**
 * `__unmap_range` when the range lies inside one item at every level the walk passes and
 * covers no table item whole: a single descent with the general loop's outcome. Returns
 * false (nothing changed) when the general loop is needed.
 */
export function unmapFast(pt: PtTable): boolean {
  const c = pt.counters;
  const top = pt.topLevel;
  let level = pt.cachedLevel(pt.curPfn, top);
  let words = pt.topWords;
  if (level !== top) {
    // The skipped levels pass the checks below when the range stays inside the cached
    // table's span and does not cover it whole (then no level above can be covered either).
    if (
      Math.floor(pt.lastPfn * pt.invScale[level + 1]!) !== pt.wcKey[level] ||
      pt.fullyCovered(pt.gLg2 + 9 + 9 * level)
    )
      level = top;
    else words = pt.wcHit;
  }
  // Reads are added only when this path completes: on a bail-out the general walk reads
  // the same entries again, and the kernel reads them once.
  let reads = top - level;
  for (;;) {
    const inv = pt.invScale[level]!;
    if (Math.floor(pt.lastPfn * inv) !== Math.floor(pt.curPfn * inv)) return false;
    const i = pt.idxAt(level);
    const lo = words[2 * i]!;
    const hi = words[2 * i + 1]!;
    reads++;
    const t = cType(pt.codec, lo, hi, level);
    if (t === PT_ENTRY_TABLE) {
      if (pt.fullyCovered(pt.gLg2 + 9 * level)) return false;
      words = pt.wordsOfPfn(cPfn(pt.codec, lo, hi));
      level--;
      continue;
    }
    c.pteReads += reads;
    if (level !== top) pt.rememberWalk(pt.curPfn, level, words);
    const nlg2 = t === PT_ENTRY_OA ? pt.contigLg2(lo, hi, level) : 0;
    const ok = t === PT_ENTRY_OA && pt.vaAligned(pt.gLg2 + 9 * level + nlg2);
    const n = 1 << nlg2;
    if (ok) {
      for (let k = 2 * i, e = 2 * (i + n); k < e; k++) words[k] = 0;
      c.pteWrites += n;
      pt.uUnmapped = n * P2[pt.gLg2 + 9 * level]!;
    }
    // flush_writes_range runs only at a level that cleared something: here the leaf level's
    // n items. The levels above cleared no table item (none is covered whole on this path).
    if (pt.fIncoherent && ok) pt.flushRangeItems(i, i + n);
    return true;
  }
}

/** `__unmap_range` over all levels as a loop. */
export function unmapWalk(pt: PtTable): void {
  const codec = pt.codec;
  // Counted locally and added once: a field update per entry costs more than the entry.
  let reads = 0;
  let writes = 0;
  const top = pt.topLevel;
  const incoherent = pt.fIncoherent;
  let level = top;
  let words = pt.topWords;
  let i = 0;
  let end = 0;
  let start = 0;
  let num = 0;
  // The cleared items of this level, [fs, fe) (fs = -1: none yet), for flush_writes_range.
  let fs = -1;
  let fe = -1;
  let lo = 0;
  let hi = 0;
  let t = 0;
  let ret = 0;
  let enter = true;
  for (;;) {
    let finish = false;
    let early = false;
    if (enter) {
      enter = false;
      i = pt.idxAt(level);
      end = pt.endIdx(level, i);
      start = i;
      num = 0;
      fs = -1;
      fe = -1;
      lo = words[2 * i]!;
      hi = words[2 * i + 1]!;
      reads++;
      t = cType(codec, lo, hi, level);
      // Starting inside a large/contiguous entry unmaps nothing.
      if (t === PT_ENTRY_OA && !pt.vaAligned(pt.gLg2 + 9 * level + pt.contigLg2(lo, hi, level))) {
        ret = EINVAL;
        early = true;
      }
    }
    if (!early) {
      for (;;) {
        if (t === PT_ENTRY_OA) {
          const n = cContig(codec, lo, hi) ? 1 << pt.contigLg2(lo, hi, level) : 1;
          if (n === 1) {
            words[2 * i] = 0;
            words[2 * i + 1] = 0;
          } else for (let k = 2 * i, e = 2 * (i + n); k < e; k++) words[k] = 0;
          writes += n;
          num += n;
          if (fs < 0) fs = i;
          i += n;
          fe = i;
          if (level === 0 && n === 1) {
            // Level 0 holds only leaves: clear the run of single-item ones that follows
            // without the general dispatch. The entry that ends the run (hole, contiguous
            // entry) is left for the loop below, which reads and counts it.
            const pm = codec.presentLo;
            const cm = codec.contigLoMask;
            const ch = codec.contigHi;
            const first = i;
            for (; i < end; i++) {
              const w = 2 * i;
              const l2 = words[w]!;
              const h2 = words[w + 1]!;
              if (pm === 0 ? (l2 | h2) === 0 : (l2 & pm) === 0) break;
              if ((cm !== 0 && (l2 & cm) === cm) || (h2 & ch) !== 0) break;
              words[w] = 0;
              words[w + 1] = 0;
            }
            reads += i - first;
            writes += i - first;
            num += i - first;
            fe = i;
          }
        } else if (t === PT_ENTRY_TABLE) {
          if (i !== start) pt.indexToVa(level, i);
          const childPfn = cPfn(pt.codec, lo, hi);
          pt.lvFully[level] = pt.fullyCovered(pt.gLg2 + 9 * level) ? 1 : 0;
          pt.lvChild[level] = childPfn * pt.gSize;
          pt.lvWords[level] = words;
          pt.lvIdx[level] = i;
          pt.lvEnd[level] = end;
          pt.lvStart[level] = start;
          pt.lvNum[level] = num;
          pt.lvFs[level] = fs;
          pt.lvFe[level] = fe;
          level--;
          words = pt.wordsOfPfn(childPfn);
          enter = true;
          break;
        } else {
          ret = EINVAL;
          finish = true;
          break;
        }
        if (i >= end) {
          finish = true;
          break;
        }
        lo = words[2 * i]!;
        hi = words[2 * i + 1]!;
        reads++;
        t = cType(codec, lo, hi, level);
      }
      if (enter) continue;
    }
    // This level is done (finish) or bailed out at its first entry (early).
    for (;;) {
      if (finish) {
        pt.uUnmapped += num * P2[pt.gLg2 + 9 * level]!;
        if (incoherent && fs >= 0) pt.flushRangeItems(fs, fe);
      }
      if (level === top) {
        pt.counters.pteReads += reads;
        pt.counters.pteWrites += writes;
        return;
      }
      level++;
      words = pt.lvWords[level]!;
      i = pt.lvIdx[level]!;
      end = pt.lvEnd[level]!;
      start = pt.lvStart[level]!;
      num = pt.lvNum[level]!;
      fs = pt.lvFs[level]!;
      fe = pt.lvFe[level]!;
      finish = true;
      if (ret) continue;
      if (pt.lvFully[level]) {
        pt.forgetWalks();
        pt.uFree.push(pt.lvChild[level]!);
        words[2 * i] = 0;
        words[2 * i + 1] = 0;
        writes++;
        if (fs < 0) fs = i;
        fe = i + 1;
      }
      i++;
      if (i >= end) continue;
      lo = words[2 * i]!;
      hi = words[2 * i + 1]!;
      reads++;
      t = cType(codec, lo, hi, level);
      break;
    }
    // Resume the parent's entry loop at item i (enter is false: no re-initialisation).
  }
}
