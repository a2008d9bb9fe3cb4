/**
 * drivers/iommu/io-pgtable-arm.c: the walker (`__arm_lpae_iopte_walk`) behind
 * `arm_lpae_pgtable_walk()`, `arm_lpae_read_and_clear_dirty()` and the series'
 * iova_to_phys_length (which replaced `arm_lpae_iova_to_phys()`).
 */
import type { Addr, IommuDirtyBitmap, PhysLength } from "@iommu/core";
import { holeSpanOutside, IOMMU_DIRTY_NO_CLEAR } from "@iommu/core";
import type { ArmLpaeWalkData } from "../io-pgtable.js";
import { IoPgtableFmt } from "../io-pgtable.js";
import { ARM_LPAE_MAX_LEVELS, HI_DBM, LO_AP_RDONLY } from "./constants.js";
import { type ArmLpaeIoPgtable, orPfn } from "./pgtable.js";

/** Division by a power of two as an exact multiplication. */
const INV_4K = 1 / 4096;
const EINVAL = -22;
const MAX_LEVELS = 4;
const U64_MAX_BIG = (1n << 64n) - 1n;

/**
 * The single-address walk behind iova_to_phys_length and pgtable_walk (`__arm_lpae_iopte_walk`
 * with end = iova + 1): visit one entry per level, stop at a leaf (0) or at an entry that
 * is neither leaf nor table (-EINVAL). The last entry visited is left in
 * `d.walkLo/walkHi/walkLevel`; `record`, when given, receives every entry by level.
 */
function walkOne(d: ArmLpaeIoPgtable, pfn: number, record: bigint[] | null): number {
  const counters = d.counters;
  const start = d.startLevel;
  let lvl = start;
  let words = d.pgdWords;
  let base = d.pgdBase;
  if (record === null) {
    // Start as deep as the walk cache allows; the skipped entries are tables by construction.
    for (let l = MAX_LEVELS - 1; l > start; l--) {
      if (d.walkKey[l] === Math.floor(pfn * d.pfnScale[l - 1]!)) {
        counters.pteReads += l - start;
        lvl = l;
        words = d.walkWords[l]!;
        base = d.walkBase[l]!;
        break;
      }
    }
  }
  for (;;) {
    if (lvl >= MAX_LEVELS) {
      counters.warn("__arm_lpae_iopte_walk: ran out of levels");
      return EINVAL;
    }
    const w = base + 2 * d.index(pfn, lvl);
    const lo = words[w]!;
    const hi = words[w + 1]!;
    counters.pteReads++;
    d.walkLo = lo;
    d.walkHi = hi;
    d.walkLevel = lvl;
    if (record) record[lvl] = (BigInt(hi) << 32n) | BigInt(lo);
    if ((lo & 3) === d.leafType[lvl]) return 0;
    if (lvl === MAX_LEVELS - 1 || (lo & 3) !== 3) return EINVAL;
    base = d.resolve(lvl + 1, d.ptePa(lo, hi));
    words = d.rw;
    lvl++;
    d.rememberWalk(lvl, pfn, words, base);
  }
}

/** Frame number of an `Addr` (mod 2^52, i.e. the iova's low 64 bits). */
function pfnOfAddr(iova: Addr): number {
  return typeof iova === "number" ? Math.floor(iova * INV_4K) : Number((iova >> 12n) & 0xfffffffffffffn);
}

/** `iova & (2^64 - 1) == 2^64 - 1`: then the kernel's end = iova + 1 wraps and nothing is visited. */
function isU64Max(iova: Addr): boolean {
  return typeof iova === "bigint" && (iova & U64_MAX_BIG) === U64_MAX_BIG;
}

/** Physical frame of the leaf the last walk stopped at, for the address in frame `pfn`. */
function leafPhysPfn(d: ArmLpaeIoPgtable, pfn: number): number {
  const blockPfns = d.blockPfns[d.walkLevel]!;
  const ptePfn = d.ptePfn(d.walkLo, d.walkHi);
  if (blockPfns === 1) return ptePfn;
  const inBlock = pfn - Math.floor(pfn * d.pfnScale[d.walkLevel]!) * blockPfns;
  // iopte_to_paddr(pte) | (iova & (block - 1)): an OR, as the kernel does.
  return ptePfn <= 0x7fffffff && blockPfns <= 2 ** 31 ? ptePfn | inBlock : orPfn(ptePfn, inBlock);
}

/**
 * `iova_to_phys_length` (the series' op, core contract): mapped → phys and the size of the
 * leaf's level; unmapped → the span of the empty entry where the walk stopped. Unlike the
 * removed legacy op, an iova outside the input range (the IAS check, TTBR1-aware) is reported unmapped
 * instead of aliasing through the masked top-level index, with length = the largest naturally
 * aligned block around it that misses the translatable range (`holeSpanOutside`: up to the
 * aperture edge).
 */
export function armLpaeIovaToPhysLength(d: ArmLpaeIoPgtable, iova: Addr, out: PhysLength): void {
  // The common case in few bytecodes, so that a caller's loop inlines the whole walk: a number
  // IOVA inside a lower-half table.
  if (typeof iova === "number" && iova < d.lookupLimit) {
    const pfn = Math.floor(iova * INV_4K);
    // A 4 KiB leaf in the last-level table the walk cache holds: the whole walk in line.
    const w = d.granule === 4096 ? d.cachedLeafSlot(pfn) : -1;
    if (w >= 0) {
      const words = d.walkWords[3]!;
      const lo = words[w]!;
      if ((lo & 3) === d.leafType[3]) {
        const hi = words[w + 1]!;
        d.counters.pteReads += d.leafReads;
        d.walkLo = lo;
        d.walkHi = hi;
        d.walkLevel = 3;
        out.setMapped(d.ptePfn(lo, hi), iova - pfn * 4096, d.granule);
        return;
      }
    }
    if (walkOne(d, pfn, null) !== 0) out.setUnmapped(d.blockSize[d.walkLevel]!);
    else out.setMapped(leafPhysPfn(d, pfn), iova - pfn * 4096, d.blockSize[d.walkLevel]!);
    return;
  }
  lookupOther(d, iova, out);
}

/** {@link armLpaeIovaToPhysLength} for a bigint IOVA, a TTBR1 table, or an IOVA out of range. */
function lookupOther(d: ArmLpaeIoPgtable, iova: Addr, out: PhysLength): void {
  let pfn: number;
  let off: number;
  if (typeof iova === "number") {
    pfn = Math.floor(iova * INV_4K);
    off = iova - pfn * 4096;
  } else {
    pfn = Number((iova >> 12n) & 0xfffffffffffffn);
    off = Number(iova & 0xfffn);
  }
  if (!d.iovaInRange(pfn, off)) {
    out.setUnmapped(holeSpanOutside(iova, d.translatableRanges));
    return;
  }
  if (d.startLevel >= MAX_LEVELS) {
    out.setUnmapped(d.granule);
    return;
  }
  if (walkOne(d, pfn, null) !== 0) {
    out.setUnmapped(d.blockSize[d.walkLevel]!);
    return;
  }
  out.setMapped(leafPhysPfn(d, pfn), off, d.blockSize[d.walkLevel]!);
}

/**
 * `arm_lpae_pgtable_walk()`: record the entry seen at each level in `wd.ptes[level]`
 * (levels not reached are left alone); `wd.level` is set to the last level visited (the
 * kernel leaves it unused). Returns 0 at a leaf, -EINVAL at an invalid entry.
 */
export function armLpaePgtableWalk(d: ArmLpaeIoPgtable, iova: Addr, wd: ArmLpaeWalkData): number {
  if (isU64Max(iova)) return 0;
  const ret = walkOne(d, pfnOfAddr(iova), wd.ptes);
  wd.level = d.walkLevel;
  return ret;
}

/**
 * `arm_lpae_read_and_clear_dirty()`: report writeable-dirty leaves (DBM set, AP_RDONLY
 * clear) in [iova, iova + size) and, unless IOMMU_DIRTY_NO_CLEAR, make them clean again by
 * setting AP_RDONLY. Only ARM_64_LPAE_S1 supports it. The walk stops with -EINVAL at the
 * first empty entry, and ranges are recorded from the caller's iova in leaf-size steps.
 */
export function armLpaeReadAndClearDirty(
  d: ArmLpaeIoPgtable,
  iova: number,
  size: number,
  flags: number,
  dirty: IommuDirtyBitmap,
): number {
  if (size === 0) {
    d.counters.warn("arm_lpae_read_and_clear_dirty: size 0");
    return EINVAL;
  }
  let end = iova + size;
  let wrapped = false;
  if (end > Number.MAX_SAFE_INTEGER) {
    // unsigned long arithmetic: `iova + size` wraps past 2^64, exactly as in C.
    const e = BigInt(iova) + BigInt(size);
    wrapped = e > U64_MAX_BIG;
    const last = (e - 1n) & U64_MAX_BIG;
    if (last >> BigInt(d.ias) !== 0n) {
      d.counters.warn("arm_lpae_read_and_clear_dirty: range beyond ias");
      return EINVAL;
    }
    end = Number(e & U64_MAX_BIG);
  } else if (end - 1 >= 2 ** d.ias) {
    d.counters.warn("arm_lpae_read_and_clear_dirty: range beyond ias");
    return EINVAL;
  }
  if (d.fmt !== IoPgtableFmt.ARM_64_LPAE_S1) return EINVAL;
  // A wrapped range ends below its start: the walk's `addr < end` fails at once.
  if (wrapped) return 0;
  const walk = { addr: iova, end, clear: !(flags & IOMMU_DIRTY_NO_CLEAR), dirty };
  return walkRange(d, walk, d.pgdWords, d.pgdBase, d.startLevel);
}

interface DirtyWalk {
  addr: number;
  readonly end: number;
  readonly clear: boolean;
  readonly dirty: IommuDirtyBitmap;
}

/** `__arm_lpae_iopte_walk()` over a range, with `visit_dirty` as the visitor. */
function walkRange(
  d: ArmLpaeIoPgtable,
  walk: DirtyWalk,
  words: Uint32Array,
  base: number,
  lvl: number,
): number {
  if (lvl >= ARM_LPAE_MAX_LEVELS) {
    d.counters.warn("__arm_lpae_iopte_walk: ran out of levels");
    return EINVAL;
  }
  const max = d.entriesAt(lvl);
  for (let idx = d.index(Math.floor(walk.addr * INV_4K), lvl); idx < max && walk.addr < walk.end; idx++) {
    const w = base + 2 * idx;
    const lo = words[w]!;
    const hi = words[w + 1]!;
    d.counters.pteReads++;
    const size = d.blockSize[lvl]!;
    const leaf = d.isLeaf(lo, lvl);
    if (leaf && (lo & LO_AP_RDONLY) === 0 && (hi & HI_DBM) !== 0) {
      walk.dirty.record(walk.addr, size);
      if (walk.clear) {
        words[w] = (lo | LO_AP_RDONLY) >>> 0;
        d.counters.pteWrites++;
      }
    }
    if (leaf) {
      walk.addr += size;
      continue;
    }
    if (!d.isTable(lo, lvl)) return EINVAL;
    const next = d.mem.chunk(d.ptePa(lo, hi));
    const ret = next
      ? walkRange(d, walk, next.words, (d.ptePa(lo, hi) - next.pa) / 4, lvl + 1)
      : walkAbsent(walk);
    if (ret) return ret;
  }
  return 0;
}

/** A table in absent memory reads as empty: the first entry visited is invalid. */
function walkAbsent(walk: DirtyWalk): number {
  return walk.addr < walk.end ? EINVAL : 0;
}
