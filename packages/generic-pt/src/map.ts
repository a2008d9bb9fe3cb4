/**
 * drivers/iommu/generic_pt/iommu_pt.h `map_pages` (c17ee635): `__map_single_page`, the
 * one-item fast path, `__map_range` with `__map_range_leaf` and `clear_contig`, and the amdv1
 * dynamic top growth (`check_map_range`, `increase_top`).
 */
import { type Addr, ERRNO, IOMMU_READ, IOMMU_WRITE, offOf, pfnOf, type SizeOut } from "@iommu/core";
import { collectTables } from "./deinit.js";
import type { PtIommu } from "./domain.js";
import { cFieldHi, cFieldLo, cPfn, cType } from "./entry-codec.js";
import { gFrameOf, gOffOf } from "./granule.js";
import type { PtFormat } from "./pt-common.js";
import { PT_ENTRY_EMPTY, PT_ENTRY_TABLE, sizeTimes } from "./pt-defs.js";
import { P2 } from "./pt-log2.js";
import type { PtTable } from "./pt-table.js";

// Local copies: hot paths avoid loading imported bindings.
const EINVAL = -ERRNO.EINVAL;
const ERANGE = -ERRNO.ERANGE;
const ENOMEM = -ERRNO.ENOMEM;
const ENXIO = -ERRNO.ENXIO;
const EAGAIN = -ERRNO.EAGAIN;
const EADDRINUSE = -ERRNO.EADDRINUSE;
const PAGE = 4096;
/** `PT_TABLEMEM_LG2SZ`: every table here is 4 KiB, whatever the granule. */
const TABLE_BYTES = 4096;

/**
 * `IOMMU_PT_DOMAIN_OPS(fmt).map_pages`: the domain op (`NS(map_pages)`), made once per format
 * like the kernel's per-format instantiation (each format's op gets its own V8 feedback). It
 * uses the domain's `pgsize_bitmap` (the core may narrow it) for the page-size choice. A
 * format with a granule below 4 KiB (amdv1_mock) gets the converting {@link ptMapPages}.
 */
export function mapOps(fmt: PtFormat): {
  mapPages(
    d: PtIommu,
    iova: Addr,
    paddr: Addr,
    pgsize: number,
    pgcount: number,
    prot: number,
    gfp: number,
    mapped: SizeOut,
  ): number;
} {
  if (fmt.granuleLg2 !== 12)
    return {
      mapPages(d, iova, paddr, pgsize, pgcount, prot, _gfp, mapped) {
        d.pt.setDomainBitmap(d.pgsizeBitmap);
        return ptMapPages(d.pt, iova, paddr, pgsize, pgcount, prot, mapped);
      },
    };
  return {
    mapPages(d, iova, paddr, pgsize, pgcount, prot, _gfp, mapped) {
      const pt = d.pt;
      pt.setDomainBitmap(d.pgsizeBitmap);
      // ptMapPages' number path, without its granule dispatch.
      if (typeof iova === "number" && typeof paddr === "number") {
        return mapPagesNumber(pt, iova, paddr, pgsize, pgcount, prot, mapped);
      }
      return ptMapPages(pt, iova, paddr, pgsize, pgcount, prot, mapped);
    },
  };
}

/**
 * `map_pages` of one aligned 4 KiB page when `__map_single_page` would succeed from the walk
 * cache: the level-0 table of `vaPfn` is cached, its item is empty, `prot` is the encoded one,
 * the tables are coherent and the OA fits. True with the entry, counters and cursor state
 * {@link ptMapPagesPfn} leaves; false, nothing written or counted, when the full path must run
 * (it then reports any error). No loop: the op inlines it, and the full path is compiled only if it
 * runs, which shortens a process's first pass (it waits for that code).
 */
function mapCachedLeaf(pt: PtTable, vaPfn: number, paPfn: number, prot: number): boolean {
  if (pt.fIncoherent || prot !== pt.attrsProt) return false;
  if (pt.maxOasz < 64 && paPfn >= P2[pt.maxOasz - 12]!) return false;
  // The cursor makeRange sets for [vaPfn·4K, +4K).
  const w = pt.cachedItem0(vaPfn, 0, PAGE - 1);
  if (w < 0) return false;
  const words = pt.wcWords[0]!;
  if (cType(pt.codec, words[w]!, words[w + 1]!, 0) !== PT_ENTRY_EMPTY) return false;
  pt.mLeafLg2 = 12;
  pt.mLeafLevel = 0;
  pt.putLeaf(words, w, 0, paPfn, 12);
  const c = pt.counters;
  c.pteReads += pt.topLevel + 1;
  c.pteWrites++;
  pt.mOaPfn = paPfn + 1;
  return true;
}

/**
 * `map_pages` (c17ee635 semantics): picks one leaf size for the whole range from
 * pgsize × pgcount and the alignment of iova/paddr; adds bytes installed to `mapped`.
 */
export function ptMapPages(
  pt: PtTable,
  iova: Addr,
  paddr: Addr,
  pgsize: number,
  pgcount: number,
  prot: number,
  mapped: SizeOut,
): number {
  if (pt.gLg2 !== 12) {
    const g = pt.gLg2;
    return ptMapPagesPfn(
      pt,
      gFrameOf(g, iova),
      gOffOf(g, iova),
      gFrameOf(g, paddr),
      gOffOf(g, paddr),
      pgsize,
      pgcount,
      prot,
      mapped,
    );
  }
  if (typeof iova === "number" && typeof paddr === "number") {
    return mapPagesNumber(pt, iova, paddr, pgsize, pgcount, prot, mapped);
  }
  return ptMapPagesPfn(
    pt,
    pfnOf(iova),
    offOf(iova),
    pfnOf(paddr),
    offOf(paddr),
    pgsize,
    pgcount,
    prot,
    mapped,
  );
}

/** `map_pages` of number addresses, 4 KiB granule: a single page from the walk cache in line, else the full path. */
function mapPagesNumber(
  pt: PtTable,
  iova: number,
  paddr: number,
  pgsize: number,
  pgcount: number,
  prot: number,
  mapped: SizeOut,
): number {
  const vp = Math.floor(iova / PAGE);
  const pp = Math.floor(paddr / PAGE);
  if (
    pgsize === PAGE &&
    pgcount === 1 &&
    iova === vp * PAGE &&
    paddr === pp * PAGE &&
    mapCachedLeaf(pt, vp, pp, prot)
  ) {
    mapped.value += PAGE;
    return 0;
  }
  return ptMapPagesPfn(pt, vp, iova - vp * PAGE, pp, paddr - pp * PAGE, pgsize, pgcount, prot, mapped);
}

/** `map_pages` on frame-split addresses (iova = vaPfn·G + vaOff, paddr likewise; G = the granule). */
export function ptMapPagesPfn(
  pt: PtTable,
  vaPfn: number,
  vaOff: number,
  paPfn: number,
  paOff: number,
  pgsize: number,
  pgcount: number,
  prot: number,
  mapped: SizeOut,
): number {
  const gather = pt.mapGather;
  if (gather.endExcl !== 0 || gather.freelist.length !== 0) gather.init();
  if (!(prot & (IOMMU_READ | IOMMU_WRITE))) {
    pt.counters.warn("generic_pt map_pages: prot without IOMMU_READ/IOMMU_WRITE");
    return EINVAL;
  }
  if (pt.maxOasz < 64 && paPfn >= P2[pt.maxOasz - pt.gLg2]!) return ERANGE;
  if (prot !== pt.attrsProt) {
    const pr = pt.fmt.setProt(prot, pt.features, pt.attrs, pt.hooks.log);
    if (pr) return pr;
    pt.attrsProt = prot;
  }
  const len = sizeTimes(pgsize, pgcount);
  let ret = pt.makeRange(vaPfn, vaOff, len);
  if (ret) return ret;
  let single = false;
  // pt_has_system_page_size(): sysPage is PAGE_SIZE for a 4 KiB granule, 0 otherwise.
  if (pgsize === pt.sysPage && pgcount === 1) {
    if (vaOff !== 0 || paOff !== 0) return ENXIO;
    pt.mLeafLg2 = 12;
    pt.mLeafLevel = 0;
    single = true;
  } else {
    const lg2 = pt.bestPgsizeLg2(paPfn, paOff);
    if (lg2 === 0) return ENXIO;
    pt.mLeafLg2 = lg2;
    pt.mLeafLevel = Math.floor((lg2 - pt.gLg2) / 9);
  }
  ret = checkMapRange(pt);
  if (ret) return ret;
  pt.mOaPfn = paPfn;
  ret = EAGAIN;
  if (single && !pt.fIncoherent) ret = mapSingle(pt);
  else if (!pt.fIncoherent && pt.mLeafLevel !== pt.topLevel) ret = mapOneItem(pt);
  if (ret === EAGAIN)
    ret = pt.mLeafLevel === pt.topLevel ? mapLeaf(pt, pt.topLevel, pt.topWords) : mapRange(pt);
  // Tables were replaced by leaves: flush walk caches that may still point at them.
  if (gather.freelist.length !== 0) pt.iommuIotlbSync(gather);
  mapped.value += (pt.mOaPfn - paPfn) * pt.gSize;
  return ret;
}

/** `check_map_range`: range check, growing the top (DYNAMIC_TOP) until it fits. */
export function checkMapRange(pt: PtTable): number {
  for (;;) {
    const ret = pt.checkTopRange();
    if (!pt.fDyn) return ret;
    if (ret === 0 && pt.mLeafLevel <= pt.topLevel) return 0;
    const r = increaseTop(pt);
    if (r !== 0 && r !== EAGAIN) return r;
    if (r === EAGAIN) return ERANGE; // single-threaded: nothing raced, the top cannot grow
  }
}

/** `increase_top`: stack new top tables (old top at index 0) until the range fits. */
export function increaseTop(pt: PtTable): number {
  const fresh: number[] = [];
  let level = pt.topLevel;
  let prev = pt.topPa;
  for (;;) {
    if (pt.checkRange(pt.topRangeMaxVasz(level)) === 0 && pt.mLeafLevel <= level) break;
    level++;
    if (level > pt.fmt.maxTopLevel || pt.itemLg2(level) >= pt.maxVasz) {
      for (const pa of fresh) pt.freeTable(pa);
      return ERANGE;
    }
    const pa = pt.allocTable(pt.topMemBytes(level), false);
    if (pa < 0) {
      for (const pa2 of fresh) pt.freeTable(pa2);
      return ENOMEM;
    }
    fresh.push(pa);
    pt.putTable(pt.tableWords(pa), 0, prev * pt.gInv, level);
    pt.counters.pteWrites++;
    prev = pa;
  }
  if (fresh.length === 0) return EAGAIN;
  if (pt.fIncoherent) pt.incoherent.start += fresh.length;
  pt.hooks.changeTop?.(prev, level);
  pt.topChanges++;
  pt.setTop(prev, level);
  return 0;
}

/**
 * `__map_single_page`: 4K into existing tables; -EAGAIN sends it down the full path. Only a
 * 4 KiB granule takes it (`pt_has_system_page_size`), so a frame is PAGE_SIZE here.
 */
export function mapSingle(pt: PtTable): number {
  const codec = pt.codec;
  const top = pt.topLevel;
  let level = pt.cachedLevel(pt.curPfn, top);
  let words = level === top ? pt.topWords : pt.wcHit;
  for (;;) {
    const w = 2 * pt.idxAt(level);
    const lo = words[w]!;
    const hi = words[w + 1]!;
    const t = cType(codec, lo, hi, level);
    if (level === 0) {
      const c = pt.counters;
      c.pteReads += top + 1;
      if (top !== 0) pt.rememberWalk(pt.curPfn, 0, words);
      if (t !== PT_ENTRY_EMPTY) return EADDRINUSE;
      pt.putLeaf(words, w, 0, pt.mOaPfn, 12);
      c.pteWrites++;
      pt.mOaPfn += 1;
      return 0;
    }
    if (t !== PT_ENTRY_TABLE) {
      pt.counters.pteReads += top - level + 1;
      return EAGAIN;
    }
    words = pt.wordsOfPfn(cPfn(codec, lo, hi));
    level--;
  }
}

/**
 * `__map_range` for a range that is exactly one single-item leaf over existing tables and an
 * empty item (a 2M page into a present 2M slot...): the general walk's outcome, reads and
 * writes without its level stack. Anything else returns -EAGAIN having read and changed
 * nothing, for the general walk.
 */
export function mapOneItem(pt: PtTable): number {
  const level0 = pt.mLeafLevel;
  const lg2 = pt.mLeafLg2;
  if (lg2 !== pt.gLg2 + 9 * level0 || pt.lastOff !== pt.gSize - 1) return EAGAIN;
  if (pt.lastPfn - pt.curPfn !== P2[lg2 - pt.gLg2]! - 1) return EAGAIN;
  const codec = pt.codec;
  const top = pt.topLevel;
  let level = pt.cachedLevel(pt.curPfn, top);
  if (level < level0) level = top;
  let words = level === top ? pt.topWords : pt.wcHit;
  for (;;) {
    const w = 2 * pt.idxAt(level);
    const lo = words[w]!;
    const hi = words[w + 1]!;
    const t = cType(codec, lo, hi, level);
    if (level === level0) {
      if (t !== PT_ENTRY_EMPTY) return EAGAIN;
      const c = pt.counters;
      c.pteReads += top - level + 1;
      pt.rememberWalk(pt.curPfn, level, words);
      pt.putLeaf(words, w, level, pt.mOaPfn, lg2);
      c.pteWrites++;
      pt.mOaPfn += P2[lg2 - pt.gLg2]!;
      return 0;
    }
    if (t !== PT_ENTRY_TABLE) return EAGAIN;
    words = pt.wordsOfPfn(cPfn(codec, lo, hi));
    level--;
  }
}

/** `pt_iommu_new_table`: allocate and link a child table below item `i`. */
export function newTable(pt: PtTable, level: number, words: Uint32Array, i: number): number {
  if (level === 0) return ENXIO;
  const pa = pt.allocTable(TABLE_BYTES, true);
  if (pa < 0) return ENOMEM;
  const w = 2 * i;
  pt.putTable(words, w, pa * pt.gInv, level);
  pt.counters.pteWrites++;
  if (pt.fIncoherent) {
    pt.flushItem();
    words[w] = (words[w]! | pt.fmt.swBit0Lo) >>> 0;
    words[w + 1] = (words[w + 1]! | pt.fmt.swBit0Hi) >>> 0;
  }
  pt.lvChild[level] = pa;
  return 0;
}

/** `__map_range` for every level above the leaf level, as a loop. */
export function mapRange(pt: PtTable): number {
  const fmt = pt.fmt;
  const c = pt.counters;
  const top = pt.topLevel;
  const leafLevel = pt.mLeafLevel;
  let level = top;
  let words = pt.topWords;
  let i = pt.idxAt(level);
  let end = pt.endIdx(level, i);
  for (;;) {
    const w = 2 * i;
    const lo = words[w]!;
    const hi = words[w + 1]!;
    c.pteReads++;
    const t = cType(pt.codec, lo, hi, level);
    let child: Uint32Array;
    if (t !== PT_ENTRY_TABLE) {
      if (t !== PT_ENTRY_EMPTY) return EADDRINUSE;
      const r = newTable(pt, level, words, i);
      if (r) return r;
      child = pt.tableWords(pt.lvChild[level]!);
    } else {
      child = pt.wordsOfPfn(cPfn(pt.codec, lo, hi));
      if (pt.fIncoherent && (lo & fmt.swBit0Lo) === 0 && (hi & fmt.swBit0Hi) === 0) pt.flushItem();
    }
    if (level - 1 === leafLevel) {
      const r = mapLeaf(pt, leafLevel, child);
      if (r) return r;
      // Advance this level, unwinding finished levels.
      for (;;) {
        i++;
        pt.indexToVa(level, i);
        if (i < end) break;
        if (level === top) return 0;
        level++;
        words = pt.lvWords[level]!;
        i = pt.lvIdx[level]!;
        end = pt.lvEnd[level]!;
      }
      continue;
    }
    // Descend into the child table.
    pt.lvWords[level] = words;
    pt.lvIdx[level] = i;
    pt.lvEnd[level] = end;
    level--;
    words = child;
    i = pt.idxAt(level);
    end = pt.endIdx(level, i);
  }
}

/** `__map_range_leaf`: install leaves of mLeafLg2 at `level`, clearing what they cover. */
export function mapLeaf(pt: PtTable, level: number, words: Uint32Array): number {
  const c = pt.counters;
  // The level-0 table of the range's first item is where a single-address walk to it would end:
  // the walk cache then serves the next pages (mapCachedLeaf) without a walk from the top.
  if (level === 0 && pt.topLevel !== 0) pt.rememberWalk(pt.curPfn, 0, words);
  const leafLg2 = pt.mLeafLg2;
  const isz = pt.gLg2 + 9 * level;
  const step = 1 << (leafLg2 - isz);
  const needContig = step > 1;
  const oaStep = P2[leafLg2 - pt.gLg2]!;
  let i = pt.idxAt(level);
  const end = pt.endIdx(level, i);
  const start = i;
  let oa = pt.mOaPfn;
  let ret = 0;
  let reads = 0;
  let writes = 0;
  if (!needContig && oaStep <= pt.codec.oaLoPfnMask) {
    // Single-item leaves (the common batched case): the layout encode inlined in the loop.
    const codec = pt.codec;
    const setLo = codec.leafSetLo | (level !== 0 ? codec.leafPsLo : 0) | pt.attrs.lo;
    const setHi = pt.attrs.hi;
    // The OA field split once into int32 halves and stepped with an explicit carry: per
    // entry two int ORs instead of a float multiply and truncation (cFieldLo/cFieldHi).
    // loRange = frames the low word holds (> oaStep here, so one subtraction carries).
    const shift = codec.oaShift;
    const loRange = codec.oaLoPfnMask + 1;
    let oaLo = oa & codec.oaLoPfnMask;
    let oaHi = (oa * codec.oaHiInv) | 0;
    const hiMask = codec.oaHiMask;
    const stepI = oaStep | 0;
    // cType's emptiness test with the layout constant in a local (loads are not hoisted).
    const pm = codec.presentLo;
    for (;;) {
      const w = 2 * i;
      const lo = words[w]!;
      if (pm === 0 ? (lo | words[w + 1]!) !== 0 : (lo & pm) !== 0) {
        // An occupied item (rare): out of line, so the empty-item loop stays small.
        if (i !== start) pt.indexToVa(level, i);
        ret = clearContig(pt, level, words, i, 1);
        if (ret) break;
      }
      // Uint32Array stores take the low 32 bits: no >>> 0 needed on the int32 pattern.
      words[w] = setLo | (oaLo << shift);
      words[w + 1] = setHi | (oaHi & hiMask);
      oaLo += stepI;
      if (oaLo >= loRange) {
        oaLo -= loRange;
        oaHi = (oaHi + 1) | 0;
      }
      i++;
      // The run of empty items.
      for (; i < end; i++) {
        const w2 = 2 * i;
        const l2 = words[w2]!;
        if (pm === 0 ? (l2 | words[w2 + 1]!) !== 0 : (l2 & pm) !== 0) break;
        words[w2] = setLo | (oaLo << shift);
        words[w2 + 1] = setHi | (oaHi & hiMask);
        oaLo += stepI;
        if (oaLo >= loRange) {
          oaLo -= loRange;
          oaHi = (oaHi + 1) | 0;
        }
      }
      if (i >= end) break;
    }
    // Every item visited was read and (but the failing one) written: counted once here.
    reads += i - start + (ret ? 1 : 0);
    writes += i - start;
    oa += (i - start) * oaStep;
  } else if (!needContig) {
    // Single items too large to step in the low word (riscv 512G/256T leaves).
    const codec = pt.codec;
    const setLo = (codec.leafSetLo | (level !== 0 ? codec.leafPsLo : 0) | pt.attrs.lo) >>> 0;
    const setHi = pt.attrs.hi;
    do {
      const w = 2 * i;
      reads++;
      if (cType(codec, words[w]!, words[w + 1]!, level) !== PT_ENTRY_EMPTY) {
        if (i !== start) pt.indexToVa(level, i);
        ret = clearContig(pt, level, words, i, 1);
        if (ret) break;
      }
      words[w] = (setLo | cFieldLo(codec, oa)) >>> 0;
      words[w + 1] = (setHi | cFieldHi(codec, oa)) >>> 0;
      writes++;
      oa += oaStep;
      i++;
    } while (i < end);
  } else
    do {
      // A contiguous leaf: clear_contig checks (and frees tables under) all its items.
      const w = 2 * i;
      reads++;
      if (i !== start) pt.indexToVa(level, i);
      ret = clearContig(pt, level, words, i, step);
      if (ret) break;
      writes += pt.putLeaf(words, w, level, oa, leafLg2);
      oa += oaStep;
      i += step;
    } while (i < end);
  c.pteReads += reads;
  c.pteWrites += writes;
  if (pt.fIncoherent) pt.flushRangeItems(start, i);
  pt.mOaPfn = oa;
  return ret;
}

/**
 * `clear_contig`: the `step` items a new leaf covers must hold no leaf; empty sub-tables
 * are unlinked and freed through the map's gather.
 */
export function clearContig(
  pt: PtTable,
  level: number,
  words: Uint32Array,
  first: number,
  step: number,
): number {
  for (let i = first; i < first + step; i++) {
    const w = 2 * i;
    const lo = words[w]!;
    const hi = words[w + 1]!;
    pt.counters.pteReads++;
    const t = cType(pt.codec, lo, hi, level);
    if (t === PT_ENTRY_TABLE) {
      const childPa = cPfn(pt.codec, lo, hi) * pt.gSize;
      const list = pt.collect;
      list.length = 0;
      const r = collectTables(pt, level - 1, childPa, true, list);
      if (r) return r;
      words[w] = 0;
      words[w + 1] = 0;
      pt.forgetWalks();
      pt.counters.pteWrites++;
      if (pt.fIncoherent) pt.flushItem();
      list.push(childPa);
      const vaPfn = i === first ? pt.curPfn : pt.itemVaPfn(level, i);
      pt.gatherRangePages(pt.mapGather, vaPfn * pt.gSize, P2[pt.gLg2 + 9 * level]!, list);
    } else if (t !== PT_ENTRY_EMPTY) {
      return EADDRINUSE;
    }
  }
  return 0;
}
