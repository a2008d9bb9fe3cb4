import type { Addr, SizeOut } from "@iommu/core";
import { IOMMU_READ, IOMMU_WRITE, IommuError } from "@iommu/core";
import { ARM_LPAE_MAX_LEVELS, HI_SW_SYNC, PTE_TYPE_MASK, PTE_TYPE_TABLE } from "./constants.js";
import { type ArmLpaeIoPgtable, ABSENT_TABLE } from "./pgtable.js";
import { PROT_BITS } from "./prot.js";
import { unmapAt } from "./unmap.js";

const EINVAL = -22;
const ERANGE = -34;
const EEXIST = -17;
const ENOMEM = -12;
const TWO20 = 2 ** 20;
const TWO52 = 2 ** 52;

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
  if (!d.pgsizeOk(pgsize)) {
    d.counters.warn("arm_lpae_map_pages: pgsize not in pgsize_bitmap");
    return EINVAL;
  }
  let pfn: number;
  let off: number;
  if (typeof iova === "number") {
    pfn = Math.floor(iova / 4096);
    off = iova - pfn * 4096;
  } else {
    pfn = Number((iova >> 12n) & 0xfffffffffffffn);
    off = Number(iova & 0xfffn);
  }
  let ppfn: number;
  let poff: number;
  if (typeof paddr === "number") {
    ppfn = Math.floor(paddr / 4096);
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
  if (!(prot & (IOMMU_READ | IOMMU_WRITE))) return EINVAL;
  return mapAt(d, pfn, ppfn, pgsize, pgcount, d.protLo[prot & PROT_BITS]!, d.protHi[prot & PROT_BITS]!, mapped);
}

/** `__arm_lpae_map()`, iteratively: descend, creating tables, to the level whose block is `pgsize`. */
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
  let lvl = d.startLevel;
  let words = d.pgdWords;
  let base = d.pgdBase;
  for (;;) {
    if (lvl >= ARM_LPAE_MAX_LEVELS) {
      counters.warn("__arm_lpae_map: ran out of levels");
      return EINVAL;
    }
    const idx = d.index(pfn, lvl);
    if (pgsize === d.blockSize[lvl]) {
      const ptes = d.ptesPerTable;
      const maxEntries = ptes - (idx & (ptes - 1));
      // min_t(int, pgcount, max_entries): the count is truncated to an int first.
      const count = pgcount | 0;
      const n = count < maxEntries ? count : maxEntries;
      const ret = initPte(d, pfn, ppfn, protLo, protHi, lvl, n, words, base, idx);
      if (ret === 0) mapped.value += n * pgsize;
      return ret;
    }
    if (lvl >= ARM_LPAE_MAX_LEVELS - 1) {
      counters.warn("__arm_lpae_map: cannot allocate a table at the last level");
      return EINVAL;
    }
    const w = base + 2 * idx;
    const lo = words[w]!;
    const hi = words[w + 1]!;
    counters.pteReads++;
    let next: number;
    if (lo === 0 && hi === 0) {
      if (words === ABSENT_TABLE) throw absentTable();
      const pa = d.allocator.alloc(d.granule);
      if (pa < 0) return ENOMEM;
      installTable(d, words, w, pa);
      next = pa;
    } else {
      if (!d.coherent && !(hi & HI_SW_SYNC)) d.syncPte(words, w, 1);
      if (d.isLeaf(lo, lvl)) {
        d.warnUnlessNoWarn("__arm_lpae_map: a leaf is already mapped (unmap first)");
        return EEXIST;
      }
      next = d.ptePa(lo, hi);
    }
    base = d.resolve(lvl + 1, next);
    words = d.rw;
    lvl++;
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
  const lo = (((tpfn - hiPart * TWO20) << 12) | ((hiPart >>> 16) << 12) | PTE_TYPE_TABLE) >>> 0;
  const hi = (d.tableHi | (hiPart & 0xffff)) >>> 0;
  words[w] = lo;
  words[w + 1] = hi;
  d.counters.pteWrites++;
  if (d.coherent) return;
  d.syncPte(words, w, 1);
  words[w + 1] = (hi | HI_SW_SYNC) >>> 0;
  d.counters.pteWrites++;
}

/** A descriptor of an adopted image points at memory that is not there: the kernel would fault. */
function absentTable(): Error {
  return new IommuError("EFAULT", "__arm_lpae_map", {}, "a table descriptor points at absent memory");
}

/**
 * `arm_lpae_init_pte()`: check the `n` target entries (an existing leaf is -EEXIST; an
 * existing table is unmapped and freed, discarding whatever it still maps), then write
 * the leaves with consecutive output addresses.
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
): number {
  const counters = d.counters;
  const w0 = tableBase + 2 * idx;
  const step = d.blockPfns[lvl]!;
  for (let i = 0; i < n; i++) {
    const lo = words[w0 + 2 * i]!;
    counters.pteReads++;
    if (d.isLeaf(lo, lvl)) {
      d.warnUnlessNoWarn("arm_lpae_init_pte: a leaf is already mapped (unmap first)");
      return EEXIST;
    }
    if ((lo & PTE_TYPE_MASK) === PTE_TYPE_TABLE) {
      const sz = d.blockSize[lvl]!;
      let p = pfn + i * step;
      if (p >= TWO52) p -= TWO52;
      const iovaNum = p * 4096;
      if (unmapAt(d, null, p, iovaNum, sz, 1, lvl, words, tableBase) !== sz) {
        counters.warn("arm_lpae_init_pte: could not free the table being replaced");
        return -22;
      }
    }
  }
  if (n <= 0) return 0;
  if (words === ABSENT_TABLE) throw absentTable();
  const lo0 = protLo | d.leafType[lvl]!;
  let hiPart = Math.floor(ppfn / TWO20);
  let loPart = ppfn - hiPart * TWO20;
  let w = w0;
  for (let i = 0; i < n; i++) {
    // paddr_to_iopte(): PA bits 51:48 fold into descriptor bits 15:12.
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
  counters.pteWrites += n;
  if (!d.coherent) d.syncPte(words, w0, n);
  return 0;
}
