/**
 * drivers/iommu/tegra-smmu.c (6.16–6.19): the Tegra SMMU driver's paging side as an executable
 * model — the SMMU instance (`struct tegra_smmu`, an IommuDriver), its address spaces
 * (`struct tegra_smmu_as`, the paging domains) and their `iommu_domain_ops`.
 *
 * The table is the hardware's: a 4 KiB page directory of 1024 u32 PDEs (one per 4 MiB) and
 * 4 KiB page tables of 1024 u32 PTEs, both in simulated physical memory. Like the driver, the
 * model keeps two software arrays beside it — `pts[]` (page-table addresses, which the
 * driver walks instead of the PDEs) and `count[]` (live PTEs per page table; a table is
 * freed when its count drops to 0).
 *
 * Hot paths (map/unmap/lookup) allocate nothing and use no BigInt per PTE: addresses are
 * split once into a 4 KiB frame number and an offset, entries are read and written as u32.
 */
import {
  type Addr,
  allocUncounted,
  ERRNO,
  holeSpanOutside,
  IOMMU_DOMAIN_UNMANAGED,
  IOMMU_READ,
  IOMMU_WRITE,
  type IommuCap,
  IommuCounters,
  type IommuDomain,
  type IommuDomainAllocOptions,
  type IommuDomainOps,
  type IommuDriver,
  type IotlbGather,
  type IovaRange,
  type MemChunk,
  MmioRegs,
  offOf,
  type PageTableInspector,
  type PhysLength,
  PhysMem,
  pfnOf,
  releaseUncounted,
  type SizeOut,
  SZ_4K,
  SZ_4M,
  TableAllocator,
} from "@iommu/core";
import { TegraSmmuInspector } from "./inspect.js";
import {
  SMMU_ASID_ENABLE,
  SMMU_ASID_MASK,
  SMMU_NUM_PDE,
  SMMU_PDE_ATTR,
  SMMU_PDE_NEXT,
  SMMU_PTB_ASID,
  SMMU_PTB_DATA,
  SMMU_PTC_FLUSH,
  SMMU_PTC_FLUSH_HI,
  SMMU_PTC_FLUSH_HI_MASK,
  SMMU_PTC_FLUSH_TYPE_ADR,
  SMMU_PTE_NONSECURE,
  SMMU_PTE_READABLE,
  SMMU_PTE_WRITABLE,
  SMMU_SIZE_PD,
  SMMU_SIZE_PT,
  SMMU_TLB_FLUSH,
  SMMU_TLB_FLUSH_ASID_MATCH,
  SMMU_TLB_FLUSH_VA_MATCH_ALL,
  SMMU_TLB_FLUSH_VA_MATCH_GROUP,
  SMMU_TLB_FLUSH_VA_MATCH_SECTION,
  TEGRA_SMMU_SOCS,
  type TegraSmmuSocInfo,
  type TegraSoc,
} from "./regs.js";
import { tegraIovaToPhysRuns } from "./runs.js";

const EINVAL = -ERRNO.EINVAL;
const ENOMEM = -ERRNO.ENOMEM;
const EEXIST = -ERRNO.EEXIST;
const ENOSPC = -ERRNO.ENOSPC;
const EOPNOTSUPP = -ERRNO.EOPNOTSUPP;
const TWO32 = 2 ** 32;
/** Frames of the 32-bit IOVA space. */
const IOVA_PFNS = 2 ** 20;

/**
 * `tegra-smmu.c` behaviours that a strict domain reports instead of reproducing (see
 * the README's "Known kernel quirks"). Each also counts in {@link TegraSmmuDomain.quirks}
 * when it happens in the default (kernel) mode.
 */
export type TegraSmmuQuirk =
  /** `map_pages` writes one PTE and reports `pgsize` mapped, whatever `pgcount` and `pgsize` say. */
  | "map-ignores-pgcount"
  /** `unmap_pages` clears one PTE and returns `pgsize`, whatever `pgcount` and `pgsize` say. */
  | "unmap-ignores-pgcount"
  /** A map over a live PTE overwrites it silently (the use count is not bumped). */
  | "overwrite"
  /** IOVA bits above 31 are dropped by the index masks: IOVAs ≥ 4 GiB alias the low 4 GiB. */
  | "iova-alias"
  /** `paddr >> 12` is ORed in unchecked: frame bits beyond `num_address_bits` land in R/W/NS. */
  | "pa-overflow"
  /** `tegra_smmu_domain_free()` frees neither the page directory nor the page tables (a TODO). */
  | "free-leaks-tables";

/** `tegra-smmu.c` quirks: every {@link TegraSmmuQuirk}, in README order. */
export const TEGRA_SMMU_QUIRKS: readonly TegraSmmuQuirk[] = [
  "map-ignores-pgcount",
  "unmap-ignores-pgcount",
  "overwrite",
  "iova-alias",
  "pa-overflow",
  "free-leaks-tables",
];

/**
 * `struct tegra_smmu_as`: one address space (paging domain). `pd`/`pts`/`count` are the
 * driver's fields; `pdChunk`/`ptChunks` cache the memory holding them (model-only).
 */
export interface TegraSmmuDomain extends IommuDomain {
  /** `as->smmu` (the model links it at allocation; the kernel at the first attach). */
  readonly smmu: TegraSmmu;
  /** Page-table memory of this address space. */
  readonly allocator: TableAllocator;
  /** `as->pd` / `as->pd_dma`: physical address of the page directory. */
  readonly pd: number;
  /** Memory holding the page directory (model-only cache). */
  readonly pdChunk: MemChunk;
  /** `as->pts[]`: physical address of each page table, -1 for none. */
  readonly pts: Float64Array;
  /** Memory holding each page table (model-only cache, parallel to `pts`). */
  readonly ptChunks: Array<MemChunk | undefined>;
  /** `as->count[]`: live PTEs of each page table. */
  readonly count: Uint32Array;
  /** `as->attr`: PD attributes written with the PD frame into SMMU_PTB_DATA. */
  readonly attr: number;
  /** `as->id`: the ASID, valid while `useCount > 0`. */
  id: number;
  /** `as->use_count`: attachments (one per swgroup of each attached device). */
  useCount: number;
  /** Model-only: report kernel quirks (typed errno / corrected value) instead of reproducing them. */
  strict: boolean;
  /** Model-only: how often each kernel quirk happened (default mode). */
  readonly quirks: Record<TegraSmmuQuirk, number>;
  /** Model-only: set once `free` ran. */
  freed: boolean;
}

/** Model-only: an observer of the SMMU's register accesses (`write` false for a read). */
export type TegraSmmuMmioTap = (write: boolean, offset: number, value: number) => void;

/** `struct tegra_smmu` hardware description: a SoC name, or its parameters, or both (overrides win). */
export interface TegraSmmuOptions extends Partial<TegraSmmuSocInfo> {
  /** Which SoC's tables to start from (default tegra210). */
  readonly soc?: TegraSoc;
  /** Page-table memory shared by the instance's domains (default: a fresh arena per domain). */
  readonly allocator?: TableAllocator;
  /** Every domain starts strict (see {@link TegraSmmuQuirk}). */
  readonly strict?: boolean;
  /** Driver instance name (`dev_name()` of the memory controller). */
  readonly name?: string;
}

function freshQuirks(): Record<TegraSmmuQuirk, number> {
  return {
    "map-ignores-pgcount": 0,
    "unmap-ignores-pgcount": 0,
    overwrite: 0,
    "iova-alias": 0,
    "pa-overflow": 0,
    "free-leaks-tables": 0,
  };
}

/**
 * `struct tegra_smmu`: one SMMU (part of the memory controller) and its `iommu_ops`. Registers
 * are a small fake register file: every access is counted in `mmioReads`/`mmioWrites` and the
 * last value written to each offset is kept (`readReg`).
 */
export class TegraSmmu implements IommuDriver<TegraSmmuDomain> {
  readonly name: string;
  readonly pgsizeBitmap = SZ_4K;
  /** The SoC parameters in force. */
  readonly soc: TegraSmmuSocInfo;
  /** `smmu->pfn_mask`: 2^(num_address_bits − 12) − 1. */
  readonly pfnMask: number;
  /** `smmu->asids`: ASIDs in use. */
  readonly asids: Uint8Array;
  /** MMIO accesses since creation or the last {@link resetMmio}. */
  mmioReads = 0;
  mmioWrites = 0;
  /** `tegra_smmu_ops.default_domain_ops`: shared by every domain of this instance. */
  readonly ops: IommuDomainOps<TegraSmmuDomain>;
  /**
   * Model-only: sees every MMIO access (`write` false for a read) as the SMMU takes it, e.g.
   * an IOTLB feed (`tegraSmmuIotlbFeed`); null (the default) costs one test per access.
   */
  mmioTap: TegraSmmuMmioTap | null = null;
  private readonly regs = new MmioRegs(0x1000);
  private readonly sharedAllocator: TableAllocator | undefined;
  private readonly strictDefault: boolean;

  constructor(options: TegraSmmuOptions = {}) {
    const base = TEGRA_SMMU_SOCS[options.soc ?? "tegra210"];
    this.soc = {
      numAddressBits: options.numAddressBits ?? base.numAddressBits,
      numAsids: options.numAsids ?? base.numAsids,
      atomSize: options.atomSize ?? base.atomSize,
      numTlbLines: options.numTlbLines ?? base.numTlbLines,
      roundRobin: options.roundRobin ?? base.roundRobin,
      requestLimit: options.requestLimit ?? base.requestLimit,
    };
    this.name = options.name ?? "tegra-mc";
    this.pfnMask = 2 ** (this.soc.numAddressBits - 12) - 1;
    this.asids = new Uint8Array(this.soc.numAsids);
    this.sharedAllocator = options.allocator;
    this.strictDefault = options.strict ?? false;
    this.ops = createTegraSmmuOps(this.name);
  }

  /** `tegra_smmu_ops` has no `capable`: the core answers false for every capability. */
  capable(_cap: IommuCap): boolean {
    return false;
  }

  /**
   * `tegra_smmu_domain_alloc_paging()`: a zeroed 4 KiB page directory, the software arrays,
   * aperture 0..0xffffffff with force_aperture. Flags are not supported (-EOPNOTSUPP);
   * -ENOMEM when the page directory cannot be allocated.
   */
  domainAllocPagingFlags(flags: number, options: IommuDomainAllocOptions = {}): TegraSmmuDomain | number {
    if (flags !== 0) return EOPNOTSUPP;
    const allocator = options.allocator ?? this.sharedAllocator ?? new TableAllocator(new PhysMem());
    const counters = options.counters ?? new IommuCounters();
    const pd = allocUncounted(allocator, SMMU_SIZE_PD);
    if (pd < 0) return ENOMEM;
    counters.tablesAllocated++;
    const d: TegraSmmuDomain = {
      type: options.type ?? IOMMU_DOMAIN_UNMANAGED,
      ops: this.ops,
      pgsizeBitmap: SZ_4K,
      geometry: { apertureStart: 0, apertureEnd: 0xffff_ffff, forceAperture: true },
      counters,
      smmu: this,
      allocator,
      pd,
      pdChunk: allocator.mem.chunk(pd)!,
      pts: new Float64Array(SMMU_NUM_PDE).fill(-1),
      ptChunks: new Array<MemChunk | undefined>(SMMU_NUM_PDE).fill(undefined),
      count: new Uint32Array(SMMU_NUM_PDE),
      attr: SMMU_PDE_ATTR,
      id: 0,
      useCount: 0,
      strict: this.strictDefault,
      quirks: freshQuirks(),
      freed: false,
    };
    return d;
  }

  /**
   * `tegra_smmu_attach_dev()` for a device with one swgroup: `tegra_smmu_as_prepare()` (the
   * PD must lie inside the PFN range, else -ENOMEM; an ASID, else -ENOSPC; PTC + TLB flush,
   * PTB_ASID and PTB_DATA written) then `tegra_smmu_enable()` of the swgroup's ASID register
   * at `swgroupReg` (default 0x228, the first SMMU_*_ASID register).
   */
  attach(d: TegraSmmuDomain, swgroupReg = 0x228): number {
    if (d.useCount > 0) {
      d.useCount++;
    } else {
      if (!this.dmaAddrValid(d.pd)) return ENOMEM;
      let id = 0;
      while (id < this.soc.numAsids && this.asids[id]) id++;
      if (id >= this.soc.numAsids) return ENOSPC;
      this.asids[id] = 1;
      d.id = id;
      this.flushPtc(d.pd, 0);
      this.flushTlbAsid(id);
      this.writel(id & 0x7f, SMMU_PTB_ASID);
      this.writel(ptbDataValue(d.pd, d.attr), SMMU_PTB_DATA);
      this.flush();
      d.useCount++;
    }
    const v = this.readl(swgroupReg);
    this.writel(((v & ~SMMU_ASID_MASK) | (d.id & SMMU_ASID_MASK) | SMMU_ASID_ENABLE) >>> 0, swgroupReg);
    return 0;
  }

  /** `tegra_smmu_identity_attach()` for one swgroup: disable it, `tegra_smmu_as_unprepare()`. */
  detach(d: TegraSmmuDomain, swgroupReg = 0x228): void {
    if (d.useCount === 0) return;
    const v = this.readl(swgroupReg);
    this.writel(((v & ~SMMU_ASID_MASK) | (d.id & SMMU_ASID_MASK)) & ~SMMU_ASID_ENABLE, swgroupReg);
    if (--d.useCount > 0) return;
    this.asids[d.id] = 0;
  }

  /** The last value written to a register (0 if never written). */
  readReg(offset: number): number {
    return this.regs.read(offset);
  }

  /** Zero the MMIO access counters. */
  resetMmio(): void {
    this.mmioReads = 0;
    this.mmioWrites = 0;
  }

  // -------------------------------------------------------------------- register primitives

  /** `smmu_writel()` */
  writel(value: number, offset: number): void {
    this.mmioWrites++;
    this.regs.write(offset, value);
    if (this.mmioTap) this.mmioTap(true, offset, value >>> 0);
  }

  /** `smmu_readl()` */
  readl(offset: number): number {
    this.mmioReads++;
    const value = this.regs.read(offset);
    if (this.mmioTap) this.mmioTap(false, offset, value);
    return value;
  }

  /** `smmu_dma_addr_valid()`: the frame number fits pfn_mask. */
  dmaAddrValid(pa: number): boolean {
    return Math.floor(pa / SZ_4K) <= this.pfnMask;
  }

  /** `smmu_flush_ptc()`: flush the page-table cache line holding `dma + offset`. */
  flushPtc(dma: number, offset: number): void {
    offset &= ~(this.soc.atomSize - 1);
    if (this.soc.numAddressBits > 32)
      this.writel(Math.floor(dma / TWO32) & SMMU_PTC_FLUSH_HI_MASK, SMMU_PTC_FLUSH_HI);
    this.writel(((dma + offset) % TWO32) | SMMU_PTC_FLUSH_TYPE_ADR, SMMU_PTC_FLUSH);
  }

  private asidBits(asid: number): number {
    return this.soc.numAsids === 4 ? (asid & 0x3) << 29 : (asid & 0x7f) << 24;
  }

  /** `smmu_flush_tlb_asid()` */
  flushTlbAsid(asid: number): void {
    this.writel(
      this.asidBits(asid) | SMMU_TLB_FLUSH_ASID_MATCH | SMMU_TLB_FLUSH_VA_MATCH_ALL,
      SMMU_TLB_FLUSH,
    );
  }

  /** `smmu_flush_tlb_section()`: the 4 MiB section of `iova32`. */
  flushTlbSection(asid: number, iova32: number): void {
    const va = ((iova32 & 0xffc0_0000) >>> 12) | SMMU_TLB_FLUSH_VA_MATCH_SECTION;
    this.writel(this.asidBits(asid) | SMMU_TLB_FLUSH_ASID_MATCH | va, SMMU_TLB_FLUSH);
  }

  /** `smmu_flush_tlb_group()`: the 16 KiB group of `iova32`. */
  flushTlbGroup(asid: number, iova32: number): void {
    const va = ((iova32 & 0xffff_c000) >>> 12) | SMMU_TLB_FLUSH_VA_MATCH_GROUP;
    this.writel(this.asidBits(asid) | SMMU_TLB_FLUSH_ASID_MATCH | va, SMMU_TLB_FLUSH);
  }

  /** `smmu_flush()`: a read that orders the flushes before it. */
  flush(): void {
    this.readl(SMMU_PTB_ASID);
  }
}

/** `SMMU_PTB_DATA_VALUE(dma, attr)`: the PD frame number with the PD attributes. */
export function ptbDataValue(pdDma: number, attr: number): number {
  return (Math.floor(pdDma / SZ_4K) | attr) >>> 0;
}

/** `SMMU_MK_PDE(dma, SMMU_PDE_ATTR | SMMU_PDE_NEXT)`: a PDE pointing to the page table at `pt`. */
export function tegraMkPde(pt: number): number {
  return (Math.floor(pt / SZ_4K) | SMMU_PDE_ATTR | SMMU_PDE_NEXT) >>> 0;
}

/** `__tegra_smmu_map()`'s PTE: `SMMU_PHYS_PFN(paddr)` | NS | R? | W? (a u32). */
export function tegraMkPte(paddrPfn: number, prot: number): number {
  let attrs = SMMU_PTE_NONSECURE;
  if (prot & IOMMU_READ) attrs |= SMMU_PTE_READABLE;
  if (prot & IOMMU_WRITE) attrs |= SMMU_PTE_WRITABLE;
  // `| ` takes the frame number modulo 2^32, as the kernel's u32 PTE does.
  return (paddrPfn | attrs) >>> 0;
}

// ------------------------------------------------------------------------------------ the ops

/** `tegra_smmu_set_pde()`: write PDE `pde`, flush it from the PTC, flush its TLB section. */
function setPde(d: TegraSmmuDomain, pde: number, value: number): void {
  const smmu = d.smmu;
  d.pdChunk.words[(d.pd - d.pdChunk.pa) / 4 + pde] = value;
  d.counters.pteWrites++;
  smmu.flushPtc(d.pd, pde * 4);
  smmu.flushTlbSection(d.id, pde * SZ_4M);
  smmu.flush();
  d.counters.flushWalk++;
}

/** `tegra_smmu_set_pte()`: write a PTE, flush it from the PTC, flush its 16 KiB TLB group. */
function setPte(d: TegraSmmuDomain, pde: number, pte: number, value: number): void {
  const c = d.ptChunks[pde]!;
  const pt = d.pts[pde]!;
  c.words[(pt - c.pa) / 4 + pte] = value;
  d.counters.pteWrites++;
  const smmu = d.smmu;
  smmu.flushPtc(pt, pte * 4);
  smmu.flushTlbGroup(d.id, pde * SZ_4M + pte * SZ_4K);
  smmu.flush();
  d.counters.flushPage++;
}

function readPte(d: TegraSmmuDomain, pde: number, pte: number): number {
  const c = d.ptChunks[pde]!;
  d.counters.pteReads++;
  return c.words[(d.pts[pde]! - c.pa) / 4 + pte]!;
}

/**
 * `as_get_pde_page()` + `as_get_pte()`: make sure page table `pde` exists (a zeroed 4 KiB
 * page whose address must fit pfn_mask, else it is freed again: -ENOMEM). Returns 0 or -errno.
 */
function getPt(d: TegraSmmuDomain, pde: number): number {
  if (d.pts[pde]! >= 0) return 0;
  const pt = allocUncounted(d.allocator, SMMU_SIZE_PT);
  if (pt < 0) return ENOMEM;
  d.counters.tablesAllocated++;
  if (!d.smmu.dmaAddrValid(pt)) {
    freeTable(d, pt);
    return ENOMEM;
  }
  d.pts[pde] = pt;
  d.ptChunks[pde] = d.allocator.mem.chunk(pt);
  setPde(d, pde, tegraMkPde(pt));
  return 0;
}

/** `iommu_free_pages()` of a page directory or page table. */
function freeTable(d: TegraSmmuDomain, pa: number): void {
  releaseUncounted(d.allocator, pa);
  d.counters.tablesFreed++;
}

/** `tegra_smmu_pte_put_use()`: drop a use; at 0 clear the PDE and free the page table. */
function putUse(d: TegraSmmuDomain, pde: number): void {
  if (--d.count[pde]! !== 0) return;
  const pt = d.pts[pde]!;
  setPde(d, pde, 0);
  freeTable(d, pt);
  d.pts[pde] = -1;
  d.ptChunks[pde] = undefined;
}

/** `__tegra_smmu_map()` for the 4 KiB page at frame `ipfn` (IOVA frame, 20 bits). */
function mapOne(d: TegraSmmuDomain, ipfn: number, ppfn: number, prot: number): number {
  const pde = ipfn >>> 10;
  const pte = ipfn & 0x3ff;
  const ret = getPt(d, pde);
  if (ret) return ret;
  const old = readPte(d, pde, pte);
  if (old === 0) d.count[pde]!++;
  else if (d.strict) return EEXIST;
  else d.quirks.overwrite++;
  setPte(d, pde, pte, tegraMkPte(ppfn, prot));
  return 0;
}

/** `__tegra_smmu_unmap()` for the page at IOVA frame `ipfn`: 4 KiB cleared, or 0 for a hole. */
function unmapOne(d: TegraSmmuDomain, ipfn: number): number {
  const pde = ipfn >>> 10;
  const pte = ipfn & 0x3ff;
  if (d.pts[pde]! < 0) return 0;
  if (readPte(d, pde, pte) === 0) return 0;
  setPte(d, pde, pte, 0);
  putUse(d, pde);
  return SZ_4K;
}

/** The IOVA's frame inside the 4 GiB space (the index masks drop bits above 31). */
function iovaPfn32(iova: Addr): number {
  return pfnOf(iova) % IOVA_PFNS;
}

/** True when [iova, iova + bytes) lies above the 32-bit space: the kernel aliases it. */
function beyond32(iova: Addr, bytes: number): boolean {
  return pfnOf(iova) + bytes / SZ_4K > IOVA_PFNS;
}

function tegraMapPages(
  d: TegraSmmuDomain,
  iova: Addr,
  paddr: Addr,
  pgsize: number,
  pgcount: number,
  prot: number,
  _gfp: number,
  mapped: SizeOut,
): number {
  const ipfn = iovaPfn32(iova);
  const ppfn = pfnOf(paddr);
  if (!d.strict) {
    // tegra_smmu_map(): one 4 KiB PTE, reported as `pgsize` bytes.
    if (pgcount !== 1 || pgsize !== SZ_4K) d.quirks["map-ignores-pgcount"]++;
    if (beyond32(iova, SZ_4K)) d.quirks["iova-alias"]++;
    if (ppfn > d.smmu.pfnMask) d.quirks["pa-overflow"]++;
    const ret = mapOne(d, ipfn, ppfn, prot);
    if (!ret) mapped.value += pgsize;
    return ret;
  }
  if (pgsize !== SZ_4K || offOf(iova) !== 0 || offOf(paddr) !== 0) return EINVAL;
  if (beyond32(iova, pgcount * SZ_4K)) return EINVAL;
  if (ppfn + pgcount - 1 > d.smmu.pfnMask) return EINVAL;
  for (let i = 0; i < pgcount; i++) {
    const ret = mapOne(d, ipfn + i, ppfn + i, prot);
    if (ret) return ret;
    mapped.value += SZ_4K;
  }
  return 0;
}

function tegraUnmapPages(
  d: TegraSmmuDomain,
  iova: Addr,
  pgsize: number,
  pgcount: number,
  _gather: IotlbGather | null,
): number {
  const ipfn = iovaPfn32(iova);
  if (!d.strict) {
    if (pgcount !== 1 || pgsize !== SZ_4K) d.quirks["unmap-ignores-pgcount"]++;
    if (beyond32(iova, SZ_4K)) d.quirks["iova-alias"]++;
    return unmapOne(d, ipfn) ? pgsize : 0;
  }
  if (pgsize !== SZ_4K || beyond32(iova, pgcount * SZ_4K)) return 0;
  let done = 0;
  for (let i = 0; i < pgcount; i++) {
    if (!unmapOne(d, ipfn + i)) break;
    done += SZ_4K;
  }
  return done;
}

/** Model-only: what a strict domain's table reaches, IOVA bits 31:0 (for `holeSpanOutside`). */
const STRICT_RANGES: readonly IovaRange[] = [[0n, 0xffff_ffffn]];

/**
 * `iova_to_phys_length` (the series' op, and since its last step the only lookup:
 * `iommu_iova_to_phys()` answers through it) for tegra-smmu: the PDE read is counted as the
 * driver reads it for the table's DMA address; mapped → the PTE's frame (masked with pfn_mask,
 * as the hardware reads it) + the page offset, length 4 KiB; no page table → an empty 4 MiB PDE
 * slot; a zero PTE → 4 KiB. A strict domain does not alias IOVAs ≥ 4 GiB: unmapped, the largest
 * naturally aligned block around the IOVA above 4 GiB.
 */
function tegraIovaToPhysLength(d: TegraSmmuDomain, iova: Addr, out: PhysLength): void {
  if (d.strict && beyond32(iova, 1)) {
    out.setUnmapped(holeSpanOutside(iova, STRICT_RANGES));
    return;
  }
  const ipfn = iovaPfn32(iova);
  const pde = ipfn >>> 10;
  d.counters.pteReads++; // the PDE
  if (d.pts[pde]! < 0) {
    out.setUnmapped(SZ_4M);
    return;
  }
  const pte = readPte(d, pde, ipfn & 0x3ff);
  if (pte === 0) out.setUnmapped(SZ_4K);
  else out.setMapped(pte & d.smmu.pfnMask, offOf(iova), SZ_4K);
}

/**
 * `tegra_smmu_domain_free()`: the software arrays go, the page directory and page tables do
 * not (the kernel's TODO) — a strict domain frees them.
 */
function tegraDomainFree(d: TegraSmmuDomain): void {
  if (d.freed) return;
  d.freed = true;
  if (d.useCount) d.counters.warn("tegra_smmu_domain_free: address space still in use");
  if (!d.strict) {
    d.quirks["free-leaks-tables"]++;
    return;
  }
  for (let i = 0; i < SMMU_NUM_PDE; i++) {
    const pt = d.pts[i]!;
    if (pt >= 0) {
      freeTable(d, pt);
      d.pts[i] = -1;
      d.ptChunks[i] = undefined;
      d.count[i] = 0;
    }
  }
  freeTable(d, d.pd);
}

/** `tegra_smmu_ops.default_domain_ops` of one SMMU instance. */
export function createTegraSmmuOps(name = "tegra-smmu"): IommuDomainOps<TegraSmmuDomain> {
  return {
    name,
    mapPages: tegraMapPages,
    unmapPages: tegraUnmapPages,
    iovaToPhysLength: tegraIovaToPhysLength,
    iovaToPhysRuns: tegraIovaToPhysRuns,
    free: tegraDomainFree,
    inspect: (d): PageTableInspector | null => (d.freed && d.strict ? null : new TegraSmmuInspector(d)),
  };
}
