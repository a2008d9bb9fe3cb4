/**
 * drivers/iommu/io-pgtable-dart.c (the multi-level version): the APPLE_DART and APPLE_DART2
 * formats — up to four TTBR tables, then 2 or 3 table levels of one granule each, exactly one
 * page size, leaves only at level 1.
 */
import {
  type Addr,
  ERRNO,
  holeSpanOutside,
  IOMMU_READ,
  IOMMU_WRITE,
  type IommuCounters,
  IommuError,
  type IotlbGather,
  type IovaRange,
  iotlbGatherQueued,
  type MemChunk,
  type PageTableInspector,
  type PhysLength,
  type PhysMem,
  type PhysRunCollector,
  type SizeOut,
  SZ_4K,
  SZ_16K,
  type TableAllocator,
  toBigInt,
} from "@iommu/core";
import {
  type IommuFlushOps,
  type IoPgtable,
  type IoPgtableCfg,
  IoPgtableFmt,
  type IoPgtableInitFns,
  type IoPgtableOps,
} from "../io-pgtable.js";
import { AppleDartInspector } from "./inspect.js";
import {
  APPLE_DART_PTE_SUBPAGE_END_HI,
  APPLE_DART_PTE_VALID,
  appleDartIopteToPaddr,
  appleDartPaddrHi,
  appleDartPaddrLo,
  appleDartProtToPte,
} from "./pte.js";
import { appleDartIovaToPhysRuns } from "./runs.js";

const PAGE = 4096;
// Module-local copies for the hot paths: a local constant folds into the code, an imported
// binding is loaded (and checked for initialisation) from its module cell at every use.
const PTE_VALID = APPLE_DART_PTE_VALID;
const SUBPAGE_END_HI = APPLE_DART_PTE_SUBPAGE_END_HI;
const PROT_RW = IOMMU_READ | IOMMU_WRITE;
/** The IOMMU_* prot bits (READ..PRIV); dart_prot_to_pte looks at READ, WRITE and CACHE. */
const PROT_BITS = 0x3f;
/** Placeholder for the leaf-table registers before the first walk. */
const NO_TABLE = new Uint32Array(0);
/** `DART_MAX_TABLE_BITS`: old 4K-page DARTs have up to 4 TTBRs. */
const DART_MAX_TABLE_BITS = 2;
/** `DART_MAX_LEVELS`, the TTBR level included. */
const DART_MAX_LEVELS = 4;
const EEXIST = -ERRNO.EEXIST;
const EINVAL = -ERRNO.EINVAL;
const ENOMEM = -ERRNO.ENOMEM;
const ERANGE = -ERRNO.ERANGE;

/**
 * Index in `c.words` of the word at `pa`, as an int32 (chunks are far below 2^31 words), so
 * that entry indices built on it stay integers instead of doubles converted at every access.
 */
function wordIndex(c: MemChunk, pa: number): number {
  return ((pa - c.pa) / 4) | 0;
}

/** C `(int)` of a size_t count (`min_t(int, pgcount, max_entries)`). */
function toInt(v: number): number {
  return v <= 0x7fff_ffff ? v : (v % 2 ** 32) | 0;
}

/**
 * `dart_alloc_pgtable`'s geometry (`bits_per_level`, `tbl_bits`, `levels`): the choice, or
 * null where it refuses.
 */
export interface AppleDartGeometry {
  bitsPerLevel: number;
  /** log2 of the number of TTBR tables. */
  tblBits: number;
  /** `data->levels`: table levels + 1 for the TTBR selection (= apple_dart_cfg.n_levels). */
  levels: number;
}

/** `dart_alloc_pgtable`'s level and TTBR arithmetic. */
export function appleDartGeometry(pgsizeBitmap: number, ias: number): AppleDartGeometry | null {
  const maxTblBits = pgsizeBitmap === SZ_4K ? DART_MAX_TABLE_BITS : 0;
  const pgShift = pgsizeBitmap === SZ_4K ? 12 : 14;
  const bpl = pgShift - 3;
  const vaBits = ias - pgShift;
  const levels = Math.max(2, Math.trunc((vaBits - maxTblBits + bpl - 1) / bpl));
  if (levels > DART_MAX_LEVELS - 1) return null;
  const tblBits = Math.max(0, vaBits - bpl * levels);
  if (tblBits > maxTblBits) return null;
  return { bitsPerLevel: bpl, tblBits, levels: levels + 1 };
}

/** `struct dart_io_pgtable`, which is also its own `io_pgtable_ops`. */
export class AppleDartIoPgtable implements IoPgtable, IoPgtableOps {
  cookie: unknown;
  cfg: IoPgtableCfg;
  readonly ops: IoPgtableOps = this;

  /** The single page size (= pgsize_bitmap). */
  readonly pgsize: number;
  readonly bitsPerLevel: number;
  readonly tblBits: number;
  /** `data->levels`: the TTBR level counts as one (apple_dart_cfg.n_levels). */
  readonly levels: number;
  readonly ptesPerTable: number;
  readonly nTtbrs: number;
  /** Physical addresses of the TTBR tables. */
  readonly pgd: readonly number[];
  readonly oas: number;

  private dart2 = false;
  /** Low word of a leaf before its address: `dart_prot_to_pte(prot) | VALID` per `prot & PROT_BITS`. */
  private readonly leafLo = new Uint32Array(PROT_BITS + 1);
  private fmtValue: IoPgtableFmt = IoPgtableFmt.APPLE_DART;
  private readonly mem: PhysMem;
  private readonly allocator: TableAllocator;
  private readonly counters: IommuCounters;
  private readonly tlb: IommuFlushOps | null | undefined;
  private readonly paLimit: number;
  /** Frames spanned by one entry at each level (index = level). */
  private readonly framesPerEntry: number[] = [];
  /** Their reciprocals (exact: the counts are powers of two), to index by multiplying. */
  private readonly entryScale: Float64Array;
  private readonly idxMask: number;
  /** 1 / frames per TTBR table. */
  private readonly ttbrScale: number;
  /**
   * Model-only, for an out-of-range iova_to_phys_length: `dart_get_index` masks the TTBR index
   * to bpl bits, so the table's reach repeats every 2^(levels·bpl + 3 + bpl) bytes (aliasMask =
   * that period − 1); inside one period it translates `[0, n_ttbrs · 2^(levels·bpl + 3) − 1]`.
   */
  private readonly aliasMask: bigint;
  private readonly translatableRanges: readonly IovaRange[];
  private liveTables = 0;
  // Result registers of getLast(): the leaf table, or the level whose entry was empty.
  private lastWords: Uint32Array = NO_TABLE;
  private lastBase = 0;
  private emptyLevel = 0;
  /**
   * Which leaf table lastWords/lastBase hold: `floor(pfn / frames per leaf table)` of the
   * walk that found it, or -1. A later operation in the same span skips the walk (its reads
   * are still counted). Valid because table entries only ever go from empty to a table:
   * tables are freed only with the whole page table.
   */
  private lastKey = -1;
  private inspector: AppleDartInspector | undefined;

  constructor(cfg: IoPgtableCfg, cookie: unknown, geo: AppleDartGeometry, pgd: number[], owned: number) {
    this.cfg = cfg;
    this.cookie = cookie;
    this.pgsize = cfg.pgsizeBitmap;
    this.bitsPerLevel = geo.bitsPerLevel;
    this.tblBits = geo.tblBits;
    this.levels = geo.levels;
    this.ptesPerTable = 2 ** geo.bitsPerLevel;
    this.nTtbrs = 2 ** geo.tblBits;
    this.pgd = pgd;
    this.oas = cfg.oas;
    this.allocator = cfg.allocator;
    this.mem = cfg.allocator.mem;
    this.counters = cfg.counters;
    this.tlb = cfg.tlb;
    this.paLimit = 2 ** cfg.oas;
    this.idxMask = this.ptesPerTable - 1;
    for (let l = 0; l <= geo.levels; l++) this.framesPerEntry.push(2 ** (l * geo.bitsPerLevel + 3 - 12));
    this.entryScale = Float64Array.from(this.framesPerEntry, (f) => 1 / f);
    this.ttbrScale = this.entryScale[geo.levels]!;
    const ttbrShift = BigInt(geo.levels * geo.bitsPerLevel + 3);
    this.aliasMask = (1n << (ttbrShift + BigInt(geo.bitsPerLevel))) - 1n;
    this.translatableRanges = [[0n, (BigInt(this.nTtbrs) << ttbrShift) - 1n]];
    this.liveTables = owned;
    // Through the setter even for the default: it fills the per-format leafLo table.
    this.fmt = cfg.fmt ?? IoPgtableFmt.APPLE_DART;
  }

  /** The format decides the PTE layout; alloc_io_pgtable_ops sets it after alloc, as the kernel does. */
  get fmt(): IoPgtableFmt {
    return this.fmtValue;
  }
  set fmt(v: IoPgtableFmt) {
    this.fmtValue = v;
    this.dart2 = v === IoPgtableFmt.APPLE_DART2;
    for (let p = 0; p <= PROT_BITS; p++) this.leafLo[p] = appleDartProtToPte(p, this.dart2) | PTE_VALID;
  }

  /** True for APPLE_DART2's layout. */
  get isDart2(): boolean {
    return this.dart2;
  }

  /** `dart_get_index(iova, level)` from the iova's 4 KiB frame number. */
  private index(pfn: number, level: number): number {
    return (pfn * this.entryScale[level]!) & this.idxMask;
  }

  /** The {@link lastKey} of the leaf table serving frame `pfn`. */
  private leafTableKey(pfn: number): number {
    return Math.floor(pfn * this.entryScale[2]!);
  }

  /**
   * `dart_map_pages`: allocates missing tables down to level 2, then writes at most up to the
   * end of the leaf table. ias is not checked: any iova with a TTBR index < n_ttbrs maps.
   */
  mapPages(
    iova: Addr,
    paddr: Addr,
    pgsize: number,
    pgcount: number,
    prot: number,
    _gfp: number,
    mapped: SizeOut,
  ): number {
    if (pgsize !== this.pgsize) {
      this.counters.warn("dart_map_pages: WARN_ON(pgsize != cfg->pgsize_bitmap)");
      return EINVAL;
    }
    const pa = typeof paddr === "number" ? paddr : Number(paddr);
    if (pa >= this.paLimit) {
      this.counters.warn("dart_map_pages: WARN_ON(paddr >> cfg->oas)");
      return ERANGE;
    }
    if (!(prot & PROT_RW)) return EINVAL;
    const pfn = typeof iova === "number" ? Math.floor(iova / PAGE) : Number(iova >> 12n);
    const tbl = (pfn * this.ttbrScale) & this.idxMask;
    if (tbl >= this.nTtbrs) return ENOMEM;

    const dart2 = this.dart2;
    const key = this.leafTableKey(pfn);
    if (key === this.lastKey) {
      this.counters.pteReads += this.levels - 2; // the table entries on the way down
    } else {
      let tpa = this.pgd[tbl]!;
      for (let level = this.levels - 1; level > 1; level--) {
        const c = this.tableChunk(tpa);
        const w = wordIndex(c, tpa) + 2 * this.index(pfn, level);
        const words = c.words;
        this.counters.pteReads++;
        if (words[w] === 0 && words[w + 1] === 0) {
          const npa = this.allocator.alloc(this.pgsize);
          if (npa < 0) return ENOMEM;
          this.liveTables++;
          words[w] = appleDartPaddrLo(npa, dart2) | PTE_VALID;
          words[w + 1] = appleDartPaddrHi(npa, dart2);
          this.counters.pteWrites++;
          this.counters.pteReads++; // the re-read after the cmpxchg
        }
        tpa = appleDartIopteToPaddr(words[w]!, words[w + 1]!, dart2);
      }
      const c = this.tableChunk(tpa);
      this.lastWords = c.words;
      this.lastBase = wordIndex(c, tpa);
      this.lastKey = key;
    }

    const words = this.lastWords;
    const idx = this.index(pfn, 1);
    const n = Math.min(toInt(pgcount), this.ptesPerTable - idx);
    const w = this.lastBase + 2 * idx;
    for (let i = 0; i < n; i++) {
      if (words[w + 2 * i]! & PTE_VALID) {
        this.counters.pteReads += i + 1;
        this.counters.warn("dart_init_pte: WARN_ON(ptep[i] & APPLE_DART_PTE_VALID): -EEXIST");
        return EEXIST;
      }
    }
    if (n > 0) this.counters.pteReads += n;
    const lo = this.leafLo[prot & PROT_BITS]!;
    for (let i = 0; i < n; i++) {
      const p = pa + i * pgsize;
      words[w + 2 * i] = lo | appleDartPaddrLo(p, dart2);
      words[w + 2 * i + 1] = SUBPAGE_END_HI | appleDartPaddrHi(p, dart2);
    }
    if (n > 0) this.counters.pteWrites += n;
    mapped.value += n * pgsize;
    return 0;
  }

  /**
   * `dart_unmap_pages`: clears entries in order, stopping at the first empty one (WARN) or the
   * end of the leaf table. Tables are never freed here.
   */
  unmapPages(iova: Addr, pgsize: number, pgcount: number, gather: IotlbGather | null): number {
    if (pgsize !== this.pgsize || !pgcount) {
      this.counters.warn("dart_unmap_pages: WARN_ON(pgsize != cfg->pgsize_bitmap || !pgcount)");
      return 0;
    }
    const pfn = typeof iova === "number" ? Math.floor(iova / PAGE) : Number(iova >> 12n);
    if (!this.getLast(pfn)) {
      this.counters.warn("dart_unmap_pages: WARN_ON(!ptep)");
      return 0;
    }
    const words = this.lastWords;
    const idx = this.index(pfn, 1);
    const w = this.lastBase + 2 * idx;
    const n = Math.min(toInt(pgcount), this.ptesPerTable - idx);
    const iv = typeof iova === "number" ? iova : Number(iova);
    const queued = iotlbGatherQueued(gather);
    let i = 0;
    while (i < n) {
      this.counters.pteReads++;
      if (words[w + 2 * i] === 0 && words[w + 2 * i + 1] === 0) {
        this.counters.warn("dart_unmap_pages: WARN_ON(!pte)");
        break;
      }
      words[w + 2 * i] = 0;
      words[w + 2 * i + 1] = 0;
      this.counters.pteWrites++;
      if (!queued) this.tlb?.tlbAddPage?.(gather, iv + i * pgsize, pgsize, this.cookie);
      i++;
    }
    return i * pgsize;
  }

  /**
   * `iopte_to_paddr(pte) | (iova & (pgsize - 1))`. An OR, not a sum: DART1 keeps PA bits 13:12
   * of a 16K page, and they merge with the iova's offset bits. The remainders by powers of two
   * are masks (exact for integers; `%` past int32 would be a floating-point remainder).
   */
  private physOf(lo: number, hi: number, pfn: number, off: number): number {
    const base = appleDartIopteToPaddr(lo, hi, this.dart2);
    const low = base & (this.pgsize - 1);
    return base - low + (low | ((pfn & (this.pgsize / PAGE - 1)) * PAGE + off));
  }

  /**
   * iova_to_phys_length: mapped → the page size; an empty table entry at level l → its span
   * 2^(l·bpl + 3); a TTBR index beyond n_ttbrs → outside the table: the largest naturally
   * aligned block around it that no TTBR reaches (`holeSpanOutside` within the alias period,
   * which is aligned, so the block is the same for every alias).
   */
  iovaToPhysLength(iova: Addr, out: PhysLength): void {
    const pfn = typeof iova === "number" ? Math.floor(iova / PAGE) : Number(iova >> 12n);
    if (!this.getLast(pfn)) {
      out.setUnmapped(
        this.emptyLevel
          ? this.framesPerEntry[this.emptyLevel]! * PAGE
          : holeSpanOutside(toBigInt(iova) & this.aliasMask, this.translatableRanges),
      );
      return;
    }
    const w = this.lastBase + 2 * this.index(pfn, 1);
    const lo = this.lastWords[w]!;
    const hi = this.lastWords[w + 1]!;
    this.counters.pteReads++;
    if (lo === 0 && hi === 0) {
      out.setUnmapped(this.pgsize);
      return;
    }
    const phys = this.physOf(lo, hi, pfn, typeof iova === "number" ? iova & 0xfff : Number(iova & 0xfffn));
    out.setMapped(Math.floor(phys / PAGE), phys & 0xfff, this.pgsize);
  }

  /** Model-only (issue 17): the one-descent range walk of runs.ts. */
  iovaToPhysRuns(runs: PhysRunCollector): void {
    appleDartIovaToPhysRuns(this, runs);
  }

  /**
   * `dart_get_last`: the leaf table for an iova (into lastWords/lastBase), or false with
   * emptyLevel = the level whose entry was zero (0 when the TTBR index is out of range).
   */
  private getLast(pfn: number): boolean {
    this.emptyLevel = 0;
    const key = this.leafTableKey(pfn);
    if (key === this.lastKey) {
      this.counters.pteReads += this.levels - 2; // the table entries on the way down
      return true;
    }
    const tbl = (pfn * this.ttbrScale) & this.idxMask;
    if (tbl >= this.nTtbrs) return false;
    let tpa = this.pgd[tbl]!;
    for (let level = this.levels - 1; level > 1; level--) {
      const c = this.mem.chunk(tpa);
      const w = c ? wordIndex(c, tpa) + 2 * this.index(pfn, level) : 0;
      this.counters.pteReads++;
      const lo = c ? c.words[w]! : 0;
      const hi = c ? c.words[w + 1]! : 0;
      if (lo === 0 && hi === 0) {
        this.emptyLevel = level;
        return false;
      }
      tpa = appleDartIopteToPaddr(lo, hi, this.dart2);
    }
    const c = this.mem.chunk(tpa);
    if (!c) {
      // A dangling pointer in an adopted image: nothing is mapped below it.
      this.emptyLevel = 2;
      return false;
    }
    this.lastWords = c.words;
    this.lastBase = wordIndex(c, tpa);
    this.lastKey = key;
    return true;
  }

  /** Low word of the non-zero leaf for `iova`, or undefined (inspection: not counted). */
  leafLowWord(iova: Addr): number | undefined {
    const pfn = typeof iova === "number" ? Math.floor(iova / PAGE) : Number(iova >> 12n);
    const reads = this.counters.pteReads;
    const found = this.getLast(pfn);
    this.counters.pteReads = reads;
    if (!found) return undefined;
    const w = this.lastBase + 2 * this.index(pfn, 1);
    const lo = this.lastWords[w]!;
    return lo === 0 && this.lastWords[w + 1] === 0 ? undefined : lo;
  }

  private tableChunk(pa: number): MemChunk {
    const c = this.mem.chunk(pa);
    if (!c) throw new IommuError("EFAULT", "io-pgtable-dart", { pa }, "table pointer to absent memory");
    return c;
  }

  /**
   * Forget the remembered leaf table. Needed only by code that replaces table memory behind
   * the format's back (e.g. `PhysMem.importRange` over live tables), as for ARM LPAE.
   */
  invalidateCache(): void {
    this.lastKey = -1;
  }

  /** `apple_dart_free_pgtable`: every table reachable from the TTBRs (adopted ones are left alone). */
  free(): void {
    this.invalidateCache();
    for (const t of this.pgd) this.freeTables(t, this.levels - 1);
  }

  private freeTables(tpa: number, level: number): void {
    if (level > 1) {
      const c = this.mem.chunk(tpa);
      if (c) {
        const base = (tpa - c.pa) / 4;
        for (let i = 0; i < this.ptesPerTable; i++) {
          const lo = c.words[base + 2 * i]!;
          const hi = c.words[base + 2 * i + 1]!;
          if (lo !== 0 || hi !== 0) this.freeTables(appleDartIopteToPaddr(lo, hi, this.dart2), level - 1);
        }
      }
    }
    if (this.allocator.sizeOf(tpa)) {
      this.allocator.release(tpa);
      this.liveTables--;
    }
  }

  /** Model-only: this table's inspector (geometry, walk, every entry decoded; counts nothing). */
  inspect(): PageTableInspector {
    this.inspector ??= new AppleDartInspector(this);
    return this.inspector;
  }

  /** Table pages live (one block each). */
  get tablesLive(): number {
    return this.liveTables;
  }

  /** Their bytes: one granule block each. */
  get tableBytesLive(): number {
    return this.liveTables * Math.max(this.pgsize, PAGE);
  }
}

/**
 * `apple_dart_alloc_pgtable`: coherent walk only, oas 36 or 42, ias ≤ oas, exactly one page
 * size of 4K or 16K. Quirks are ignored. The TTBR tables are allocated first, in order (or
 * adopted: `cfg.existingRoot` names n_ttbrs consecutive granules).
 */
export function appleDartAllocPgtable(cfg: IoPgtableCfg, cookie: unknown): AppleDartIoPgtable | null {
  if (!cfg.coherentWalk) return null;
  if (cfg.oas !== 36 && cfg.oas !== 42) return null;
  if (cfg.ias > cfg.oas) return null;
  if (cfg.pgsizeBitmap !== SZ_4K && cfg.pgsizeBitmap !== SZ_16K) return null;
  const geo = appleDartGeometry(cfg.pgsizeBitmap, cfg.ias);
  if (!geo) return null;
  const nTtbrs = 2 ** geo.tblBits;
  const granule = cfg.pgsizeBitmap;
  const existing = cfg.existingRoot;
  const pgd: number[] = [];
  let owned = 0;
  for (let i = 0; i < nTtbrs; i++) {
    if (existing !== undefined) {
      pgd.push(existing + i * granule);
      continue;
    }
    const pa = cfg.allocator.alloc(granule);
    if (pa < 0) {
      for (const p of pgd) cfg.allocator.release(p);
      return null;
    }
    pgd.push(pa);
    owned++;
  }
  cfg.appleDartCfg = { ttbr: pgd.slice(), nTtbrs, nLevels: geo.levels };
  return new AppleDartIoPgtable({ ...cfg }, cookie, geo, pgd, owned);
}

/** `io_pgtable_apple_dart_init_fns`, shared by APPLE_DART and APPLE_DART2. */
export const appleDartInitFns: IoPgtableInitFns = {
  alloc: appleDartAllocPgtable,
  free(iop: IoPgtable): void {
    (iop as AppleDartIoPgtable).free();
  },
  caps: 0,
};
