/**
 * drivers/iommu/io-pgtable-arm.c: `struct arm_lpae_io_pgtable`, its geometry macros
 * (`ARM_LPAE_LVL_SHIFT`, `ARM_LPAE_BLOCK_SIZE`, `ARM_LPAE_LVL_IDX`, …), the entry tests
 * and the table free.
 */
import { type IommuCounters, type IovaRange, type PhysMem, SZ_64K, type TableAllocator } from "@iommu/core";
import {
  IO_PGTABLE_QUIRK_ARM_NS,
  IO_PGTABLE_QUIRK_ARM_TTBR1,
  IO_PGTABLE_QUIRK_NO_WARN,
  type IommuFlushOps,
  type IoPgtable,
  type IoPgtableCfg,
  IoPgtableFmt,
  type IoPgtableOps,
} from "../io-pgtable.js";
import { ARM_LPAE_MAX_LEVELS, HI_NSTABLE, PTE_TYPE_BLOCK, PTE_TYPE_PAGE } from "./constants.js";
import { PROT_BITS, protToPteHi, protToPteLo } from "./prot.js";

const TWO20 = 2 ** 20;
const TWO32 = 2 ** 32;
const TWO52 = 2 ** 52;
// Hot paths use local constants rather than imported bindings.
const LAST_LEVEL = 3;

/**
 * Model-only: stands in for table memory that is not there (a descriptor in an adopted image pointing
 * at nothing): reads as empty, like PhysMem. Large enough for one 64K-granule table.
 */
export const ABSENT_TABLE: Uint32Array = new Uint32Array(0x10000 / 4);

/**
 * `struct arm_lpae_io_pgtable`: one LPAE page table (any of the five formats) and the state
 * its operations share. Geometry follows the kernel: levels are numbered 0 (top) to 3, the
 * walk starts at `startLevel`, and the top-level table (pgd) has `2^pgdBits` entries.
 *
 * Hot paths work on 4 KiB frame numbers (`pfn`, < 2^52, exact as doubles) and on the two
 * 32-bit halves of each descriptor, read straight out of the table's {@link PhysMem} chunk.
 * A one-entry cache per level remembers the last table resolved there, so a run of
 * neighbouring operations resolves no chunk at all.
 */
export class ArmLpaeIoPgtable implements IoPgtable {
  fmt: IoPgtableFmt;
  cookie: unknown;
  cfg: IoPgtableCfg;
  /** Filled by the format's alloc once the pgd exists. */
  ops!: IoPgtableOps;

  readonly bitsPerLevel: number;
  startLevel: number;
  pgdBits: number;
  /** `ARM_LPAE_GRANULE`: the size of one non-top table and of the smallest page. */
  readonly granule: number;
  readonly ptesPerTable: number;
  /** Physical address of the pgd; -1 until allocated or adopted. */
  pgdPa = -1;
  /** Whether the pgd was taken over from `cfg.existingRoot` rather than allocated. */
  adopted = false;
  pgdWords: Uint32Array = ABSENT_TABLE;
  pgdBase = 0;

  // Configuration as the format left it (cfg is copied by allocIoPgtableOps afterwards).
  readonly quirks: number;
  readonly ias: number;
  readonly oas: number;
  readonly pgsizeBitmap: number;
  /** Low 31 bits of the bitmap, for the common small-pgsize check. */
  readonly bitmapLow: number;
  readonly coherent: boolean;
  readonly noWarn: boolean;
  readonly ttbr1: boolean;
  readonly isMali: boolean;
  readonly tlb: IommuFlushOps | null;
  readonly counters: IommuCounters;
  readonly allocator: TableAllocator;
  readonly mem: PhysMem;
  /** Table descriptor attribute bits (NSTABLE under ARM_NS), high word. */
  readonly tableHi: number;
  /** 64K granule: descriptor bits 15:12 hold PA bits 51:48 (`iopte_to_paddr`). */
  readonly foldsHighPa: boolean;

  /** Per level 0..4: `ARM_LPAE_BLOCK_SIZE`, the same in 4 KiB frames, 2^-(shift-12), index mask. */
  readonly blockSize = new Float64Array(ARM_LPAE_MAX_LEVELS + 1);
  readonly blockPfns = new Float64Array(ARM_LPAE_MAX_LEVELS + 1);
  readonly pfnScale = new Float64Array(ARM_LPAE_MAX_LEVELS + 1);
  readonly idxMask = new Int32Array(ARM_LPAE_MAX_LEVELS + 1);
  /** Level (≥ startLevel) whose block is 2^k bytes, by k < 31; -1 where there is none. */
  readonly levelOfShift = new Int8Array(31).fill(-1);
  /** Descriptor type that makes a leaf at each level (3 = page at level 3, else 1 = block; Mali: always 1). */
  readonly leafType = new Int32Array(ARM_LPAE_MAX_LEVELS + 1);
  /** Attribute words of a leaf for each value of `prot & 0x3f`. */
  readonly protLo = new Uint32Array(PROT_BITS + 1);
  readonly protHi = new Uint32Array(PROT_BITS + 1);

  /** Range checks of map/unmap in frames: `iova >> ias` (sign-extended for TTBR1) and `paddr >> oas`. */
  iasFrames = 0;
  oasFrames = 0;
  /** No TTBR1 and ias, oas ≥ 12: both range checks are a frame-number comparison. */
  simpleRanges = false;
  /** Number IOVAs below this are inside the table (no TTBR1, ias ≥ 12: 2^ias; else 0): the lookup's fast path. */
  lookupLimit = 0;
  /**
   * The page size the single-page fast paths of map and unmap take: the granule (a last-level
   * leaf) when it is in pgsize_bitmap, the range checks are simple, the walk is coherent and the
   * table starts above its last level; 0 otherwise (every call goes the full way).
   */
  leafSize = 0;
  /** The entries a walk to a last-level leaf reads, cached levels included (4 − start level). */
  leafReads = 0;
  /**
   * With {@link leafSize}: output frames the fast map takes, min(2^(oas − 12), 2^36): below 2^36
   * (PA below 2^48) no PA bits fold into descriptor bits 15:12.
   */
  leafOasFrames = 0;
  /**
   * Model-only: the IOVAs the table translates (the IAS check): `[0, 2^ias − 1]`, or
   * `[2^64 − 2^ias, 2^64 − 1]` with TTBR1. Set once by {@link finishGeometry}; only an
   * out-of-range iova_to_phys_length reads it (`holeSpanOutside`).
   */
  translatableRanges: readonly IovaRange[] = [];

  // One-entry table cache per level: PA → words + word index of entry 0.
  private readonly cachePa = new Float64Array(ARM_LPAE_MAX_LEVELS + 2).fill(-1);
  private readonly cacheWords: Uint32Array[] = [];
  private readonly cacheBase = new Int32Array(ARM_LPAE_MAX_LEVELS + 2);
  /** Words of the table the last {@link resolve} returned the base of. */
  rw: Uint32Array = ABSENT_TABLE;

  /**
   * Walk cache, one slot per level l: the table at level l that serves the naturally
   * aligned region `walkKey[l]` (= iova frame / frames per level-(l-1) entry). A hit lets an
   * operation start at level l instead of the top; the entries skipped are still counted
   * in pteReads, so the counters match the kernel's walk. Valid because entries on a
   * cached path are table descriptors, which change only when a table is freed (and that
   * clears the cache). Code that edits live tables behind the format's back must call
   * {@link invalidateCache}.
   */
  readonly walkKey = new Float64Array(ARM_LPAE_MAX_LEVELS + 1).fill(-1);
  readonly walkWords: Uint32Array[] = [];
  readonly walkBase = new Int32Array(ARM_LPAE_MAX_LEVELS + 1);

  // Result of the last single-address walk (visit_iova_to_phys). The words are u32 (bit 31 set
  // by table addresses ≥ 2 GiB, NS/NSTABLE…): they start as doubles, see the constructor.
  walkLo = 0;
  walkHi = 0;
  walkLevel = 0;

  constructor(
    cfg: IoPgtableCfg,
    fmt: IoPgtableFmt,
    cookie: unknown,
    bitsPerLevel: number,
    startLevel: number,
    pgdBits: number,
  ) {
    // Fields that may hold a double (an address ≥ 2^31, a u32 word with bit 31 set, a frame
    // count) get one first, so the object's hidden class never changes once ops are
    // optimised: a change then would deoptimise every op mid-pass (hidden-class.test.ts).
    this.pgdPa = this.walkLo = this.walkHi = this.iasFrames = this.oasFrames = this.lookupLimit = 0.5;
    this.leafOasFrames = 0.5;
    this.pgdPa = -1;
    this.walkLo = this.walkHi = this.iasFrames = this.oasFrames = this.lookupLimit = this.leafOasFrames = 0;
    this.fmt = fmt;
    this.cookie = cookie;
    this.cfg = cfg;
    this.bitsPerLevel = bitsPerLevel;
    this.startLevel = startLevel;
    this.pgdBits = pgdBits;
    this.granule = 8 * 2 ** bitsPerLevel;
    this.ptesPerTable = 2 ** bitsPerLevel;
    this.foldsHighPa = this.granule >= SZ_64K;
    this.quirks = cfg.quirks;
    this.ias = cfg.ias;
    this.oas = cfg.oas;
    this.pgsizeBitmap = cfg.pgsizeBitmap;
    this.bitmapLow = cfg.pgsizeBitmap % 2 ** 31;
    this.coherent = cfg.coherentWalk;
    this.noWarn = (cfg.quirks & IO_PGTABLE_QUIRK_NO_WARN) !== 0;
    this.ttbr1 = (cfg.quirks & IO_PGTABLE_QUIRK_ARM_TTBR1) !== 0;
    this.isMali = fmt === IoPgtableFmt.ARM_MALI_LPAE;
    this.tlb = cfg.tlb ?? null;
    this.counters = cfg.counters;
    this.allocator = cfg.allocator;
    this.mem = cfg.allocator.mem;
    this.tableHi = cfg.quirks & IO_PGTABLE_QUIRK_ARM_NS ? HI_NSTABLE : 0;
    for (let p = 0; p <= PROT_BITS; p++) {
      this.protLo[p] = protToPteLo(fmt, cfg.quirks, p);
      this.protHi[p] = protToPteHi(fmt, cfg.quirks, p);
    }
    for (let l = 0; l <= ARM_LPAE_MAX_LEVELS; l++) {
      this.cacheWords.push(ABSENT_TABLE);
      this.walkWords.push(ABSENT_TABLE);
      this.leafType[l] = l === ARM_LPAE_MAX_LEVELS - 1 && !this.isMali ? PTE_TYPE_PAGE : PTE_TYPE_BLOCK;
    }
  }

  /** `ARM_LPAE_PGD_SIZE` */
  get pgdSize(): number {
    return 8 * 2 ** this.pgdBits;
  }

  /** `ARM_LPAE_LVL_SHIFT(l)` */
  levelShift(lvl: number): number {
    return (ARM_LPAE_MAX_LEVELS - lvl) * this.bitsPerLevel + 3;
  }

  /** Entries in the table at `lvl` (the pgd's count at the start level). */
  entriesAt(lvl: number): number {
    return lvl === this.startLevel ? 2 ** this.pgdBits : this.ptesPerTable;
  }

  /** Freeze the geometry once the format has settled start level and pgd size. */
  finishGeometry(): void {
    for (let l = 0; l <= ARM_LPAE_MAX_LEVELS; l++) {
      const shift = this.levelShift(l);
      this.blockSize[l] = 2 ** shift;
      this.blockPfns[l] = 2 ** (shift - 12);
      this.pfnScale[l] = 2 ** (12 - shift);
      // ARM_LPAE_PGD_IDX can be negative (a pgd narrower than a table): it narrows the mask.
      const width = this.bitsPerLevel + (l === this.startLevel ? this.pgdBits - this.bitsPerLevel : 0);
      this.idxMask[l] = width <= 0 ? 0 : 2 ** width - 1;
    }
    this.levelOfShift.fill(-1);
    for (let l = this.startLevel; l <= LAST_LEVEL; l++) {
      const shift = this.levelShift(l);
      if (shift < 31) this.levelOfShift[shift] = l;
    }
    this.iasFrames = 2 ** (this.ias - 12);
    this.oasFrames = 2 ** (this.oas - 12);
    this.simpleRanges = !this.ttbr1 && this.ias >= 12 && this.oas >= 12;
    this.lookupLimit =
      !this.ttbr1 && this.ias >= 12 && this.startLevel < ARM_LPAE_MAX_LEVELS ? 2 ** this.ias : 0;
    this.leafSize =
      this.simpleRanges &&
      this.coherent &&
      this.startLevel < LAST_LEVEL &&
      (this.granule & this.bitmapLow) === this.granule
        ? this.granule
        : 0;
    this.leafReads = LAST_LEVEL + 1 - this.startLevel;
    this.leafOasFrames = Math.min(this.oasFrames, 2 ** 36);
    const span = 1n << BigInt(this.ias);
    this.translatableRanges = this.ttbr1 ? [[(1n << 64n) - span, (1n << 64n) - 1n]] : [[0n, span - 1n]];
  }

  /**
   * The level (≥ startLevel) whose block size is `pgsize`, or -1: where map/unmap of that
   * size will act, if anywhere.
   */
  levelOfSize(pgsize: number): number {
    if (pgsize > 0 && pgsize <= 0x7fffffff) {
      // Only a power of two can be a block size: look its log2 up, then confirm.
      const l = this.levelOfShift[31 - Math.clz32(pgsize)]!;
      return l >= 0 && this.blockSize[l] === pgsize ? l : -1;
    }
    for (let l = LAST_LEVEL; l >= this.startLevel; l--) if (this.blockSize[l] === pgsize) return l;
    return -1;
  }

  /**
   * Where the single-page fast paths of map, unmap and lookup start: when the walk cache holds
   * the last-level table of frame `pfn`, the word index of `pfn`'s entry in
   * `walkWords[LAST_LEVEL]`; otherwise -1.
   */
  cachedLeafSlot(pfn: number): number {
    if (this.walkKey[LAST_LEVEL] !== Math.floor(pfn * this.pfnScale[LAST_LEVEL - 1]!)) return -1;
    return (
      this.walkBase[LAST_LEVEL]! +
      2 * (Math.floor(pfn * this.pfnScale[LAST_LEVEL]!) & this.idxMask[LAST_LEVEL]!)
    );
  }

  /** Remember that the table at level `lvl` (words/base) serves the region of frame `pfn`. */
  rememberWalk(lvl: number, pfn: number, words: Uint32Array, base: number): void {
    this.walkKey[lvl] = Math.floor(pfn * this.pfnScale[lvl - 1]!);
    this.walkWords[lvl] = words;
    this.walkBase[lvl] = base;
  }

  /** `ARM_LPAE_LVL_IDX` for the address whose 4 KiB frame is `pfn`. */
  index(pfn: number, lvl: number): number {
    return Math.floor(pfn * this.pfnScale[lvl]!) & this.idxMask[lvl]!;
  }

  /** `iopte_leaf()` on the low word of a descriptor. */
  isLeaf(lo: number, lvl: number): boolean {
    return (lo & 3) === this.leafType[lvl];
  }

  /** `iopte_table()` */
  isTable(lo: number, lvl: number): boolean {
    return lvl !== LAST_LEVEL && (lo & 3) === 3;
  }

  /** `pgsize && (pgsize & pgsize_bitmap) == pgsize`, on 64-bit values held as numbers. */
  pgsizeOk(pgsize: number): boolean {
    if (pgsize > 0 && pgsize <= 0x7fffffff) return (pgsize & this.bitmapLow) === pgsize;
    if (!(pgsize > 0) || !Number.isInteger(pgsize) || pgsize >= 2 ** 64) return false;
    const bh = Math.floor(this.pgsizeBitmap / TWO32);
    const ph = Math.floor(pgsize / TWO32);
    const bl = this.pgsizeBitmap - bh * TWO32;
    const pl = pgsize - ph * TWO32;
    return (ph & bh) >>> 0 === ph && (pl & bl) >>> 0 === pl;
  }

  /**
   * The IAS check of map/unmap: `(s64)iova >> ias` must be 0, or all ones with TTBR1 (the
   * upper half of the address space). In frames: iova < 2^ias, resp. iova ≥ 2^64 − 2^ias.
   */
  iovaInRange(pfn: number, off: number): boolean {
    if (this.ias >= 12) return this.ttbr1 ? pfn >= TWO52 - this.iasFrames : pfn < this.iasFrames;
    const lim = 2 ** this.ias;
    return this.ttbr1 ? pfn === TWO52 - 1 && off >= 4096 - lim : pfn === 0 && off < lim;
  }

  /** `paddr >> oas == 0` */
  paddrInRange(pfn: number, off: number): boolean {
    return this.oas >= 12 ? pfn < this.oasFrames : pfn === 0 && off < 2 ** this.oas;
  }

  /**
   * `iopte_to_paddr()` as a 4 KiB frame number. With a 64K granule, descriptor bits 15:12
   * hold PA bits 51:48.
   */
  ptePfn(lo: number, hi: number): number {
    if (!this.foldsHighPa) return (hi & 0xffff) * TWO20 + (lo >>> 12);
    return ((hi & 0xffff) + ((lo >>> 12) & 0xf) * 0x10000) * TWO20 + ((lo >>> 12) & 0xffff0);
  }

  /** Physical address of the table a descriptor points to. */
  ptePa(lo: number, hi: number): number {
    return this.ptePfn(lo, hi) * 4096;
  }

  /**
   * Words of the table at `pa` (for level `lvl`'s cache slot) and the word index of its
   * entry 0: returns the index, leaves the array in {@link rw}. The index is made an int32
   * (`| 0`: chunks are far below 2^31 words) so that the entry arithmetic built on it stays
   * in integer registers instead of converting a double at every array access.
   */
  resolve(lvl: number, pa: number): number {
    if (this.cachePa[lvl] === pa) {
      this.rw = this.cacheWords[lvl]!;
      return this.cacheBase[lvl]!;
    }
    const c = this.mem.chunk(pa);
    let words = ABSENT_TABLE;
    let base = 0;
    if (c) {
      words = c.words;
      base = ((pa - c.pa) / 4) | 0;
      this.cachePa[lvl] = pa;
      this.cacheWords[lvl] = words;
      this.cacheBase[lvl] = base;
    }
    this.rw = words;
    return base;
  }

  /** Forget cached table lookups: a table was freed and its PA may come back as new memory. */
  invalidateCache(): void {
    this.cachePa.fill(-1);
    this.walkKey.fill(-1);
  }

  /** Kernel WARN unless IO_PGTABLE_QUIRK_NO_WARN (`WARN_ON(!(quirks & NO_WARN))`). */
  warnUnlessNoWarn(msg: string): void {
    if (!this.noWarn) this.counters.warn(msg);
  }

  /**
   * `__arm_lpae_sync_pte()`: make `n` entries visible to a non-coherent walker. The model's
   * memory has no caches, so there is nothing to do; callers keep the kernel's call sites.
   */
  syncPte(_words: Uint32Array, _w: number, _n: number): void {}

  /** Release a table block, if it came from the allocator (adopted image tables did not). */
  freePages(pa: number): void {
    this.invalidateCache();
    if (this.allocator.sizeOf(pa) !== 0) this.allocator.release(pa);
  }

  /** `__arm_lpae_free_pgtable()`: free the table at `pa` (level `lvl`) and every table below it. */
  freePgtable(lvl: number, pa: number): void {
    // Only levels that can hold tables are scanned; past level 3 there is nothing sane to follow.
    if (lvl < ARM_LPAE_MAX_LEVELS - 1) {
      const c = this.mem.chunk(pa);
      if (c) {
        const words = c.words;
        const base = (pa - c.pa) / 4;
        const n = (lvl === this.startLevel ? this.pgdSize : this.granule) / 8;
        for (let i = 0; i < n; i++) {
          const lo = words[base + 2 * i]!;
          const hi = words[base + 2 * i + 1]!;
          this.counters.pteReads++;
          if ((lo === 0 && hi === 0) || this.isLeaf(lo, lvl)) continue;
          this.freePgtable(lvl + 1, this.ptePa(lo, hi));
        }
      }
    }
    this.freePages(pa);
  }
}

/** Model-only: 64-bit OR of two frame numbers below 2^52. */
export function orPfn(a: number, b: number): number {
  const ah = Math.floor(a / TWO32);
  const bh = Math.floor(b / TWO32);
  return ((ah | bh) >>> 0) * TWO32 + (((a - ah * TWO32) | (b - bh * TWO32)) >>> 0);
}
