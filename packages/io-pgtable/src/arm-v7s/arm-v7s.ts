/**
 * ARMv7 short-descriptor io-pgtable (`ARM_V7S`, drivers/iommu/io-pgtable-arm-v7s.c): map_pages,
 * unmap_pages, iova_to_phys and the new iova_to_phys_length over simulated memory, with the
 * kernel's WARNs, errnos and table lifetime rules.
 */
import {
  type Addr,
  ERRNO,
  IOMMU_READ,
  IOMMU_WRITE,
  type IommuCounters,
  IommuError,
  type IotlbGather,
  iotlbGatherQueued,
  type MemChunk,
  type PhysLength,
  type PhysMem,
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
  ARM_V7S_TTBR_NOS,
  ARM_V7S_TTBR_S,
  armV7sNmrrIr,
  armV7sNmrrOr,
  armV7sPrrrNos,
  armV7sPrrrTr,
  armV7sTtbrIrgn,
  armV7sTtbrOrgn,
} from "./defs.js";
import { ArmV7sL2Slab } from "./l2-slab.js";
import {
  armV7sIopteToPaddr,
  armV7sPaddrToIopte,
  armV7sProtToPte,
  armV7sPteIsCont,
  armV7sPteToCont,
  armV7sToMtkIopte,
} from "./pte.js";

const TWO32 = 2 ** 32;
const PAGE = 4096;
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
 * The file's `selftest_running` flag: while the selftest runs, mapping over a live entry
 * returns -EEXIST without the WARN (the selftest provokes it on purpose).
 */
export const armV7sSelftestState = { running: false };

/** Split an Addr into a 4 KiB frame number and offset (bigints only off the hot path). */
function pfnOfAddr(a: Addr): number {
  return typeof a === "number" ? Math.floor(a / PAGE) : Number(a >> 12n);
}
function offOfAddr(a: Addr): number {
  return typeof a === "number" ? a % PAGE : Number(a & 0xfffn);
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
  private readonly minPage: number;
  private scratch = new Uint32Array(16);
  private wLvl = 1;

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
    const low = cfg.pgsizeBitmap & ARM_V7S_PGSIZES;
    this.minPage = low ? (low & -low) >>> 0 : PAGE;
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
   * `arm_v7s_iova_to_phys`: 0 when unmapped. Like the kernel it does not check ias: the L1
   * index is masked, so iovas alias modulo 2^ias.
   */
  iovaToPhys(iova: Addr): Addr {
    const pfn = pfnOfAddr(iova);
    const pte = this.walk(pfn);
    if ((pte & 3) === 0) return 0;
    const lvl = this.wLvl;
    // iova & ~LVL_MASK(lvl) (×16 when contiguous): the offset inside the translation unit.
    const len = this.unitLength(pte, lvl);
    return armV7sIopteToPaddr(pte, lvl, this.mtk) + (pfn % (len / PAGE)) * PAGE + offOfAddr(iova);
  }

  /**
   * iova_to_phys_length: one walk gives the phys and the translation unit (16M / 64K for the
   * replicated supersection / large page entries), or the empty slot's span (1M at L1, 4K at
   * L2). An iova beyond 2^ias is outside the table: unmapped, smallest page size.
   */
  iovaToPhysLength(iova: Addr, out: PhysLength): void {
    const pfn = pfnOfAddr(iova);
    if (pfn >= this.iovaLimit / PAGE) {
      out.setUnmapped(this.minPage);
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
    out.setMapped(base / PAGE + (pfn % (len / PAGE)), offOfAddr(iova), len);
  }

  /** Translation unit of a valid leaf: BLOCK_SIZE(lvl), ×16 when contiguous. */
  private unitLength(pte: number, lvl: number): number {
    const blk = lvl === 1 ? ARM_V7S_L1_BLOCK : ARM_V7S_L2_BLOCK;
    return armV7sPteIsCont(pte, lvl) ? blk * 16 : blk;
  }

  /** The iova_to_phys descent: returns the last entry read, its level in wLvl. */
  private walk(pfn: number): number {
    let pte = this.l1[this.l1Base + ((pfn / 256) & this.l1Mask)]!;
    this.counters.pteReads++;
    let lvl = 1;
    if ((pte & 3) === ARM_V7S_PTE_TYPE_TABLE) {
      const tpa = armV7sIopteToPaddr(pte, 1, this.mtk);
      const c = this.mem.chunk(tpa);
      pte = c ? c.words[(tpa - c.pa) / 4 + (pfn & 255)]! : 0;
      this.counters.pteReads++;
      lvl = 2;
    }
    this.wLvl = lvl;
    return pte;
  }

  /** `__arm_v7s_map` from L1 for one page of `size`. */
  private map(iova: number, pa: number, size: number, prot: number): number {
    const l1 = this.l1;
    const w1 = this.l1Base + ((iova / ARM_V7S_L1_BLOCK) & this.l1Mask);
    const n1 = Math.floor(size / ARM_V7S_L1_BLOCK) | 0;
    if (n1) return this.initPte(iova, pa, prot, 1, n1, l1, w1, this.l1Base);

    const pte = l1[w1]!;
    this.counters.pteReads++;
    let tpa: number;
    if (pte === 0) {
      tpa = this.allocL2();
      if (tpa < 0) return ENOMEM;
      l1[w1] = this.tableEntry(tpa);
      this.counters.pteWrites++;
    } else if ((pte & 3) === ARM_V7S_PTE_TYPE_TABLE) {
      tpa = armV7sIopteToPaddr(pte, 1, this.mtk);
    } else {
      if (!armV7sSelftestState.running)
        this.counters.warn("__arm_v7s_map: WARN_ON(!selftest_running): -EEXIST");
      return EEXIST;
    }
    const c = this.tableChunk(tpa);
    const base = (tpa - c.pa) / 4;
    const n2 = Math.floor(size / ARM_V7S_L2_BLOCK) | 0;
    if (n2) return this.initPte(iova, pa, prot, 2, n2, c.words, base + ((iova / PAGE) & 255), base);
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
      if (lvl === 1 && (e & 3) === ARM_V7S_PTE_TYPE_TABLE) {
        if (
          this.unmap(null, iova + i * ARM_V7S_L1_BLOCK, ARM_V7S_L1_BLOCK, 1, words, tableBase) !==
          ARM_V7S_L1_BLOCK
        ) {
          this.counters.warn("arm_v7s_init_pte: WARN_ON(__arm_v7s_unmap() != sz)");
          return EINVAL;
        }
      } else if (e !== 0) {
        if (!armV7sSelftestState.running)
          this.counters.warn("arm_v7s_init_pte: WARN_ON(!selftest_running): -EEXIST");
        return EEXIST;
      }
    }
    let pte = armV7sProtToPte(prot, lvl, this.quirks);
    if (n > 1) pte = armV7sPteToCont(pte, lvl);
    pte = (pte | armV7sPaddrToIopte(pa, lvl, this.mtk)) >>> 0;
    for (let i = 0; i < n; i++) words[w + i] = pte;
    this.counters.pteWrites += Math.max(n, 0);
    return 0;
  }

  /** `__arm_v7s_unmap` at `lvl` in the table whose first entry is words[tableBase]. */
  private unmap(
    gather: IotlbGather | null,
    iova: number,
    size: number,
    lvl: number,
    words: Uint32Array,
    tableBase: number,
  ): number {
    if (lvl > 2) {
      this.counters.warn("__arm_v7s_unmap: WARN_ON(lvl > 2)");
      return 0;
    }
    const blk = lvl === 1 ? ARM_V7S_L1_BLOCK : ARM_V7S_L2_BLOCK;
    const n = Math.floor(size / blk) | 0;
    const w = tableBase + (lvl === 1 ? (iova / ARM_V7S_L1_BLOCK) & this.l1Mask : (iova / PAGE) & 255);
    const cnt = Math.max(n, 1);
    if (cnt > this.scratch.length) this.scratch = new Uint32Array(cnt);
    const ptes = this.scratch;
    for (let i = 0; i < cnt; i++) {
      const e = words[w + i] ?? 0;
      this.counters.pteReads++;
      ptes[i] = e;
      if ((e & 3) === 0) {
        this.counters.warn("__arm_v7s_unmap: WARN_ON(!ARM_V7S_PTE_IS_VALID(pte))");
        return 0;
      }
    }
    const p0 = ptes[0]!;
    if (n <= 1 && armV7sPteIsCont(p0, lvl)) {
      this.counters.warn(WARN_PARTIAL);
      return 0;
    }
    if (n) {
      for (let i = 0; i < n; i++) words[w + i] = 0;
      this.counters.pteWrites += Math.max(n, 0);
      const queued = iotlbGatherQueued(gather);
      for (let i = 0; i < n; i++) {
        const e = ptes[i]!;
        if (lvl === 1 && (e & 3) === ARM_V7S_PTE_TYPE_TABLE) {
          this.tlb?.tlbFlushWalk(iova, blk, ARM_V7S_L2_BLOCK, this.cookie);
          this.freeL2(armV7sIopteToPaddr(e, 1, this.mtk));
        } else if (!queued) {
          // The kernel hands a NULL gather (init_pte's unmap, the selftest) straight through.
          this.tlb?.tlbAddPage?.(gather, iova, blk, this.cookie);
        }
        iova += blk;
      }
      return size;
    }
    if (lvl === 1 && (p0 & 3) !== ARM_V7S_PTE_TYPE_TABLE) {
      this.counters.warn(WARN_PARTIAL);
      return 0;
    }
    if (lvl === 2) return this.unmap(gather, iova, size, 3, words, tableBase);
    const tpa = armV7sIopteToPaddr(p0, 1, this.mtk);
    const c = this.tableChunk(tpa);
    return this.unmap(gather, iova, size, 2, c.words, (tpa - c.pa) / 4);
  }

  /** Memory of the L2 table at `pa`; a descriptor pointing nowhere (a bad image) faults. */
  private tableChunk(pa: number): MemChunk {
    const c = this.mem.chunk(pa);
    if (!c) throw new IommuError("EFAULT", "arm-v7s", { pa }, "L2 table descriptor points at absent memory");
    return c;
  }

  /** `arm_v7s_install_table`'s descriptor: PA | TABLE (| MTK PA bits with TTBR_EXT) (| NS_TABLE). */
  private tableEntry(tpa: number): number {
    let e = ((tpa % TWO32) | ARM_V7S_PTE_TYPE_TABLE) >>> 0;
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
  return new ArmV7sIoPgtable({ ...cfg }, cookie, pgd, blockBytes, c.words, (pgd - c.pa) / 4);
}

/** `io_pgtable_arm_v7s_init_fns` (no custom-allocator capability). */
export const armV7sInitFns: IoPgtableInitFns = {
  alloc: armV7sAllocPgtable,
  free(iop: IoPgtable): void {
    (iop as ArmV7sIoPgtable).free();
  },
  caps: 0,
};
