/**
 * drivers/iommu/io-pgtable-arm-v7s.c: the ARM_V7S format — map_pages, unmap_pages,
 * iova_to_phys and the new iova_to_phys_length over simulated memory, with the kernel's
 * WARNs, errnos and table lifetime rules.
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
  type PageTableInspector,
  type PhysLength,
  type PhysMem,
  type PhysRunCollector,
  type SizeOut,
  type TableAllocator,
} from "@iommu/core";
import {
  IO_PGTABLE_QUIRK_ARM_MTK_EXT,
  IO_PGTABLE_QUIRK_ARM_MTK_TTBR_EXT,
  IO_PGTABLE_QUIRK_ARM_NS,
  IO_PGTABLE_QUIRK_NO_PERMS,
  type IommuFlushOps,
  type IoPgtable,
  type IoPgtableCfg,
  IoPgtableFmt,
  type IoPgtableInitFns,
  type IoPgtableOps,
} from "../io-pgtable.js";
import {
  ARM_V7S_ADDR_BITS,
  ARM_V7S_ATTR_NS_TABLE,
  ARM_V7S_L1_BLOCK,
  ARM_V7S_L1_SHIFT,
  ARM_V7S_L2_BLOCK,
  ARM_V7S_MTK_IAS_MAX,
  ARM_V7S_MTK_OAS_MAX,
  ARM_V7S_PGSIZES,
  ARM_V7S_PRRR_DS0,
  ARM_V7S_PRRR_DS1,
  ARM_V7S_PRRR_NS1,
  ARM_V7S_PRRR_TYPE_DEVICE,
  ARM_V7S_PRRR_TYPE_NORMAL,
  ARM_V7S_PTE_TYPE_TABLE,
  ARM_V7S_RGN_NC,
  ARM_V7S_RGN_WBWA,
  ARM_V7S_TABLE_MASK,
  ARM_V7S_TTBR_NOS,
  ARM_V7S_TTBR_S,
  armV7sNmrrIr,
  armV7sNmrrOr,
  armV7sPrrrNos,
  armV7sPrrrTr,
  armV7sTtbrIrgn,
  armV7sTtbrOrgn,
} from "./defs.js";
import { ArmV7sInspector } from "./inspect.js";
import { ArmV7sL2Slab } from "./l2-slab.js";
import {
  armV7sIopteToPaddr,
  armV7sPaddrToIopte,
  armV7sProtToPte,
  armV7sPteIsCont,
  armV7sPteToCont,
  armV7sToMtkIopte,
} from "./pte.js";
import { armV7sIovaToPhysRuns } from "./runs.js";
import type { ArmV7sSelftestState } from "./selftest.js";

const TWO32 = 2 ** 32;
const PAGE = 4096;
// Module-local copies for the hot paths: a local constant folds into the code, an imported
// binding is loaded from its module cell at every use.
const L1_BLOCK = ARM_V7S_L1_BLOCK;
const L2_BLOCK = ARM_V7S_L2_BLOCK;
const TYPE_TABLE = ARM_V7S_PTE_TYPE_TABLE;
const TABLE_MASK = ARM_V7S_TABLE_MASK;
/** The IOMMU_* prot bits arm_v7s_prot_to_pte looks at (READ..PRIV). */
const PROT_BITS = 0x3f;
/** Placeholder for {@link ArmV7sIoPgtable}'s L2 cache before the first table is resolved. */
const NO_TABLE = new Uint32Array(0);
const EEXIST = -ERRNO.EEXIST;
const EINVAL = -ERRNO.EINVAL;
const ENOMEM = -ERRNO.ENOMEM;
const ERANGE = -ERRNO.ERANGE;
const QUIRKS_ALLOWED =
  IO_PGTABLE_QUIRK_ARM_NS |
  IO_PGTABLE_QUIRK_NO_PERMS |
  IO_PGTABLE_QUIRK_ARM_MTK_EXT |
  IO_PGTABLE_QUIRK_ARM_MTK_TTBR_EXT;
const WARN_PARTIAL = "Unmap of a partial large IOPTE is not allowed";

/**
 * Split an Addr into a 4 KiB frame number and offset (bigints only off the hot path). The
 * offset is taken with `&`, exact for any integer (ToInt32 keeps the low bits), where `%`
 * on a value past int32 would be a slow floating-point remainder.
 */
function pfnOfAddr(a: Addr): number {
  return typeof a === "number" ? Math.floor(a / PAGE) : Number(a >> 12n);
}
function offOfAddr(a: Addr): number {
  return typeof a === "number" ? a & 0xfff : Number(a & 0xfffn);
}

/** `struct arm_v7s_io_pgtable`, which is also its own `io_pgtable_ops`. */
export class ArmV7sIoPgtable implements IoPgtable, IoPgtableOps {
  fmt: IoPgtableFmt = IoPgtableFmt.ARM_V7S;
  cookie: unknown;
  cfg: IoPgtableCfg;
  readonly ops: IoPgtableOps = this;

  readonly quirks: number;
  readonly ias: number;
  readonly oas: number;
  /** `arm_v7s_is_mtk_enabled()` (this model always has a 64-bit phys_addr_t). */
  readonly mtk: boolean;
  /** 2^(ias − 20): L1 entries. */
  readonly l1Entries: number;
  /** Physical address of the L1 table (the `pgd`). */
  readonly pgd: number;
  /** Bytes of the block holding the L1 table (0 for an adopted table). */
  readonly pgdBlockBytes: number;
  /** The L2 table cache. */
  readonly l2Slab: ArmV7sL2Slab;

  private readonly l1Mask: number;
  private readonly l1: Uint32Array;
  private readonly l1Base: number;
  private readonly mem: PhysMem;
  private readonly allocator: TableAllocator;
  private readonly counters: IommuCounters;
  private readonly tlb: IommuFlushOps | null | undefined;
  private readonly iovaLimit: number;
  private readonly paLimit: number;
  /** Model-only: the IOVAs the table translates, `[0, 2^ias − 1]` (for `holeSpanOutside`). */
  private readonly translatableRanges: readonly IovaRange[];
  /**
   * The file's `selftest_running` flag, as the selftest run that owns this table holds it
   * (null for every other table): while it is set, mapping over a live entry returns
   * -EEXIST without the WARN (the selftest provokes it on purpose).
   */
  selftestState: ArmV7sSelftestState | null = null;
  private scratch = new Uint32Array(16);
  private inspector: ArmV7sInspector | undefined;
  private wLvl = 1;
  /**
   * The L2 table last resolved: its PA, the words of its memory chunk and the index of its
   * entry 0. Runs of operations stay in one L2 table, so most skip the PhysMem lookup. A
   * table's memory only goes away when it is freed, which clears this.
   */
  private l2Pa = -1;
  private l2Words: Uint32Array = NO_TABLE;
  private l2Base = 0;
  /**
   * `arm_v7s_prot_to_pte` (and `arm_v7s_pte_to_cont`) for every `prot & PROT_BITS`, computed
   * once: entry `leafAttrIndex(lvl, cont, prot)`.
   */
  private readonly leafAttrs = new Uint32Array(4 * (PROT_BITS + 1));

  /** Use arm_v7s_alloc_pgtable (armV7sInitFns.alloc); this only wires up a validated config. */
  constructor(
    cfg: IoPgtableCfg,
    cookie: unknown,
    pgd: number,
    pgdBlockBytes: number,
    l1: Uint32Array,
    l1Base: number,
  ) {
    this.cfg = cfg;
    this.cookie = cookie;
    this.quirks = cfg.quirks;
    this.ias = cfg.ias;
    this.oas = cfg.oas;
    this.mtk = (cfg.quirks & IO_PGTABLE_QUIRK_ARM_MTK_EXT) !== 0;
    this.l1Entries = 2 ** (cfg.ias - ARM_V7S_L1_SHIFT);
    this.l1Mask = this.l1Entries - 1;
    this.pgd = pgd;
    this.pgdBlockBytes = pgdBlockBytes;
    this.l1 = l1;
    this.l1Base = l1Base;
    this.allocator = cfg.allocator;
    this.mem = cfg.allocator.mem;
    this.counters = cfg.counters;
    this.tlb = cfg.tlb;
    this.l2Slab = new ArmV7sL2Slab(cfg.allocator);
    this.iovaLimit = 2 ** cfg.ias;
    this.paLimit = 2 ** cfg.oas;
    this.translatableRanges = [[0n, (1n << BigInt(cfg.ias)) - 1n]];
    for (let lvl = 1; lvl <= 2; lvl++) {
      for (let p = 0; p <= PROT_BITS; p++) {
        const pte = armV7sProtToPte(p, lvl, cfg.quirks);
        this.leafAttrs[leafAttrIndex(lvl, false, p)] = pte;
        this.leafAttrs[leafAttrIndex(lvl, true, p)] = armV7sPteToCont(pte, lvl);
      }
    }
  }

  /** `arm_v7s_map_pages`: maps page by page from the root; never stops at a table end. */
  mapPages(
    iova: Addr,
    paddr: Addr,
    pgsize: number,
    pgcount: number,
    prot: number,
    _gfp: number,
    mapped: SizeOut,
  ): number {
    let iv = typeof iova === "number" ? iova : Number(iova);
    let pa = typeof paddr === "number" ? paddr : Number(paddr);
    if (iv >= this.iovaLimit || pa >= this.paLimit) {
      this.counters.warn("arm_v7s_map_pages: WARN_ON(iova >= 1ULL << ias || paddr >= 1ULL << oas)");
      return ERANGE;
    }
    if (!(prot & (IOMMU_READ | IOMMU_WRITE))) return EINVAL;
    let ret = EINVAL;
    while (pgcount-- > 0) {
      ret = this.map(iv, pa, pgsize, prot);
      if (ret) break;
      iv += pgsize;
      pa += pgsize;
      mapped.value += pgsize;
    }
    return ret;
  }

  /** `arm_v7s_unmap_pages`: stops at the first call that unmaps nothing. */
  unmapPages(iova: Addr, pgsize: number, pgcount: number, gather: IotlbGather | null): number {
    let iv = typeof iova === "number" ? iova : Number(iova);
    if (iv >= this.iovaLimit) {
      this.counters.warn("arm_v7s_unmap_pages: WARN_ON(iova >= 1ULL << ias)");
      return 0;
    }
    let unmapped = 0;
    while (pgcount-- > 0) {
      if (!this.unmap(gather, iv, pgsize, 1, this.l1, this.l1Base)) break;
      unmapped += pgsize;
      iv += pgsize;
    }
    return unmapped;
  }

  /**
   * iova_to_phys_length: one walk gives the phys and the translation unit (16M / 64K for the
   * replicated supersection / large page entries), or the empty slot's span (1M at L1, 4K at
   * L2). An iova beyond 2^ias is outside the table: unmapped, with length the largest naturally
   * aligned block around it above 2^ias − 1 (`holeSpanOutside`), so a scan crosses 2^ias..2^64
   * in a few steps.
   */
  iovaToPhysLength(iova: Addr, out: PhysLength): void {
    const pfn = pfnOfAddr(iova);
    if (pfn >= this.iovaLimit / PAGE) {
      out.setUnmapped(holeSpanOutside(iova, this.translatableRanges));
      return;
    }
    const pte = this.walk(pfn);
    const lvl = this.wLvl;
    if ((pte & 3) === 0) {
      out.setUnmapped(lvl === 1 ? ARM_V7S_L1_BLOCK : ARM_V7S_L2_BLOCK);
      return;
    }
    const len = this.unitLength(pte, lvl);
    const base = armV7sIopteToPaddr(pte, lvl, this.mtk);
    out.setMapped(base / PAGE + (pfn & (len / PAGE - 1)), offOfAddr(iova), len);
  }

  /** Model-only (issue 17): the one-descent range walk of runs.ts. */
  iovaToPhysRuns(runs: PhysRunCollector): void {
    armV7sIovaToPhysRuns(this, runs);
  }

  /** Translation unit of a valid leaf: BLOCK_SIZE(lvl), ×16 when contiguous. */
  private unitLength(pte: number, lvl: number): number {
    const blk = lvl === 1 ? L1_BLOCK : L2_BLOCK;
    return armV7sPteIsCont(pte, lvl) ? blk * 16 : blk;
  }

  /** The iova_to_phys descent: returns the last entry read, its level in wLvl. */
  private walk(pfn: number): number {
    let pte = this.l1[this.l1Base + ((pfn / 256) & this.l1Mask)]!;
    this.counters.pteReads++;
    let lvl = 1;
    if ((pte & 3) === TYPE_TABLE) {
      const base = this.l2Table(this.tablePa(pte));
      pte = base < 0 ? 0 : this.l2Words[base + (pfn & 255)]!;
      this.counters.pteReads++;
      lvl = 2;
    }
    this.wLvl = lvl;
    return pte;
  }

  /** `__arm_v7s_map` from L1 for one page of `size`. */
  private map(iova: number, pa: number, size: number, prot: number): number {
    const l1 = this.l1;
    const w1 = this.l1Base + ((iova / L1_BLOCK) & this.l1Mask);
    const n1 = Math.floor(size / L1_BLOCK) | 0;
    if (n1) return this.initPte(iova, pa, prot, 1, n1, l1, w1, this.l1Base);

    const pte = l1[w1]!;
    this.counters.pteReads++;
    let tpa: number;
    if (pte === 0) {
      tpa = this.allocL2();
      if (tpa < 0) return ENOMEM;
      l1[w1] = this.tableEntry(tpa);
      this.counters.pteWrites++;
    } else if ((pte & 3) === TYPE_TABLE) {
      tpa = this.tablePa(pte);
    } else {
      if (!this.selftestState?.running)
        this.counters.warn("__arm_v7s_map: WARN_ON(!selftest_running): -EEXIST");
      return EEXIST;
    }
    const base = this.l2TableOrFault(tpa);
    const n2 = Math.floor(size / L2_BLOCK) | 0;
    if (n2) return this.initPte(iova, pa, prot, 2, n2, this.l2Words, base + ((iova / PAGE) & 255), base);
    this.counters.warn("__arm_v7s_map: WARN_ON(lvl == 2)");
    return EINVAL;
  }

  /** `arm_v7s_init_pte`: tables in the run are unmapped and freed first; any other live entry → -EEXIST. */
  private initPte(
    iova: number,
    pa: number,
    prot: number,
    lvl: number,
    n: number,
    words: Uint32Array,
    w: number,
    tableBase: number,
  ): number {
    for (let i = 0; i < n; i++) {
      const e = words[w + i] ?? 0;
      this.counters.pteReads++;
      if (lvl === 1 && (e & 3) === TYPE_TABLE) {
        if (this.unmap(null, iova + i * L1_BLOCK, L1_BLOCK, 1, words, tableBase) !== L1_BLOCK) {
          this.counters.warn("arm_v7s_init_pte: WARN_ON(__arm_v7s_unmap() != sz)");
          return EINVAL;
        }
      } else if (e !== 0) {
        if (!this.selftestState?.running)
          this.counters.warn("arm_v7s_init_pte: WARN_ON(!selftest_running): -EEXIST");
        return EEXIST;
      }
    }
    const attrs = this.leafAttrs[leafAttrIndex(lvl, n > 1, prot & PROT_BITS)]!;
    const pte = (attrs | armV7sPaddrToIopte(pa, lvl, this.mtk)) >>> 0;
    for (let i = 0; i < n; i++) words[w + i] = pte;
    this.counters.pteWrites += Math.max(n, 0);
    return 0;
  }

  /**
   * `__arm_v7s_unmap` at `lvl` in the table whose first entry is words[tableBase]. The
   * kernel recurses one level down when `size` is below the level's block; this loops.
   */
  private unmap(
    gather: IotlbGather | null,
    iova: number,
    size: number,
    lvl: number,
    words: Uint32Array,
    tableBase: number,
  ): number {
    const counters = this.counters;
    for (;;) {
      if (lvl > 2) {
        counters.warn("__arm_v7s_unmap: WARN_ON(lvl > 2)");
        return 0;
      }
      const blk = lvl === 1 ? L1_BLOCK : L2_BLOCK;
      const n = Math.floor(size / blk) | 0;
      const w = tableBase + (lvl === 1 ? (iova / L1_BLOCK) & this.l1Mask : (iova / PAGE) & 255);
      if (n > 1) return this.unmapRun(gather, iova, size, lvl, n, words, w);
      // One entry (n = 1), or the entry to descend through (n = 0). Its index is inside the table.
      const e = words[w]!;
      counters.pteReads++;
      if ((e & 3) === 0) {
        counters.warn("__arm_v7s_unmap: WARN_ON(!ARM_V7S_PTE_IS_VALID(pte))");
        return 0;
      }
      if (armV7sPteIsCont(e, lvl)) {
        counters.warn(WARN_PARTIAL);
        return 0;
      }
      if (n === 1) {
        words[w] = 0;
        counters.pteWrites++;
        if (lvl === 1 && (e & 3) === TYPE_TABLE) {
          this.tlb?.tlbFlushWalk(iova, blk, L2_BLOCK, this.cookie);
          this.freeL2(this.tablePa(e));
        } else if (!iotlbGatherQueued(gather)) {
          // The kernel hands a NULL gather (init_pte's unmap, the selftest) straight through.
          this.tlb?.tlbAddPage?.(gather, iova, blk, this.cookie);
        }
        return size;
      }
      // `int num_entries = size >> shift` went negative (size ≥ 2^51 at L1, mod 2^32 of the
      // count): `if (num_entries)` is taken, its clear and free loops run zero times, and the
      // kernel reports the whole size unmapped with nothing cleared.
      if (n < 0) return size;
      if (lvl === 1 && (e & 3) !== TYPE_TABLE) {
        counters.warn(WARN_PARTIAL);
        return 0;
      }
      if (lvl === 1) {
        tableBase = this.l2TableOrFault(this.tablePa(e));
        words = this.l2Words;
      }
      lvl++;
    }
  }

  /** `__arm_v7s_unmap` of `n` > 1 entries from word `w`: all must be valid, then all are cleared. */
  private unmapRun(
    gather: IotlbGather | null,
    iova: number,
    size: number,
    lvl: number,
    n: number,
    words: Uint32Array,
    w: number,
  ): number {
    if (n > this.scratch.length) this.scratch = new Uint32Array(n);
    const ptes = this.scratch;
    for (let i = 0; i < n; i++) {
      // A run may reach past the table's memory (an unaligned iova): that reads as empty.
      const e = words[w + i] ?? 0;
      this.counters.pteReads++;
      ptes[i] = e;
      if ((e & 3) === 0) {
        this.counters.warn("__arm_v7s_unmap: WARN_ON(!ARM_V7S_PTE_IS_VALID(pte))");
        return 0;
      }
    }
    for (let i = 0; i < n; i++) words[w + i] = 0;
    this.counters.pteWrites += n;
    const blk = lvl === 1 ? L1_BLOCK : L2_BLOCK;
    const queued = iotlbGatherQueued(gather);
    for (let i = 0; i < n; i++) {
      const e = ptes[i]!;
      if (lvl === 1 && (e & 3) === TYPE_TABLE) {
        this.tlb?.tlbFlushWalk(iova, blk, L2_BLOCK, this.cookie);
        this.freeL2(this.tablePa(e));
      } else if (!queued) {
        this.tlb?.tlbAddPage?.(gather, iova, blk, this.cookie);
      }
      iova += blk;
    }
    return size;
  }

  /** `iopte_to_paddr` of an L1 table descriptor. */
  private tablePa(pte: number): number {
    return this.mtk ? armV7sIopteToPaddr(pte, 1, true) : (pte & TABLE_MASK) >>> 0;
  }

  /**
   * Resolve the L2 table at `pa`: leaves its chunk's words in `l2Words` and returns the word
   * index of its entry 0, or -1 when there is no memory there.
   */
  private l2Table(pa: number): number {
    if (pa === this.l2Pa) return this.l2Base;
    const c = this.mem.chunk(pa);
    if (!c) return -1;
    this.l2Pa = pa;
    this.l2Words = c.words;
    // An int32 (chunks are far below 2^31 words): entry indices built on it stay integers.
    this.l2Base = ((pa - c.pa) / 4) | 0;
    return this.l2Base;
  }

  /**
   * Forget the cached L2 table. Needed only by code that replaces table memory behind the
   * format's back (e.g. `PhysMem.importRange` over live tables), as for ARM LPAE.
   */
  invalidateCache(): void {
    this.l2Pa = -1;
  }

  /** {@link l2Table} for an edit: a descriptor pointing nowhere (a bad image) faults. */
  private l2TableOrFault(pa: number): number {
    const base = this.l2Table(pa);
    if (base < 0)
      throw new IommuError("EFAULT", "arm-v7s", { pa }, "L2 table descriptor points at absent memory");
    return base;
  }

  /** `arm_v7s_install_table`'s descriptor: PA | TABLE (| MTK PA bits with TTBR_EXT) (| NS_TABLE). */
  private tableEntry(tpa: number): number {
    let e = ((tpa >>> 0) | ARM_V7S_PTE_TYPE_TABLE) >>> 0;
    if (this.quirks & IO_PGTABLE_QUIRK_ARM_MTK_TTBR_EXT) e = armV7sToMtkIopte(Math.floor(tpa / TWO32), e);
    if (this.quirks & IO_PGTABLE_QUIRK_ARM_NS) e = (e | ARM_V7S_ATTR_NS_TABLE) >>> 0;
    return e;
  }

  /** `__arm_v7s_alloc_table(2)`: a slab object that must fit the PTE. */
  private allocL2(): number {
    const pa = this.l2Slab.alloc();
    if (pa < 0) return -1;
    if (!tableFits(pa, this.quirks, this.oas)) {
      this.l2Slab.release(pa);
      return -1;
    }
    return pa;
  }

  /** `__arm_v7s_free_table(2)` */
  private freeL2(pa: number): void {
    if (pa === this.l2Pa) this.l2Pa = -1;
    this.l2Slab.release(pa);
  }

  /** `arm_v7s_free_pgtable`: every L2 table the L1 points at, then the L1 and the cache. */
  free(): void {
    for (let i = 0; i < this.l1Entries; i++) {
      const e = this.l1[this.l1Base + i]!;
      if ((e & 3) === ARM_V7S_PTE_TYPE_TABLE) this.freeL2(armV7sIopteToPaddr(e, 1, this.mtk));
    }
    if (this.pgdBlockBytes) this.allocator.release(this.pgd);
    this.l2Slab.destroy();
  }

  /** Table allocations live: the L1 plus one per 1 KiB L2 table (harness `stats` accounting). */
  get tablesLive(): number {
    return (this.pgdBlockBytes ? 1 : 0) + this.l2Slab.liveCount;
  }

  /** Bytes of those allocations: the L1 block plus 1 KiB per L2 table. */
  get tableBytesLive(): number {
    return this.pgdBlockBytes + this.l2Slab.liveCount * 1024;
  }

  /** The valid leaf translating `iova` and its level, or undefined (inspection: not counted). */
  leafAt(iova: Addr): { pte: number; lvl: number } | undefined {
    const pfn = pfnOfAddr(iova);
    let pte = this.l1[this.l1Base + ((pfn / 256) & this.l1Mask)]!;
    let lvl = 1;
    if ((pte & 3) === ARM_V7S_PTE_TYPE_TABLE) {
      const tpa = armV7sIopteToPaddr(pte, 1, this.mtk);
      const c = this.mem.chunk(tpa);
      pte = c ? c.words[(tpa - c.pa) / 4 + (pfn & 255)]! : 0;
      lvl = 2;
    }
    return (pte & 3) === 0 ? undefined : { pte, lvl };
  }

  /** Raw L1 entry i (tools: dump, tests). */
  l1Entry(i: number): number {
    return this.l1[this.l1Base + i]!;
  }

  /** Model-only: this table's inspector (geometry, walk, every entry decoded; counts nothing). */
  inspect(): PageTableInspector {
    this.inspector ??= new ArmV7sInspector(this);
    return this.inspector;
  }
}

/** Where {@link ArmV7sIoPgtable}'s leafAttrs keeps the attributes of a leaf at `lvl` (1 or 2). */
function leafAttrIndex(lvl: number, cont: boolean, prot: number): number {
  return ((lvl - 1) * 2 + (cont ? 1 : 0)) * (PROT_BITS + 1) + prot;
}

/** The "does not fit in PTE" check of __arm_v7s_alloc_table. */
function tableFits(pa: number, quirks: number, oas: number): boolean {
  return quirks & IO_PGTABLE_QUIRK_ARM_MTK_TTBR_EXT ? pa < 2 ** oas : pa < TWO32;
}

/**
 * `arm_v7s_alloc_pgtable`: validate ias/oas/quirks, narrow pgsize_bitmap, fill arm_v7s_cfg and
 * allocate the L1 table, or adopt the one at `cfg.existingRoot`.
 */
export function armV7sAllocPgtable(cfg: IoPgtableCfg, cookie: unknown): ArmV7sIoPgtable | null {
  const mtk = (cfg.quirks & IO_PGTABLE_QUIRK_ARM_MTK_EXT) !== 0;
  if (cfg.ias > (mtk ? ARM_V7S_MTK_IAS_MAX : ARM_V7S_ADDR_BITS)) return null;
  if (cfg.oas > (mtk ? ARM_V7S_MTK_OAS_MAX : ARM_V7S_ADDR_BITS)) return null;
  if (cfg.quirks & ~QUIRKS_ALLOWED) return null;
  if (mtk && !(cfg.quirks & IO_PGTABLE_QUIRK_NO_PERMS)) return null;
  if (cfg.quirks & IO_PGTABLE_QUIRK_ARM_MTK_TTBR_EXT && !mtk) return null;
  // The kernel computes 1 << (ias - 20); below 20 bits there is no L1 table to speak of.
  if (cfg.ias < ARM_V7S_L1_SHIFT) return null;

  cfg.pgsizeBitmap = (cfg.pgsizeBitmap & ARM_V7S_PGSIZES) >>> 0;
  const l1Bytes = 4 * 2 ** (cfg.ias - ARM_V7S_L1_SHIFT);
  const existing = cfg.existingRoot;
  let pgd: number;
  let blockBytes = 0;
  if (existing !== undefined) {
    pgd = existing;
  } else {
    pgd = cfg.allocator.alloc(l1Bytes);
    if (pgd < 0) return null;
    blockBytes = cfg.allocator.sizeOf(pgd);
    if (!tableFits(pgd, cfg.quirks, cfg.oas)) {
      cfg.allocator.release(pgd);
      return null;
    }
  }
  const c = cfg.allocator.mem.chunk(pgd);
  if (!c || c.pa + c.bytes < pgd + l1Bytes) return null;

  const paddr = pgd;
  const ttbr = mtk
    ? ((paddr % TWO32) | Math.floor(paddr / TWO32)) >>> 0
    : ((paddr % TWO32) |
        ARM_V7S_TTBR_S |
        (cfg.coherentWalk
          ? ARM_V7S_TTBR_NOS | armV7sTtbrIrgn(ARM_V7S_RGN_WBWA) | armV7sTtbrOrgn(ARM_V7S_RGN_WBWA)
          : armV7sTtbrIrgn(ARM_V7S_RGN_NC) | armV7sTtbrOrgn(ARM_V7S_RGN_NC))) >>>
      0;
  cfg.armV7sCfg = {
    ttbr,
    tcr: 0,
    prrr:
      (armV7sPrrrTr(1, ARM_V7S_PRRR_TYPE_DEVICE) |
        armV7sPrrrTr(4, ARM_V7S_PRRR_TYPE_NORMAL) |
        armV7sPrrrTr(7, ARM_V7S_PRRR_TYPE_NORMAL) |
        ARM_V7S_PRRR_DS0 |
        ARM_V7S_PRRR_DS1 |
        ARM_V7S_PRRR_NS1 |
        armV7sPrrrNos(7)) >>>
      0,
    nmrr: (armV7sNmrrIr(7, ARM_V7S_RGN_WBWA) | armV7sNmrrOr(7, ARM_V7S_RGN_WBWA)) >>> 0,
  };
  return new ArmV7sIoPgtable({ ...cfg }, cookie, pgd, blockBytes, c.words, ((pgd - c.pa) / 4) | 0);
}

/** `io_pgtable_arm_v7s_init_fns` (no custom-allocator capability). */
export const armV7sInitFns: IoPgtableInitFns = {
  alloc: armV7sAllocPgtable,
  free(iop: IoPgtable): void {
    (iop as ArmV7sIoPgtable).free();
  },
  caps: 0,
};
