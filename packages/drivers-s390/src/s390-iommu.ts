/**
 * drivers/iommu/s390-iommu.c (6.18, multi-level tables, with the iova_to_phys RFX NULL-check
 * fix): the s390 zPCI IOMMU driver's paging side as an executable model — the zPCI function
 * (`struct zpci_dev`, an IommuDriver), its domains (`struct s390_domain`) and the
 * `iommu_domain_ops`.
 *
 * The tables are the architecture's DMA translation tables in simulated physical memory:
 * region-first (RF), region-second (RS), region-third (RT) and segment (ST) tables of 2048
 * 64-bit entries (16 KiB each), and page tables (PT) of 256 64-bit entries (2 KiB, two per 4 KiB
 * slab page). A domain's root is an RT (3 levels, 4 TiB), RS (4 levels, 2^53) or RF table
 * (5 levels, the whole 64-bit space), chosen from the device's DMA range. Empty region/segment
 * entries hold ZPCI_TABLE_INVALID (0x20), empty PTEs ZPCI_PTE_INVALID (0x400).
 *
 * Hot paths (map/unmap/lookup) run once per 4 KiB page of every caller's loop, so they allocate
 * nothing and use no BigInt per PTE: 64-bit entries are two u32 words (low word first, as the
 * model stores every 64-bit format), IOVAs and physical addresses are split once into a 4 KiB
 * frame number and an offset, walk results live in module-level variables, and a per-domain
 * walk cache (`wcKey`) goes straight to the page table of the last 1 MiB block walked.
 */
import {
  type Addr,
  allocUncounted,
  ERRNO,
  holeSpanOutside,
  IOMMU_CAP_CACHE_COHERENCY,
  IOMMU_CAP_DEFERRED_FLUSH,
  IOMMU_DOMAIN_UNMANAGED,
  IOMMU_WRITE,
  type IommuCap,
  IommuCounters,
  type IommuDomain,
  type IommuDomainAllocOptions,
  type IommuDomainOps,
  type IommuDriver,
  type IotlbGather,
  type IovaRange,
  iotlbGatherAddRange,
  KmemCache,
  type MemChunk,
  offOf,
  type PageTableInspector,
  type PhysLength,
  PhysMem,
  pfnOf,
  releaseUncounted,
  type SizeOut,
  SZ_1M,
  SZ_4K,
  TableAllocator,
} from "@iommu/core";
import { S390Inspector } from "./inspect.js";
import {
  type S390OriginType,
  ZPCI_IOTA_DT_RF,
  ZPCI_IOTA_DT_RS,
  ZPCI_IOTA_RFTO_FLAG,
  ZPCI_IOTA_RSTO_FLAG,
  ZPCI_IOTA_RTTO_FLAG,
  ZPCI_PT_ALIGN,
  ZPCI_PT_ENTRIES,
  ZPCI_PT_SIZE,
  ZPCI_PTE_INVALID,
  ZPCI_RTE_FLAG_MASK,
  ZPCI_STE_FLAG_MASK,
  ZPCI_TABLE_ENTRIES,
  ZPCI_TABLE_INVALID,
  ZPCI_TABLE_LEN_RTX,
  ZPCI_TABLE_OFFSET_MASK,
  ZPCI_TABLE_PROTECTED,
  ZPCI_TABLE_SIZE,
  ZPCI_TABLE_SIZE_RS,
  ZPCI_TABLE_SIZE_RT,
  ZPCI_TABLE_TYPE_MASK,
  ZPCI_TABLE_TYPE_RFX,
  ZPCI_TABLE_TYPE_RSX,
  ZPCI_TABLE_TYPE_RTX,
  ZPCI_TABLE_TYPE_SX,
} from "./pci-dma.js";
import { s390IovaToPhysRuns } from "./runs.js";

const EINVAL = -ERRNO.EINVAL;
const ENOMEM = -ERRNO.ENOMEM;
const EEXIST = -ERRNO.EEXIST;
const EIO = -ERRNO.EIO;
const EOPNOTSUPP = -ERRNO.EOPNOTSUPP;
const TWO32 = 2 ** 32;
const TWO20 = 2 ** 20;
/** 4 KiB frames in the 64-bit space. */
const PFNS = 2 ** 52;
const U64_MAX = (1n << 64n) - 1n;
/** The words of no table (a cleared walk result). */
const NO_WORDS = new Uint32Array(0);

/** `PCI_FUNC_TYPE_ISM`: the function type whose flushes cannot be deferred. */
export const PCI_FUNC_TYPE_ISM = 5;

/**
 * `s390-iommu.c` behaviours a strict domain reports instead of reproducing (README
 * "Known kernel quirks"); each counts in {@link S390Domain.quirks} in the default mode.
 */
export type S390Quirk =
  /** Mapping over a valid PTE WARNs (WARN_ON_ONCE, every time here) and overwrites it. */
  | "overwrite-warn"
  /** Unmapping an invalid PTE WARNs and still counts the page as unmapped. */
  | "unmap-invalid-warn"
  /** Unmap walks with allocation: unmapping a never-mapped range allocates the tables on the way. */
  | "unmap-allocates"
  /** `unmap_pages` returns `pgcount << __ffs(pgsize)` but invalidates only `pgcount` 4 KiB pages. */
  | "unmap-size-arith"
  /**
   * `iova + size − 1` is computed in u64: a range across 2^64 wraps past the aperture check (a
   * 5-level map continues at IOVA 0, a smaller domain aliases through its top index), and a
   * zero-size call at IOVA 0 underflows to 2^64 − 1 (map -EINVAL, unmap WARN + 0).
   */
  | "iova-wrap";

/** `s390-iommu.c` quirks: every {@link S390Quirk}, in README order. */
export const S390_QUIRKS: readonly S390Quirk[] = [
  "overwrite-warn",
  "unmap-invalid-warn",
  "unmap-allocates",
  "unmap-size-arith",
  "iova-wrap",
];

function freshQuirks(): Record<S390Quirk, number> {
  return {
    "overwrite-warn": 0,
    "unmap-invalid-warn": 0,
    "unmap-allocates": 0,
    "unmap-size-arith": 0,
    "iova-wrap": 0,
  };
}

/** `struct zpci_iommu_ctrs` */
export interface ZpciIommuCtrs {
  mappedPages: number;
  unmappedPages: number;
  globalRpcits: number;
  syncMapRpcits: number;
  syncRpcits: number;
}

/** `struct s390_domain` */
export interface S390Domain extends IommuDomain {
  /** The zPCI function whose DMA range chose the origin type (`domain_alloc_paging(dev)`). */
  readonly zdev: S390Iommu;
  /** Page-table memory. */
  readonly allocator: TableAllocator;
  /** `dma_page_table_cache` (model: one cache per domain). */
  readonly ptCache: KmemCache;
  /** `s390_domain->dma_table`: physical address of the root table. */
  readonly dmaTable: number;
  /** `s390_domain->origin_type`: ZPCI_TABLE_TYPE_RTX / _RSX / _RFX. */
  readonly originType: number;
  /** Levels from the root to the page tables (3, 4 or 5). */
  readonly levels: 3 | 4 | 5;
  /** `geometry.aperture_end` as a frame number and offset (model cache). */
  readonly apertureEndPfn: number;
  /** Model-only: `[0, aperture end]` (whole frames), for an out-of-aperture `holeSpanOutside`. */
  readonly translatableRanges: readonly IovaRange[];
  /** Region/segment tables live (16 KiB each) and allocated since creation. */
  regionTablesLive: number;
  regionTablesAllocated: number;
  /** `s390_domain->devices`: attached functions. */
  readonly devices: S390Iommu[];
  /** `s390_domain->ctrs` */
  readonly ctrs: ZpciIommuCtrs;
  /** Model-only: report kernel quirks (typed errno / corrected value) instead of reproducing them. */
  strict: boolean;
  /** Model-only: how often each kernel quirk happened (default mode). */
  readonly quirks: Record<S390Quirk, number>;
  /** Model-only: set once `free` ran. */
  freed: boolean;
  /**
   * Model-only walk cache: the page table that serves the 1 MiB block `wcKey` (IOVA frame /
   * 256; -1: none) as the last successful walk found it — its words and the word index of its
   * PTE 0. A hit goes straight to the PTE; the region and segment entries it skips are still
   * counted in pteReads, so the counters match the kernel's walk. Valid because the entries on
   * a walked path are valid table entries, which change only when a table is freed, and every
   * free drops the cache. Code that edits live tables behind the driver's back must set
   * `wcKey = -1`.
   */
  wcKey: number;
  wcWords: Uint32Array;
  wcBase: number;
}

/** `struct zpci_dev` (the fields the IOMMU code reads) and the machine around it. */
export interface S390IommuOptions {
  /** `zdev->start_dma` (default 4 GiB). */
  readonly startDma?: Addr;
  /** `zdev->end_dma` as the firmware reports it (default 2^64 − 1). */
  readonly endDma?: Addr;
  /** `virt_to_phys(high_memory)`: bytes of memory (default 16 GiB). */
  readonly memoryBytes?: Addr;
  /** `s390_iommu_aperture=` factor (default 1; 0 = no limit). */
  readonly apertureFactor?: number;
  /** `zdev->dtsm`: supported designation types (default ZPCI_IOTA_DT_RS | ZPCI_IOTA_DT_RF). */
  readonly dtsm?: number;
  /** `zdev->tlb_refresh`: the hypervisor needs RPCIT after every map (default false). */
  readonly tlbRefresh?: boolean;
  /** `zdev->pft`: PCI function type (default 0). */
  readonly pft?: number;
  /** `zdev->fid` / `zdev->fh` (default 0 / 0). */
  readonly fid?: number;
  readonly fh?: number;
  /** Page-table memory (default: a fresh arena per domain). */
  readonly allocator?: TableAllocator;
  /** Every domain starts strict (see {@link S390Quirk}). */
  readonly strict?: boolean;
}

/**
 * `struct zpci_dev` + its `struct iommu_device`: one zPCI function and the IOMMU ops it
 * registers. RPCIT (`zpci_refresh_trans()`) is counted in `rpcits`; the last IOTA registered
 * (`zpci_register_ioat()`) is kept in `iota`.
 */
export class S390Iommu implements IommuDriver<S390Domain> {
  readonly name: string;
  readonly pgsizeBitmap = SZ_4K;
  /** `zdev->start_dma` */
  readonly startDma: bigint;
  /** `zdev->end_dma`: rewritten by every domain allocation, as the kernel does. */
  endDma: bigint;
  readonly dtsm: number;
  readonly tlbRefresh: boolean;
  readonly pft: number;
  readonly fh: number;
  /** `s390_iommu_aperture` (computed at init from memory and the factor). */
  readonly aperture: bigint;
  /** `zdev->dma_table` of the attached paging domain (-1 when none). */
  dmaTable = -1;
  /** The IOTA last registered (0 = unregistered). */
  iota = 0n;
  /** `zpci_refresh_trans()` calls. */
  rpcits = 0;
  /** The paging domain attached, if any. */
  attached: S390Domain | null = null;
  /** `s390_iommu_ops.default_domain_ops` */
  readonly ops: IommuDomainOps<S390Domain>;
  private readonly sharedAllocator: TableAllocator | undefined;
  private readonly strictDefault: boolean;

  constructor(options: S390IommuOptions = {}) {
    const fid = options.fid ?? 0;
    this.name = `s390-iommu.${fid.toString(16).padStart(8, "0")}`;
    this.startDma = BigInt(options.startDma ?? 2 ** 32);
    this.endDma = BigInt(options.endDma ?? U64_MAX);
    this.dtsm = options.dtsm ?? ZPCI_IOTA_DT_RS | ZPCI_IOTA_DT_RF;
    this.tlbRefresh = options.tlbRefresh ?? false;
    this.pft = options.pft ?? 0;
    this.fh = options.fh ?? 0;
    const factor = options.apertureFactor ?? 1;
    const mem = BigInt(options.memoryBytes ?? 16 * 2 ** 30);
    // s390_iommu_init()
    this.aperture = factor === 0 ? U64_MAX : (mem * BigInt(factor)) & U64_MAX;
    this.sharedAllocator = options.allocator;
    this.strictDefault = options.strict ?? false;
    this.ops = createS390Ops(this.name);
  }

  /** `s390_iommu_capable()`: cache coherency; deferred flush unless an ISM function. */
  capable(cap: IommuCap): boolean {
    if (cap === IOMMU_CAP_CACHE_COHERENCY) return true;
    if (cap === IOMMU_CAP_DEFERRED_FLUSH) return this.pft !== PCI_FUNC_TYPE_ISM;
    return false;
  }

  /**
   * `s390_domain_alloc_paging()`: the root table (filled with ZPCI_TABLE_INVALID; -ENOMEM),
   * the origin type from `min(s390_iommu_aperture, end_dma − start_dma + 1)` and the DTSM,
   * `zdev->end_dma` rewritten, aperture [0, max_tbl_size].
   */
  domainAllocPagingFlags(flags: number, options: IommuDomainAllocOptions = {}): S390Domain | number {
    if (flags !== 0) return EOPNOTSUPP;
    const allocator = options.allocator ?? this.sharedAllocator ?? new TableAllocator(new PhysMem());
    const counters = options.counters ?? new IommuCounters();
    const root = allocRegionTableRaw(allocator);
    if (root < 0) return ENOMEM;
    counters.tablesAllocated++;
    const span = (this.endDma - this.startDma + 1n) & U64_MAX;
    let size = this.aperture < span ? this.aperture : span;
    let type: number;
    const rt = (BigInt(ZPCI_TABLE_SIZE_RT) - this.startDma) & U64_MAX;
    const rs = (BigInt(ZPCI_TABLE_SIZE_RS) - this.startDma) & U64_MAX;
    if (size <= rt) type = ZPCI_TABLE_TYPE_RTX;
    else if (size <= rs && this.dtsm & ZPCI_IOTA_DT_RS) type = ZPCI_TABLE_TYPE_RSX;
    else if (this.dtsm & ZPCI_IOTA_DT_RF) type = ZPCI_TABLE_TYPE_RFX;
    else {
      type = ZPCI_TABLE_TYPE_RTX;
      size = rt;
    }
    this.endDma = (this.startDma + size - 1n) & U64_MAX;
    const levels = type === ZPCI_TABLE_TYPE_RTX ? 3 : type === ZPCI_TABLE_TYPE_RSX ? 4 : 5;
    const apertureEnd =
      type === ZPCI_TABLE_TYPE_RTX
        ? ZPCI_TABLE_SIZE_RT - 1
        : type === ZPCI_TABLE_TYPE_RSX
          ? ZPCI_TABLE_SIZE_RS - 1
          : U64_MAX;
    const apertureEndPfn = levels === 3 ? 2 ** 30 - 1 : levels === 4 ? 2 ** 41 - 1 : PFNS - 1;
    const d: S390Domain = {
      type: options.type ?? IOMMU_DOMAIN_UNMANAGED,
      ops: this.ops,
      pgsizeBitmap: SZ_4K,
      geometry: { apertureStart: 0, apertureEnd, forceAperture: true },
      counters,
      zdev: this,
      allocator,
      ptCache: createPageTableCache(allocator),
      dmaTable: root,
      originType: type,
      levels,
      apertureEndPfn,
      translatableRanges: [[0n, BigInt(apertureEndPfn) * 4096n + 4095n]],
      regionTablesLive: 1,
      regionTablesAllocated: 1,
      devices: [],
      ctrs: { mappedPages: 0, unmappedPages: 0, globalRpcits: 0, syncMapRpcits: 0, syncRpcits: 0 },
      strict: this.strictDefault,
      quirks: freshQuirks(),
      freed: false,
      wcKey: -1,
      wcWords: NO_WORDS,
      wcBase: 0,
    };
    return d;
  }

  /** `s390_iommu_domain_reg_ioat()` value: root | the origin type's IOTA flags. */
  iotaOf(d: S390Domain): bigint {
    const flag =
      d.originType === ZPCI_TABLE_TYPE_RTX
        ? ZPCI_IOTA_RTTO_FLAG
        : d.originType === ZPCI_TABLE_TYPE_RSX
          ? ZPCI_IOTA_RSTO_FLAG
          : ZPCI_IOTA_RFTO_FLAG;
    return BigInt(d.dmaTable) | BigInt(flag);
  }

  /**
   * `s390_iommu_attach_device()`: the aperture must meet [start_dma, end_dma] (WARN, -EINVAL);
   * the function is blocked, then the domain's IOTA registered (`zpci_register_ioat()`, which
   * this model never fails: `ioatFails` makes it return -EIO) and the function added to the
   * domain's device list.
   */
  attach(d: S390Domain, ioatFails = false): number {
    const end =
      typeof d.geometry.apertureEnd === "bigint" ? d.geometry.apertureEnd : BigInt(d.geometry.apertureEnd);
    if (0n > this.endDma || end < this.startDma) {
      d.counters.warn("s390_iommu_attach_device: aperture outside the DMA range");
      return EINVAL;
    }
    this.detach();
    if (ioatFails) return EIO;
    this.iota = this.iotaOf(d);
    this.dmaTable = d.dmaTable;
    this.attached = d;
    d.devices.push(this);
    return 0;
  }

  /** `blocking_domain_attach_device()`: leave the paging domain, unregister the IOAT. */
  detach(): void {
    const d = this.attached;
    if (!d) return;
    const i = d.devices.indexOf(this);
    if (i >= 0) d.devices.splice(i, 1);
    this.attached = null;
    this.dmaTable = -1;
    this.iota = 0n;
  }

  /**
   * Model-only: sees every RPCIT (`addr`, `size`) as the function issues it, e.g. an IOTLB
   * feed (`s390IotlbFeed`); null (the default) costs one test per RPCIT.
   */
  rpcitTap: ((addr: number, size: number) => void) | null = null;

  /** `zpci_refresh_trans()`: one RPCIT (synchronous: the purge is done when it returns). */
  refreshTrans(addr: number, size: number): number {
    this.rpcits++;
    if (this.rpcitTap) this.rpcitTap(addr, size);
    return 0;
  }
}

// ------------------------------------------------------------------------------ table memory

/**
 * `dma_page_table_cache` = `kmem_cache_create("PCI_DMA_page_tables", ZPCI_PT_SIZE,
 * ZPCI_PT_ALIGN, 0, NULL)`: 2 KiB page tables, two to a slab page (model: one cache per
 * domain; region tables are 16 KiB blocks of their own).
 */
function createPageTableCache(allocator: TableAllocator): KmemCache {
  return new KmemCache(allocator, { name: "PCI_DMA_page_tables", size: ZPCI_PT_SIZE, align: ZPCI_PT_ALIGN });
}

/** `dma_alloc_cpu_table()` on a bare allocator: 16 KiB, every entry ZPCI_TABLE_INVALID. */
function allocRegionTableRaw(allocator: TableAllocator): number {
  const pa = allocUncounted(allocator, ZPCI_TABLE_SIZE);
  if (pa < 0) return -1;
  const c = allocator.mem.chunk(pa)!;
  const w = (pa - c.pa) / 4;
  for (let i = 0; i < ZPCI_TABLE_ENTRIES; i++) {
    c.words[w + 2 * i] = ZPCI_TABLE_INVALID;
    c.words[w + 2 * i + 1] = 0;
  }
  return pa;
}

function allocRegionTable(d: S390Domain): number {
  const pa = allocRegionTableRaw(d.allocator);
  if (pa >= 0) {
    d.regionTablesLive++;
    d.regionTablesAllocated++;
    d.counters.tablesAllocated++;
  }
  return pa;
}

function freeRegionTable(d: S390Domain, pa: number): void {
  forgetTables(d);
  releaseUncounted(d.allocator, pa);
  d.regionTablesLive--;
  d.counters.tablesFreed++;
}

/** `dma_alloc_page_table()`: 2 KiB from the slab, every entry ZPCI_PTE_INVALID. */
function allocPageTable(d: S390Domain): number {
  const pa = d.ptCache.alloc();
  if (pa < 0) return -1;
  d.counters.tablesAllocated++;
  const c = d.allocator.mem.chunk(pa)!;
  const w = (pa - c.pa) / 4;
  for (let i = 0; i < ZPCI_PT_ENTRIES; i++) c.words[w + 2 * i] = ZPCI_PTE_INVALID;
  return pa;
}

/** `dma_free_page_table()` */
function freePageTable(d: S390Domain, pa: number): void {
  forgetTables(d);
  d.ptCache.free(pa);
  d.counters.tablesFreed++;
}

// ------------------------------------------------------------------------------------ walking

/**
 * Table memory resolved once per table: the last table seen at each level (slot = table type
 * / 4 for region/segment tables, 4 for page tables) with its chunk and word base, for one
 * PhysMem at a time. Every table free (and a domain's teardown) forgets them all, so a table
 * address reused by a later allocation is resolved afresh.
 */
let cacheMem: PhysMem | undefined;
const cachePa = [-1, -1, -1, -1, -1];
const cacheChunk: (MemChunk | undefined)[] = [undefined, undefined, undefined, undefined, undefined];
const cacheBase = [0, 0, 0, 0, 0];
const PT_SLOT = 4;

function forgetTables(d?: S390Domain): void {
  if (d) d.wcKey = -1;
  cacheMem = undefined;
  for (let i = 0; i < 5; i++) {
    cachePa[i] = -1;
    cacheChunk[i] = undefined;
  }
}

/** The chunk of the table at `pa` (level `slot`), leaving its word base in `tBase`. */
let tBase = 0;
function tableChunk(mem: PhysMem, pa: number, slot: number): MemChunk {
  if (cacheMem === mem && cachePa[slot] === pa) {
    tBase = cacheBase[slot]!;
    return cacheChunk[slot]!;
  }
  if (cacheMem !== mem) {
    forgetTables();
    cacheMem = mem;
  }
  const c = mem.chunk(pa)!;
  tBase = (pa - c.pa) / 4;
  cachePa[slot] = pa;
  cacheChunk[slot] = c;
  cacheBase[slot] = tBase;
  return c;
}

/** A non-allocating walk met an invalid region/segment entry. */
const MISSING = -1;
/** The kernel's NULL: an allocation failed, or an entry's type bits do not match its table. */
const FAIL = -2;

/** Where the last successful walk ended: the PT's memory and the PTE's low word index. */
let wWords: Uint32Array = NO_WORDS;
let wWord = 0;
/** Span of the entry at which the last failed walk stopped. */
let wSpan = 0;

/** `calc_rfx` / `calc_rsx` / `calc_rtx` of a frame number, for the table type holding the index. */
function regionIndex(type: number, pfn: number): number {
  if (type === ZPCI_TABLE_TYPE_RFX) return Math.floor(pfn / 2 ** 41) & 0x7ff;
  if (type === ZPCI_TABLE_TYPE_RSX) return Math.floor(pfn / 2 ** 30) & 0x7ff;
  return Math.floor(pfn / 2 ** 19) & 0x7ff;
}

/** `1UL << ZPCI_{RS,RT,ST}_SHIFT`…: the IOVA span of one entry of a region table of `type`. */
export function s390RegionEntrySpan(type: number): number {
  return type === ZPCI_TABLE_TYPE_RFX ? 2 ** 53 : type === ZPCI_TABLE_TYPE_RSX ? 2 ** 42 : 2 ** 31;
}

/**
 * `dma_walk_rf_table()` / `dma_walk_rs_table()` / `dma_get_seg_table_origin()`: the table
 * below entry `idx` of the region table at `table` (of `type`), allocating it (filled with
 * ZPCI_TABLE_INVALID, installed with cmpxchg against ZPCI_TABLE_INVALID) when the entry is
 * invalid and `alloc` is set.
 */
function regionChild(d: S390Domain, table: number, idx: number, type: number, alloc: boolean): number {
  const c = tableChunk(d.allocator.mem, table, type >> 2);
  const w = tBase + 2 * idx;
  const lo = c.words[w]!;
  const hi = c.words[w + 1]!;
  d.counters.pteReads++;
  if (!(lo & ZPCI_TABLE_INVALID)) {
    // get_rf_rso() / get_rs_rto() / get_rt_sto(): the type bits must match.
    return (lo & ZPCI_TABLE_TYPE_MASK) === type ? hi * TWO32 + ((lo & ~ZPCI_RTE_FLAG_MASK) >>> 0) : FAIL;
  }
  if (!alloc) return MISSING;
  const child = allocRegionTable(d);
  if (child < 0) return FAIL;
  // set_*(): keep the flag bits, the table origin, the type; validate_*(): valid, no offset,
  // full length; entry_clr_protected().
  let nlo = (lo & ZPCI_RTE_FLAG_MASK) | ((child % TWO32) & ~ZPCI_RTE_FLAG_MASK) | type;
  nlo = (nlo & ~ZPCI_TABLE_INVALID & ~ZPCI_TABLE_OFFSET_MASK) | ZPCI_TABLE_LEN_RTX;
  nlo &= ~ZPCI_TABLE_PROTECTED;
  if (lo === ZPCI_TABLE_INVALID && hi === 0) {
    c.words[w] = nlo >>> 0;
    c.words[w + 1] = Math.floor(child / TWO32);
    d.counters.pteWrites++;
    return child;
  }
  // cmpxchg() lost to a non-canonical invalid entry: "someone else was faster", use theirs.
  freeRegionTable(d, child);
  return (lo & ZPCI_TABLE_TYPE_MASK) === type ? hi * TWO32 + ((lo & ~ZPCI_RTE_FLAG_MASK) >>> 0) : FAIL;
}

/** `dma_get_page_table_origin()`: the page table below segment entry `sx`, allocating it with `alloc`. */
function segmentChild(d: S390Domain, st: number, sx: number, alloc: boolean): number {
  const c = tableChunk(d.allocator.mem, st, ZPCI_TABLE_TYPE_SX >> 2);
  const w = tBase + 2 * sx;
  const lo = c.words[w]!;
  const hi = c.words[w + 1]!;
  d.counters.pteReads++;
  if (!(lo & ZPCI_TABLE_INVALID)) {
    return (lo & ZPCI_TABLE_TYPE_MASK) === ZPCI_TABLE_TYPE_SX
      ? hi * TWO32 + ((lo & ~ZPCI_STE_FLAG_MASK) >>> 0)
      : FAIL;
  }
  if (!alloc) return MISSING;
  const pt = allocPageTable(d);
  if (pt < 0) return FAIL;
  let nlo = (lo & ZPCI_STE_FLAG_MASK) | ((pt % TWO32) & ~ZPCI_STE_FLAG_MASK) | ZPCI_TABLE_TYPE_SX;
  nlo &= ~ZPCI_TABLE_INVALID & ~ZPCI_TABLE_PROTECTED;
  if (lo === ZPCI_TABLE_INVALID && hi === 0) {
    c.words[w] = nlo >>> 0;
    c.words[w + 1] = Math.floor(pt / TWO32);
    d.counters.pteWrites++;
    return pt;
  }
  freePageTable(d, pt);
  return (lo & ZPCI_TABLE_TYPE_MASK) === ZPCI_TABLE_TYPE_SX
    ? hi * TWO32 + ((lo & ~ZPCI_STE_FLAG_MASK) >>> 0)
    : FAIL;
}

/**
 * `dma_walk_cpu_trans()` (with `alloc`) or the lookup walk of `iova_to_phys_length` (without;
 * the pre-series `s390_iommu_iova_to_phys()` walked the same way): 0 with `wWords`/`wWord` at the PTE of frame `pfn`, else MISSING (`wSpan` = the
 * span of the invalid entry met) or FAIL.
 */
function walkPte(d: S390Domain, pfn: number, alloc: boolean): number {
  const key = Math.floor(pfn / 256);
  if (d.wcKey === key) {
    d.counters.pteReads += d.levels - 1;
    wWords = d.wcWords;
    wWord = d.wcBase + 2 * (pfn & 0xff);
    return 0;
  }
  let table = d.dmaTable;
  let type = d.originType;
  while (type !== ZPCI_TABLE_TYPE_SX) {
    const child = regionChild(d, table, regionIndex(type, pfn), type, alloc);
    if (child < 0) {
      wSpan = s390RegionEntrySpan(type);
      return child;
    }
    table = child;
    type -= 4;
  }
  const pt = segmentChild(d, table, Math.floor(pfn / 256) & 0x7ff, alloc);
  if (pt < 0) {
    wSpan = SZ_1M;
    return pt;
  }
  wWords = tableChunk(d.allocator.mem, pt, PT_SLOT).words;
  wWord = tBase + 2 * (pfn & 0xff);
  d.wcKey = key;
  d.wcWords = wWords;
  d.wcBase = tBase;
  return 0;
}

/**
 * `dma_update_cpu_trans()` on the PTE the last walk found: invalidate (WARN when already
 * invalid), or set the page frame `paPfn` and validate (WARN when already valid); then set or
 * clear the protection bit.
 */
function updatePte(d: S390Domain, paPfn: number, protect: boolean, invalidate: boolean): void {
  const w = wWords;
  let lo = w[wWord]!;
  let hi = w[wWord + 1]!;
  if (invalidate) {
    if (lo & ZPCI_PTE_INVALID) d.counters.warn("invalidate_pt_entry: PTE already invalid");
    lo |= ZPCI_PTE_INVALID;
  } else {
    lo = (lo & 0xfff) | ((paPfn % TWO20) * SZ_4K);
    hi = Math.floor(paPfn / TWO20);
    if (!(lo & ZPCI_PTE_INVALID)) d.counters.warn("validate_pt_entry: PTE already valid");
    lo &= ~ZPCI_PTE_INVALID;
  }
  lo = protect ? lo | ZPCI_TABLE_PROTECTED : lo & ~ZPCI_TABLE_PROTECTED;
  w[wWord] = lo >>> 0;
  w[wWord + 1] = hi;
  d.counters.pteWrites++;
}

function pteValid(): boolean {
  return !(wWords[wWord]! & ZPCI_PTE_INVALID);
}

// ----------------------------------------------------------------------- u64 range arithmetic

let lastPfn = 0;
/** True when the last {@link lastByte} wrapped past 2^64 (or below 0). */
let wrapped = false;

/** `iova + size − 1` in u64: its frame number in `lastPfn` (aperture ends are frame-aligned − 1). */
function lastByte(ipfn: number, ioff: number, size: number): void {
  const sPfn = Math.floor(size / SZ_4K);
  let off = ioff + (size - sPfn * SZ_4K) - 1;
  let pfn = ipfn + sPfn;
  if (off < 0) {
    off += SZ_4K;
    pfn -= 1;
  } else if (off >= SZ_4K) {
    off -= SZ_4K;
    pfn += 1;
  }
  wrapped = pfn < 0 || pfn >= PFNS;
  if (pfn < 0) pfn += PFNS;
  else if (pfn >= PFNS) pfn -= PFNS;
  lastPfn = pfn;
}

/** `(iova + size − 1) > aperture_end` as the kernel computes it (u64, wrapping). */
function pastAperture(d: S390Domain, ipfn: number, ioff: number, size: number): boolean {
  lastByte(ipfn, ioff, size);
  return lastPfn > d.apertureEndPfn;
}

/** `__ffs(pgsize)` (0 for 0, where the kernel's is undefined). */
function ffs(x: number): number {
  if (x === 0) return 0;
  // Fast path for a positive int32: the lowest set bit's index.
  if (x > 0 && (x | 0) === x) return 31 - Math.clz32(x & -x);
  let n = 0;
  while (Math.floor(x / 2 ** n) % 2 === 0) n++;
  return n;
}

// ------------------------------------------------------------------------------------ the ops

/** `s390_iommu_validate_trans()` undo path: invalidate the `i` pages before `pfn`. */
function undoMap(d: S390Domain, pfn: number, i: number): void {
  while (i-- > 0) {
    pfn = pfn === 0 ? PFNS - 1 : pfn - 1;
    if (walkPte(d, pfn, true) !== 0) break;
    updatePte(d, 0, false, true);
  }
}

function s390MapPages(
  d: S390Domain,
  iova: Addr,
  paddr: Addr,
  pgsize: number,
  pgcount: number,
  prot: number,
  _gfp: number,
  mapped: SizeOut,
): number {
  if (pgsize !== SZ_4K) return EINVAL;
  const ipfn = pfnOf(iova);
  const ioff = offOf(iova);
  const size = pgcount * SZ_4K;
  if (d.strict && pgcount === 0) return 0;
  const past = pastAperture(d, ipfn, ioff, size);
  if (d.strict && wrapped) return EINVAL;
  if (wrapped) d.quirks["iova-wrap"]++;
  if (past) return EINVAL;
  if (ioff !== 0 || offOf(paddr) !== 0) return EINVAL;
  const protect = !(prot & IOMMU_WRITE);
  let pfn = ipfn;
  let ppfn = pfnOf(paddr);
  for (let i = 0; i < pgcount; i++) {
    if (walkPte(d, pfn, true) !== 0) {
      undoMap(d, pfn, i);
      return ENOMEM;
    }
    if (pteValid()) {
      if (d.strict) {
        undoMap(d, pfn, i);
        return EEXIST;
      }
      d.quirks["overwrite-warn"]++;
    }
    updatePte(d, ppfn, protect, false);
    pfn = pfn + 1 === PFNS ? 0 : pfn + 1;
    ppfn = ppfn + 1 === PFNS ? 0 : ppfn + 1;
  }
  mapped.value += size;
  d.ctrs.mappedPages += pgcount;
  return 0;
}

function s390UnmapPages(
  d: S390Domain,
  iova: Addr,
  pgsize: number,
  pgcount: number,
  gather: IotlbGather | null,
): number {
  const ipfn = pfnOf(iova);
  const ioff = offOf(iova);
  if (d.strict) {
    if (pgsize !== SZ_4K || pgcount === 0) return 0;
    if (pastAperture(d, ipfn, ioff, pgcount * SZ_4K) || wrapped) {
      d.counters.warn("s390_iommu_unmap_pages: range outside the aperture");
      return 0;
    }
    let pfn = ipfn;
    let n = 0;
    for (; n < pgcount; n++) {
      if (walkPte(d, pfn, false) !== 0 || !pteValid()) break;
      updatePte(d, 0, false, true);
      pfn++;
    }
    if (n && gather) iotlbGatherAddRange(gather, ipfn * SZ_4K + ioff, n * SZ_4K);
    d.ctrs.unmappedPages += n;
    return n * SZ_4K;
  }
  // pgcount << __ffs(pgsize); a 4 KiB pgsize (every caller's) skips the power.
  const size = pgsize === SZ_4K ? pgcount * SZ_4K : pgcount * 2 ** ffs(pgsize);
  if (pgsize !== SZ_4K) d.quirks["unmap-size-arith"]++;
  const past = pastAperture(d, ipfn, ioff, size);
  if (wrapped) d.quirks["iova-wrap"]++;
  if (past) {
    d.counters.warn("s390_iommu_unmap_pages: range outside the aperture");
    return 0;
  }
  // s390_iommu_invalidate_trans(): pgcount 4 KiB pages, walking with allocation.
  let pfn = ipfn;
  for (let i = 0; i < pgcount; i++) {
    const before = d.counters.tablesAllocated;
    if (walkPte(d, pfn, true) !== 0) return 0;
    if (d.counters.tablesAllocated !== before) d.quirks["unmap-allocates"]++;
    if (!pteValid()) d.quirks["unmap-invalid-warn"]++;
    updatePte(d, 0, false, true);
    pfn = pfn + 1 === PFNS ? 0 : pfn + 1;
  }
  if (gather) iotlbGatherAddRange(gather, ipfn * SZ_4K + ioff, size);
  d.ctrs.unmappedPages += pgcount;
  return size;
}

/**
 * `iova_to_phys_length` (the series' op, and since its last step the only lookup:
 * `iommu_iova_to_phys()` answers through it) for s390: a valid PTE → its page + the page offset
 * (which the pre-series `s390_iommu_iova_to_phys()` dropped), 4 KiB; an invalid entry → the
 * span it covers (RF 2^53, RS 2^42, RT 2 GiB, ST 1 MiB, PTE 4 KiB); outside the aperture → the
 * largest naturally aligned block around the IOVA above it.
 */
function s390IovaToPhysLength(d: S390Domain, iova: Addr, out: PhysLength): void {
  const pfn = pfnOf(iova);
  if (pfn > d.apertureEndPfn) {
    out.setUnmapped(holeSpanOutside(iova, d.translatableRanges));
    return;
  }
  let w: Uint32Array;
  let i: number;
  if (d.wcKey === Math.floor(pfn / 256)) {
    // walkPte()'s cache hit, inline: the skipped region/segment entries and the PTE.
    d.counters.pteReads += d.levels;
    w = d.wcWords;
    i = d.wcBase + 2 * (pfn & 0xff);
  } else {
    if (walkPte(d, pfn, false) !== 0) {
      out.setUnmapped(wSpan);
      return;
    }
    d.counters.pteReads++;
    w = wWords;
    i = wWord;
  }
  const lo = w[i]!;
  if (lo & ZPCI_PTE_INVALID) out.setUnmapped(SZ_4K);
  else
    out.setMapped(
      w[i + 1]! * TWO20 + (lo >>> 12),
      typeof iova === "number" ? iova - pfn * SZ_4K : offOf(iova),
      SZ_4K,
    );
}

/** `s390_iommu_iotlb_sync()`: one RPCIT per attached function over the gathered range. */
function s390IotlbSync(d: S390Domain, gather: IotlbGather): void {
  if (gather.endExcl === 0) return;
  for (const z of d.devices) {
    d.ctrs.syncRpcits++;
    z.refreshTrans(gather.start, gather.endExcl - gather.start);
    d.counters.flushRange++;
  }
}

/** `s390_iommu_iotlb_sync_map()`: RPCIT only for functions that need it (`tlb_refresh`). */
function s390IotlbSyncMap(d: S390Domain, iova: number, size: number): number {
  for (const z of d.devices) {
    if (!z.tlbRefresh) continue;
    d.ctrs.syncMapRpcits++;
    z.refreshTrans(iova, size);
    d.counters.flushRange++;
  }
  return 0;
}

/** `s390_iommu_flush_iotlb_all()`: one global RPCIT per attached function. */
function s390FlushIotlbAll(d: S390Domain): void {
  for (const z of d.devices) {
    d.ctrs.globalRpcits++;
    z.refreshTrans(Number(z.startDma), Number(z.endDma - z.startDma + 1n));
    d.counters.flushAll++;
  }
}

/** `dma_cleanup_tables()` (via `s390_domain_free()`): every table reachable from the root. */
function s390DomainFree(d: S390Domain): void {
  if (d.freed) return;
  d.freed = true;
  if (d.devices.length) d.counters.warn("s390_domain_free: devices still attached");
  const freeLevel = (table: number, type: number): void => {
    const c = d.allocator.mem.chunk(table)!;
    const base = (table - c.pa) / 4;
    for (let i = 0; i < ZPCI_TABLE_ENTRIES; i++) {
      const lo = c.words[base + 2 * i]!;
      if (lo & ZPCI_TABLE_INVALID) continue;
      const hi = c.words[base + 2 * i + 1]!;
      if (type === ZPCI_TABLE_TYPE_SX) freePageTable(d, hi * TWO32 + ((lo & ~ZPCI_STE_FLAG_MASK) >>> 0));
      else freeLevel(hi * TWO32 + ((lo & ~ZPCI_RTE_FLAG_MASK) >>> 0), type - 4);
    }
    freeRegionTable(d, table);
  };
  freeLevel(d.dmaTable, d.originType);
  d.ptCache.destroy();
  forgetTables(d);
}

/** `s390_iommu_ops.default_domain_ops` of one function. */
export function createS390Ops(name = "s390-iommu"): IommuDomainOps<S390Domain> {
  return {
    name,
    mapPages: s390MapPages,
    unmapPages: s390UnmapPages,
    iovaToPhysLength: s390IovaToPhysLength,
    iovaToPhysRuns: s390IovaToPhysRuns,
    iotlbSync: s390IotlbSync,
    iotlbSyncMap: s390IotlbSyncMap,
    flushIotlbAll: s390FlushIotlbAll,
    free: s390DomainFree,
    inspect: (d): PageTableInspector | null => (d.freed ? null : new S390Inspector(d)),
  };
}

/** `s390_domain->origin_type` as the harness names it (`rtx`, `rsx`, `rfx`). */
export function s390OriginName(d: S390Domain): S390OriginType {
  return d.originType === ZPCI_TABLE_TYPE_RTX ? "rtx" : d.originType === ZPCI_TABLE_TYPE_RSX ? "rsx" : "rfx";
}
