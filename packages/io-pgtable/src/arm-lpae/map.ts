/**
 * drivers/iommu/io-pgtable-arm.c: `arm_lpae_map_pages()`, `__arm_lpae_map()`,
 * `arm_lpae_init_pte()` and `arm_lpae_install_table()`.
 */
import type { Addr, SizeOut } from "@iommu/core";
import { IOMMU_READ, IOMMU_WRITE, IommuError } from "@iommu/core";
import { HI_SW_SYNC, PTE_TYPE_TABLE } from "./constants.js";
import { ABSENT_TABLE, type ArmLpaeIoPgtable } from "./pgtable.js";
import { PROT_BITS as PROT_BITS_ } from "./prot.js";
import { unmapAt } from "./unmap.js";

/** Division by a power of two as an exact multiplication. */
const INV_4K = 1 / 4096;
const INV_2_20 = 2 ** -20;
const EINVAL = -22;
const ERANGE = -34;
const EEXIST = -17;
const ENOMEM = -12;
const TWO20 = 2 ** 20;
const TWO52 = 2 ** 52;
// Local copies: hot paths avoid cross-module bindings (slow when transpiled to CommonJS).
const MAX_LEVELS = 4;
const LAST = MAX_LEVELS - 1;
const SW_SYNC_HI = HI_SW_SYNC;
const TABLE_TYPE = PTE_TYPE_TABLE;
const PROT_BITS = PROT_BITS_;
const PROT_RW = IOMMU_READ | IOMMU_WRITE;

/**
 * `arm_lpae_map_pages()`: validate, then map up to `pgcount` pages of `pgsize` from the
 * start level down. One call never crosses the end of a table page: `mapped` may come back
 * short with a 0 return, and the caller (the core's iommu_map loop) continues.
 */
export function armLpaeMapPages(
  d: ArmLpaeIoPgtable,
  iova: Addr,
  paddr: Addr,
  pgsize: number,
  pgcount: number,
  prot: number,
  mapped: SizeOut,
): number {
  // The common case in few bytecodes (V8 then inlines the op into a caller's loop), the rest out
  // of line (mapChecked): one last-level page (`d.leafSize`), number addresses in range, into
  // the table the walk cache knows, over an entry that is neither leaf nor table — what
  // __arm_lpae_map ends up doing for a growing mapping. Any check that fails goes the full way,
  // which reports it in the kernel's order.
  if (
    pgcount === 1 &&
    pgsize === d.leafSize &&
    typeof iova === "number" &&
    typeof paddr === "number" &&
    (prot & PROT_RW) !== 0
  ) {
    const pfn = Math.floor(iova * INV_4K);
    const ppfn = Math.floor(paddr * INV_4K);
    const w = pfn < d.iasFrames && ppfn < d.leafOasFrames ? d.cachedLeafSlot(pfn) : -1;
    if (w >= 0) {
      const words = d.walkWords[LAST]!;
      if ((words[w]! & 1) === 0) {
        const p = prot & PROT_BITS;
        const counters = d.counters;
        counters.pteReads += d.leafReads;
        const hiPart = Math.floor(ppfn * INV_2_20);
        words[w] = d.protLo[p]! | d.leafType[LAST]! | ((ppfn - hiPart * TWO20) << 12);
        words[w + 1] = d.protHi[p]! | hiPart;
        counters.pteWrites++;
        mapped.value += pgsize;
        return 0;
      }
    }
  }
  return mapChecked(d, iova, paddr, pgsize, pgcount, prot, mapped);
}

/** {@link armLpaeMapPages} beyond its common case: every check in the kernel's order. */
function mapChecked(
  d: ArmLpaeIoPgtable,
  iova: Addr,
  paddr: Addr,
  pgsize: number,
  pgcount: number,
  prot: number,
  mapped: SizeOut,
): number {
  // Number inputs, a small pgsize, no TTBR1: the range checks on frame numbers.
  if (
    typeof iova === "number" &&
    typeof paddr === "number" &&
    pgsize > 0 &&
    pgsize <= 0x7fffffff &&
    (pgsize & d.bitmapLow) === pgsize &&
    d.simpleRanges
  ) {
    const pfn = Math.floor(iova * INV_4K);
    const ppfn = Math.floor(paddr * INV_4K);
    if (pfn >= d.iasFrames || ppfn >= d.oasFrames) {
      d.counters.warn("arm_lpae_map_pages: iova or paddr out of range");
      return ERANGE;
    }
    if (!(prot & PROT_RW)) return EINVAL;
    const p = prot & PROT_BITS;
    return mapAt(d, pfn, ppfn, pgsize, pgcount, d.protLo[p]!, d.protHi[p]!, mapped);
  }
  if (!d.pgsizeOk(pgsize)) {
    d.counters.warn("arm_lpae_map_pages: pgsize not in pgsize_bitmap");
    return EINVAL;
  }
  let pfn: number;
  let off: number;
  if (typeof iova === "number") {
    pfn = Math.floor(iova * INV_4K);
    off = iova - pfn * 4096;
  } else {
    pfn = Number((iova >> 12n) & 0xfffffffffffffn);
    off = Number(iova & 0xfffn);
  }
  let ppfn: number;
  let poff: number;
  if (typeof paddr === "number") {
    ppfn = Math.floor(paddr * INV_4K);
    poff = paddr - ppfn * 4096;
  } else {
    // paddr >> oas is checked on the frame number: anything ≥ 2^64 cannot reach here.
    ppfn = Number(paddr >> 12n);
    poff = Number(paddr & 0xfffn);
  }
  // The range WARN ignores NO_WARN.
  if (!d.iovaInRange(pfn, off) || !d.paddrInRange(ppfn, poff)) {
    d.counters.warn("arm_lpae_map_pages: iova or paddr out of range");
    return ERANGE;
  }
  if (!(prot & PROT_RW)) return EINVAL;
  return mapAt(
    d,
    pfn,
    ppfn,
    pgsize,
    pgcount,
    d.protLo[prot & PROT_BITS]!,
    d.protHi[prot & PROT_BITS]!,
    mapped,
  );
}

/**
 * `__arm_lpae_map()`, iteratively: descend, creating tables, to the level whose block is
 * `pgsize`. A walk-cache hit starts the descent at that level directly.
 */
function mapAt(
  d: ArmLpaeIoPgtable,
  pfn: number,
  ppfn: number,
  pgsize: number,
  pgcount: number,
  protLo: number,
  protHi: number,
  mapped: SizeOut,
): number {
  const counters = d.counters;
  const start = d.startLevel;
  const target = d.levelOfSize(pgsize);
  let lvl = start;
  let words = d.pgdWords;
  let base = d.pgdBase;
  // Whether the table at `lvl` was allocated by this call (and so is still all zeroes).
  let fresh = false;
  if (target > start) {
    if (d.walkKey[target] === Math.floor(pfn * d.pfnScale[target - 1]!)) {
      words = d.walkWords[target]!;
      base = d.walkBase[target]!;
      counters.pteReads += target - start;
      lvl = target;
    }
  }
  for (;;) {
    if (lvl >= MAX_LEVELS) {
      counters.warn("__arm_lpae_map: ran out of levels");
      return EINVAL;
    }
    const idx = d.index(pfn, lvl);
    if (lvl === target) {
      const ptes = d.ptesPerTable;
      const maxEntries = ptes - (idx & (ptes - 1));
      // min_t(int, pgcount, max_entries): the count is truncated to an int first.
      const count = pgcount | 0;
      const n = Math.min(count, maxEntries);
      const ret = initPte(d, pfn, ppfn, protLo, protHi, lvl, n, words, base, idx, fresh);
      if (ret === 0) mapped.value += n * pgsize;
      return ret;
    }
    if (lvl >= MAX_LEVELS - 1) {
      counters.warn("__arm_lpae_map: cannot allocate a table at the last level");
      return EINVAL;
    }
    const w = base + 2 * idx;
    const lo = words[w]!;
    const hi = words[w + 1]!;
    counters.pteReads++;
    let next: number;
    fresh = lo === 0 && hi === 0;
    if (fresh) {
      if (words === ABSENT_TABLE) throw absentTable();
      const pa = d.allocator.alloc(d.granule);
      if (pa < 0) return ENOMEM;
      installTable(d, words, w, pa);
      next = pa;
    } else {
      if (!d.coherent && !(hi & SW_SYNC_HI)) d.syncPte(words, w, 1);
      if ((lo & 3) === d.leafType[lvl]) {
        d.warnUnlessNoWarn("__arm_lpae_map: a leaf is already mapped (unmap first)");
        return EEXIST;
      }
      next = d.ptePa(lo, hi);
    }
    base = d.resolve(lvl + 1, next);
    words = d.rw;
    lvl++;
    if (lvl === target && words !== ABSENT_TABLE) d.rememberWalk(lvl, pfn, words, base);
  }
}

/**
 * `arm_lpae_install_table()`: point the empty entry at word `w` to the new table. The
 * kernel's cmpxchg cannot lose a race here (the model is single-threaded), so the new
 * table is always installed; a non-coherent walker gets SW_SYNC set once the entry is synced.
 */
function installTable(d: ArmLpaeIoPgtable, words: Uint32Array, w: number, pa: number): void {
  const tpfn = pa / 4096;
  const hiPart = Math.floor(tpfn / TWO20);
  const lo = (((tpfn - hiPart * TWO20) << 12) | ((hiPart >>> 16) << 12) | TABLE_TYPE) >>> 0;
  const hi = (d.tableHi | (hiPart & 0xffff)) >>> 0;
  words[w] = lo;
  words[w + 1] = hi;
  d.counters.pteWrites++;
  if (d.coherent) return;
  d.syncPte(words, w, 1);
  words[w + 1] = (hi | SW_SYNC_HI) >>> 0;
  d.counters.pteWrites++;
}

/**
 * Leaves with `paddr_to_iopte()` in full: PA bits 51:48 fold into descriptor bits 15:12.
 * `loPart`/`hiPart` are the output frame's low 20 bits and the rest.
 */
function writeLeaves(
  words: Uint32Array,
  w: number,
  n: number,
  lo0: number,
  protHi: number,
  loPart: number,
  hiPart: number,
  step: number,
): void {
  for (let i = 0; i < n; i++) {
    words[w] = lo0 | (loPart << 12) | ((hiPart >>> 16) << 12);
    words[w + 1] = protHi | (hiPart & 0xffff);
    w += 2;
    loPart += step;
    if (loPart >= TWO20) {
      const carry = Math.floor(loPart / TWO20);
      hiPart += carry;
      loPart -= carry * TWO20;
    }
  }
}

/** A descriptor of an adopted image points at memory that is not there: the kernel would fault. */
function absentTable(): Error {
  return new IommuError("EFAULT", "__arm_lpae_map", {}, "a table descriptor points at absent memory");
}

/**
 * `arm_lpae_init_pte()`: check the `n` target entries (an existing leaf is -EEXIST; an
 * existing table is unmapped and freed, discarding whatever it still maps), then write
 * the leaves with consecutive output addresses. In a table allocated by this very call
 * (`fresh`) every entry is known to be empty, so the check is only counted, not scanned.
 */
function initPte(
  d: ArmLpaeIoPgtable,
  pfn: number,
  ppfn: number,
  protLo: number,
  protHi: number,
  lvl: number,
  n: number,
  words: Uint32Array,
  tableBase: number,
  idx: number,
  fresh: boolean,
): number {
  const counters = d.counters;
  const w0 = tableBase + 2 * idx;
  const leafType = d.leafType[lvl]!;
  for (let i = fresh ? n : 0; i < n; i++) {
    const lo = words[w0 + 2 * i]!;
    if (lo === 0) continue; // neither leaf nor table: nothing to check
    if ((lo & 3) === leafType) {
      counters.pteReads += i + 1;
      d.warnUnlessNoWarn("arm_lpae_init_pte: a leaf is already mapped (unmap first)");
      return EEXIST;
    }
    if ((lo & 3) === 3) {
      const sz = d.blockSize[lvl]!;
      let p = pfn + i * d.blockPfns[lvl]!;
      if (p >= TWO52) p -= TWO52;
      if (unmapAt(d, null, p, p * 4096, sz, 1, lvl, words, tableBase) !== sz) {
        counters.pteReads += i + 1;
        counters.warn("arm_lpae_init_pte: could not free the table being replaced");
        return EINVAL;
      }
    }
  }
  if (n <= 0) return 0;
  counters.pteReads += n;
  if (words === ABSENT_TABLE) throw absentTable();
  const lo0 = protLo | leafType;
  const step = d.blockPfns[lvl]!;
  let hiPart = Math.floor(ppfn * INV_2_20);
  let w = w0;
  if (step < TWO20 && hiPart < 0x10000) {
    // Common case: below 2^48 and steps that carry at most once per entry, all in int32.
    // Entries come in runs that share the high word: the low word just grows by the step
    // until the frame's low 20 bits wrap.
    const istep = step | 0;
    const loStep = istep << 12;
    let loPart = (ppfn - hiPart * TWO20) | 0;
    let lo = lo0 | (loPart << 12);
    let hiWord = protHi | hiPart;
    let left = n;
    for (;;) {
      // Entries before loPart reaches 2^20 (at least one: loPart < 2^20 here).
      const run = Math.min(left, Math.ceil((TWO20 - loPart) / istep));
      const end = w + 2 * run;
      for (; w < end; w += 2) {
        words[w] = lo;
        words[w + 1] = hiWord;
        lo = (lo + loStep) | 0;
      }
      left -= run;
      if (left === 0) break;
      loPart += run * istep - TWO20;
      lo = lo0 | (loPart << 12);
      hiPart++;
      if (hiPart >= 0x10000) {
        // Crossed 2^48: fold PA bits 51:48 into bits 15:12 from here on.
        writeLeaves(words, w, left, lo0, protHi, loPart, hiPart, step);
        break;
      }
      hiWord = protHi | hiPart;
    }
  } else writeLeaves(words, w, n, lo0, protHi, ppfn - hiPart * TWO20, hiPart, step);
  counters.pteWrites += n;
  if (!d.coherent) d.syncPte(words, w0, n);
  return 0;
}
