/**
 * drivers/iommu/io-pgtable-arm.c: `arm_lpae_unmap_pages()` and `__arm_lpae_unmap()`.
 */
import type { Addr, IotlbGather } from "@iommu/core";
import type { ArmLpaeIoPgtable } from "./pgtable.js";

/** Division by a power of two as an exact multiplication. */
const INV_4K = 1 / 4096;
const ENOENT = -2;
const MAX_LEVELS = 4;
const LAST = MAX_LEVELS - 1;

/**
 * `arm_lpae_unmap_pages()`: returns bytes unmapped. Kernel behaviours kept: an empty entry
 * on the way down returns -ENOENT through size_t (a negative number here); a run stops at
 * the first empty entry or the end of the table page; unmapping part of a block returns 0
 * (blocks are never split); unmapping a table entry at its own size frees the subtree.
 */
export function armLpaeUnmapPages(
  d: ArmLpaeIoPgtable,
  iova: Addr,
  pgsize: number,
  pgcount: number,
  gather: IotlbGather | null,
): number {
  // The common case in few bytecodes (V8 then inlines the op into a caller's loop), the rest out
  // of line (unmapChecked): one last-level page (`d.leafSize`), a number IOVA in a lower-half
  // table, a leaf in the table the walk cache knows — what __arm_lpae_unmap ends up doing.
  if (pgcount === 1 && pgsize === d.leafSize && typeof iova === "number" && iova < d.lookupLimit) {
    const w = d.cachedLeafSlot(Math.floor(iova * INV_4K));
    if (w >= 0) {
      const words = d.walkWords[LAST]!;
      if ((words[w]! & 3) === d.leafType[LAST]) {
        const counters = d.counters;
        counters.pteReads += d.leafReads + 1; // the kernel reads the entry twice
        words[w] = 0;
        words[w + 1] = 0;
        counters.pteWrites++;
        const tlb = d.tlb;
        if (gather && !gather.queued && tlb?.tlbAddPage) tlb.tlbAddPage(gather, iova, pgsize, d.cookie);
        return pgsize;
      }
    }
  }
  return unmapChecked(d, iova, pgsize, pgcount, gather);
}

/** {@link armLpaeUnmapPages} beyond its common case: every check in the kernel's order. */
function unmapChecked(
  d: ArmLpaeIoPgtable,
  iova: Addr,
  pgsize: number,
  pgcount: number,
  gather: IotlbGather | null,
): number {
  if (!d.pgsizeOk(pgsize) || pgcount === 0) {
    d.counters.warn("arm_lpae_unmap_pages: bad pgsize or pgcount");
    return 0;
  }
  let pfn: number;
  let off: number;
  let iovaNum: number;
  if (typeof iova === "number") {
    pfn = Math.floor(iova * INV_4K);
    off = iova - pfn * 4096;
    iovaNum = iova;
  } else {
    pfn = Number((iova >> 12n) & 0xfffffffffffffn);
    off = Number(iova & 0xfffn);
    iovaNum = pfn * 4096 + off;
  }
  if (!d.iovaInRange(pfn, off)) {
    d.counters.warn("arm_lpae_unmap_pages: iova out of range");
    return 0;
  }
  const start = d.startLevel;
  const target = d.levelOfSize(pgsize);
  // A walk-cache hit starts at the target level (the skipped entries are tables).
  if (target > start && d.walkKey[target] === Math.floor(pfn * d.pfnScale[target - 1]!)) {
    d.counters.pteReads += target - start;
    return unmapAt(
      d,
      gather,
      pfn,
      iovaNum,
      pgsize,
      pgcount,
      target,
      d.walkWords[target]!,
      d.walkBase[target]!,
    );
  }
  return unmapAt(d, gather, pfn, iovaNum, pgsize, pgcount, start, d.pgdWords, d.pgdBase);
}

/**
 * `__arm_lpae_unmap()` from level `lvl`, whose table is `words` at word `base`. `pfn` is
 * the iova's frame (for the indices), `iovaNum` the iova the TLB callbacks receive.
 */
export function unmapAt(
  d: ArmLpaeIoPgtable,
  gather: IotlbGather | null,
  pfn: number,
  iovaNum: number,
  size: number,
  pgcount: number,
  lvl: number,
  words: Uint32Array,
  base: number,
): number {
  const counters = d.counters;
  for (;;) {
    if (lvl >= MAX_LEVELS) {
      counters.warn("__arm_lpae_unmap: ran out of levels");
      return 0;
    }
    const idx = d.index(pfn, lvl);
    const w = base + 2 * idx;
    let lo = words[w]!;
    let hi = words[w + 1]!;
    counters.pteReads++;
    if (lo === 0 && hi === 0) {
      d.warnUnlessNoWarn("__arm_lpae_unmap: nothing mapped");
      return ENOENT;
    }
    const leafType = d.leafType[lvl]!;
    if (size === d.blockSize[lvl]) {
      const ptes = d.ptesPerTable;
      const maxEntries = ptes - (idx & (ptes - 1));
      // min_t(int, pgcount, max_entries): the size_t count is narrowed to an int first, so a
      // count of 2^31 and up (mod 2^32) is ≤ 0 and the kernel's loop runs zero times.
      const n = Math.min(pgcount | 0, maxEntries);
      // One pass where the kernel makes two (free the tables, then clear the i entries):
      // the end state, the callbacks and the counted reads and writes are the same.
      let i = 0;
      let tables = 0;
      for (;;) {
        // Leaves, the common case, in a loop with no calls in it.
        let wi = w + 2 * i;
        while (i < n && (words[wi]! & 3) === leafType) {
          words[wi] = 0;
          words[wi + 1] = 0;
          i++;
          wi += 2;
        }
        // `>=`, not `===`: with n ≤ 0 no entry may be touched (`i < num_entries` is false).
        if (i >= n) break;
        lo = words[wi]!;
        hi = words[wi + 1]!;
        if (lo === 0 && hi === 0) {
          counters.pteReads += i + 1;
          d.warnUnlessNoWarn("__arm_lpae_unmap: hole in the range");
          break;
        }
        // A table (or an entry of another type): free what hangs below it.
        words[wi] = 0;
        words[wi + 1] = 0;
        tables++;
        if (!d.coherent) d.syncPte(words, wi, 1);
        // The walk caches may still hold the old table: flush them before freeing it.
        d.tlb?.tlbFlushWalk(iovaNum + i * size, size, d.granule, d.cookie);
        d.freePgtable(lvl + 1, d.ptePa(lo, hi));
        i++;
      }
      if (i >= n) counters.pteReads += i;
      counters.pteWrites += i + tables;
      if (!d.coherent && i !== 0) d.syncPte(words, w, i);
      // A method call on the driver's ops (not a detached function's .call): V8 can then
      // inline the callback into this loop.
      const tlb = d.tlb;
      if (gather && !gather.queued && tlb?.tlbAddPage) {
        const cookie = d.cookie;
        for (let j = 0; j < i; j++) tlb.tlbAddPage(gather, iovaNum + j * size, size, cookie);
      }
      return i * size;
    }
    if ((lo & 3) === leafType) {
      counters.warn("Unmap of a partial large IOPTE is not allowed");
      return 0;
    }
    base = d.resolve(lvl + 1, d.ptePa(lo, hi));
    words = d.rw;
    lvl++;
    if (lvl < MAX_LEVELS) d.rememberWalk(lvl, pfn, words, base);
  }
}
