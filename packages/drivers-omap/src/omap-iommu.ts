/**
 * drivers/iommu/omap-iommu.c (mainline ~6.18/6.19: per-domain array of MMUs, identity domain,
 * `domain_alloc_paging`, `map_pages`/`unmap_pages`): the TI OMAP IOMMU driver's paging side as
 * an executable model — the MMUs (`struct omap_iommu`), the client's IOMMU set (an
 * IommuDriver), the domains (`struct omap_iommu_domain`) and the `iommu_domain_ops`.
 *
 * Each MMU has its own L1 table ("iopgd", 4096 u32 entries, 16 KiB) with 1 MiB sections,
 * 16 MiB supersections (16 identical L1 entries) and pointers to L2 tables ("iopte", 256 u32
 * entries, 1 KiB objects of a kmem_cache) of 4 KiB small and 64 KiB large pages (16 identical
 * L2 entries). A domain writes every mapping into the tables of every MMU of its device.
 *
 * Hot paths (map/unmap/lookup) run once per page of every caller's loop, so they allocate
 * nothing and use no BigInt per PTE: IOVAs and PAs are truncated to u32 as the driver does,
 * entries are u32 words, the L1 table and the last L2 table are resolved to their words once
 * (`pgdWords`, `l2View`), and the MMU registers a TLB flush touches are a typed array.
 */
import {
  type Addr,
  allocUncounted,
  ERRNO,
  holeSpanOutside,
  IOMMU_DOMAIN_UNMANAGED,
  type IommuCap,
  IommuCounters,
  type IommuDomain,
  type IommuDomainAllocOptions,
  type IommuDomainOps,
  type IommuDriver,
  type IotlbGather,
  type IovaRange,
  KmemCache,
  type MemChunk,
  MmioRegs,
  offOf,
  type PageTableInspector,
  type PhysLength,
  PhysMem,
  pfnOf,
  releaseUncounted,
  type SizeOut,
  SZ_1M,
  SZ_4K,
  SZ_16M,
  SZ_64K,
  TableAllocator,
  TableView,
} from "@iommu/core";
import { OmapInspector } from "./inspect.js";
import {
  bytesToIopgsz,
  DSP_SYS_MMU_CONFIG_EN_SHIFT,
  IOLARGE_MASK,
  IOPGD_SUPER,
  IOPGD_TABLE,
  IOPGD_TABLE_SIZE,
  IOPTE_LARGE,
  IOPTE_MASK,
  IOPTE_SMALL,
  IOPTE_TABLE_SIZE,
  IOSECTION_MASK,
  IOSUPER_MASK,
  iopgdIsSection,
  iopgdIsSuper,
  iopgdIsTable,
  iopgdPagePaddr,
  iopteIsLarge,
  iopteIsSmall,
  MMU_CAM_PGSZ_1M,
  MMU_CAM_PGSZ_16M,
  MMU_CAM_PGSZ_64K,
  MMU_CNTL,
  MMU_CNTL_MASK,
  MMU_CNTL_MMU_EN,
  MMU_CNTL_TWL_EN,
  MMU_GFLUSH,
  MMU_GP_REG,
  MMU_GP_REG_BUS_ERR_BACK_EN,
  MMU_IRQ_TWL_MASK,
  MMU_IRQENABLE,
  MMU_LOCK,
  MMU_LOCK_VICT_SHIFT,
  MMU_READ_CAM,
  MMU_READ_RAM,
  MMU_REVISION,
  MMU_TTB,
  PTRS_PER_IOPGD,
  PTRS_PER_IOPTE,
} from "./omap-iopgtable.js";
import { omapIovaToPhysRuns, replicasMayDisagree } from "./runs.js";

const EINVAL = -ERRNO.EINVAL;
const ENOMEM = -ERRNO.ENOMEM;
const EEXIST = -ERRNO.EEXIST;
const ENODEV = -ERRNO.ENODEV;
const EOPNOTSUPP = -ERRNO.EOPNOTSUPP;
const TWO20 = 2 ** 20;
/** The words of a table where no memory is. */
const NO_MEMORY = new Uint32Array(0);

/** `ti,omap4-iommu` / `ti,dra7-dsp-iommu`: the compatible strings this model knows. */
export type OmapSoc = "omap4" | "dra7-dsp";

/** `dev_name()` of the MMUs per SoC, in `iommus` order. */
export const OMAP_MMU_NAMES: Readonly<Record<OmapSoc, readonly [string, string]>> = {
  omap4: ["55082000.mmu", "4a066000.mmu"],
  "dra7-dsp": ["40d01000.mmu", "40d02000.mmu"],
};

/**
 * `omap-iommu.c` behaviours a strict domain reports instead of reproducing (README
 * "Known kernel quirks"); each counts in {@link OmapDomain.quirks} in the default mode.
 */
export type OmapQuirk =
  /** `map_pages` maps exactly one page of `pgsize` and reports it, whatever `pgcount` is (0 too). */
  | "map-ignores-pgcount"
  /** `unmap_pages` clears the whole page covering the IOVA and returns its size, ignoring size and count. */
  | "unmap-ignores-size"
  /** Unmapping a hole inside a live L2 table returns 4 KiB (and frees the table if it is empty). */
  | "unmap-hole-succeeds"
  /** No overlap check: a map overwrites whatever entries are there. */
  | "overwrite"
  /** A section or supersection written over an L2 table pointer orphans (leaks) the table. */
  | "orphaned-l2"
  /** A 4 KiB / 64 KiB map onto a section or supersection writes through it as if it were a table pointer. */
  | "wild-write"
  /** A misaligned 64 KiB map allocates and installs an L2 table before failing with -EINVAL. */
  | "misaligned-64k-leaves-table"
  /** IOVA and PA are truncated to 32 bits: IOVAs ≥ 4 GiB alias, PAs lose their high bits. */
  | "truncation";

/** `omap-iommu.c` quirks: every {@link OmapQuirk}, in README order. */
export const OMAP_QUIRKS: readonly OmapQuirk[] = [
  "map-ignores-pgcount",
  "unmap-ignores-size",
  "unmap-hole-succeeds",
  "overwrite",
  "orphaned-l2",
  "wild-write",
  "misaligned-64k-leaves-table",
  "truncation",
];

function freshQuirks(): Record<OmapQuirk, number> {
  return {
    "map-ignores-pgcount": 0,
    "unmap-ignores-size": 0,
    "unmap-hole-succeeds": 0,
    overwrite: 0,
    "orphaned-l2": 0,
    "wild-write": 0,
    "misaligned-64k-leaves-table": 0,
    truncation: 0,
  };
}

/** `DSP_SYS_MMU_CONFIG`: the syscon register the DRA7 DSP MMUs share. */
export interface OmapSyscon {
  mmuConfig: number;
}

/**
 * `struct omap_iommu`: one MMU (a platform device) and its fake register file — MMU_REVISION
 * reads 0x21, MMU_READ_CAM reads 0 (an empty TLB), everything else reads back what was
 * written. Register accesses are counted.
 */
export class OmapMmu {
  /** `obj->iopgd`: physical address of the L1 table in use, -1 when detached. */
  iopgd = -1;
  /** Memory of the L1 table in use (model-only cache). */
  pgdChunk: MemChunk | undefined;
  /** The L1 table's words and the word index of its entry 0 (model-only hot-path view). */
  pgdWords: Uint32Array = NO_MEMORY;
  pgdOff = 0;
  /** `obj->domain` */
  domain: OmapDomain | null = null;
  mmioReads = 0;
  mmioWrites = 0;
  /**
   * Model-only: sees every TLB flush the driver asks of this MMU — `flush_iotlb_page(da)` as
   * `da`, `flush_iotlb_all()` as -1 — e.g. an IOTLB feed (`omapIotlbFeed`), which applies what
   * the real TLB would do; null (the default) costs one test per flush.
   */
  flushTap: ((da: number) => void) | null = null;
  private readonly regs = new MmioRegs(0x100, { [MMU_REVISION]: 0x21 });

  constructor(
    /** `obj->name` (`dev_name()`). */
    readonly name: string,
    /** `obj->id`: the MMU's index in the DSP syscon (dra7-dsp). */
    readonly id: number,
    /** `obj->nr_tlb_entries` (8 or 32). */
    readonly nrTlbEntries: number,
    /** `obj->has_bus_err_back` */
    readonly hasBusErrBack: boolean,
    /** `obj->syscfg` (dra7-dsp only). */
    readonly syscon: OmapSyscon | null,
  ) {}

  /** `iommu_read_reg()` */
  readReg(offset: number): number {
    this.mmioReads++;
    return offset === MMU_READ_CAM || offset === MMU_READ_RAM ? 0 : this.peek(offset);
  }

  /** `iommu_write_reg()` */
  writeReg(value: number, offset: number): void {
    this.mmioWrites++;
    this.regs.write(offset, value);
  }

  /** A register's current value, without counting an access. */
  peek(offset: number): number {
    return this.regs.read(offset);
  }

  /** Zero the MMIO access counters. */
  resetMmio(): void {
    this.mmioReads = 0;
    this.mmioWrites = 0;
  }

  /** `omap2_iommu_enable()` (the runtime-resume callback): TTB, syscon, GP_REG, `__iommu_set_twl(true)`. */
  enable(): void {
    this.readReg(MMU_REVISION);
    this.writeReg(this.iopgd, MMU_TTB);
    if (this.syscon) this.syscon.mmuConfig |= 1 << (this.id * DSP_SYS_MMU_CONFIG_EN_SHIFT);
    if (this.hasBusErrBack) this.writeReg(MMU_GP_REG_BUS_ERR_BACK_EN, MMU_GP_REG);
    const l = this.readReg(MMU_CNTL);
    this.writeReg(MMU_IRQ_TWL_MASK, MMU_IRQENABLE);
    this.writeReg((l & ~MMU_CNTL_MASK) | MMU_CNTL_MMU_EN | MMU_CNTL_TWL_EN, MMU_CNTL);
  }

  /** `omap2_iommu_disable()` (the runtime-suspend callback). */
  disable(): void {
    const l = this.readReg(MMU_CNTL);
    this.writeReg(l & ~MMU_CNTL_MASK, MMU_CNTL);
    if (this.syscon) this.syscon.mmuConfig &= ~(1 << (this.id * DSP_SYS_MMU_CONFIG_EN_SHIFT));
  }

  /**
   * `flush_iotlb_page()`: scan every TLB entry (lock get/set, read CAM and RAM) for one
   * covering `da`; the fake TLB is empty, so nothing is flushed.
   */
  flushIotlbPage(da: number): void {
    if (this.flushTap) this.flushTap(da);
    const n = this.nrTlbEntries;
    if (n > 0 && n <= 32) {
      // The loop below in closed form: each victim write keeps the bits outside the victim
      // field of the previous LOCK value, so the last write leaves victim n − 1.
      const lock = this.regs.read(MMU_LOCK);
      this.mmioReads += 3 * n;
      this.mmioWrites += n;
      this.regs.write(MMU_LOCK, (lock & ~(0x1f << MMU_LOCK_VICT_SHIFT)) | ((n - 1) << MMU_LOCK_VICT_SHIFT));
      return;
    }
    for (let i = 0; i < n; i++) {
      const lock = this.readReg(MMU_LOCK);
      this.writeReg((lock & ~(0x1f << MMU_LOCK_VICT_SHIFT)) | (i << MMU_LOCK_VICT_SHIFT), MMU_LOCK);
      this.readReg(MMU_READ_CAM);
      this.readReg(MMU_READ_RAM);
    }
  }

  /** `flush_iotlb_all()`: lock base and victim 0, global flush. */
  flushIotlbAll(): void {
    if (this.flushTap) this.flushTap(-1);
    this.writeReg(0, MMU_LOCK);
    this.writeReg(1, MMU_GFLUSH);
  }
}

/** `struct omap_iommu_device`: one entry of `omap_domain->iommus`. */
export interface OmapIommuDevice {
  /** `pgtable`: the L1 table allocated for this MMU at attach. */
  readonly pgtable: number;
  /** `iommu_dev` */
  readonly mmu: OmapMmu;
}

/** `struct omap_iommu_domain` */
export interface OmapDomain extends IommuDomain {
  /** The driver instance whose ops and MMUs the domain uses. */
  readonly omap: OmapIommu;
  /** Page-table memory. */
  readonly allocator: TableAllocator;
  /** `iopte_cachep` (model: one cache per domain). */
  readonly l2Cache: KmemCache;
  /** `omap_domain->iommus`: one per MMU while attached, else empty. */
  readonly iommus: OmapIommuDevice[];
  /** `omap_domain->dev`: a device is attached. */
  attached: boolean;
  /** L2 tables orphaned by a section/supersection written over their L1 pointer (leaked). */
  readonly orphans: Set<number>;
  /** Model-only: report kernel quirks (typed errno / corrected value) instead of reproducing them. */
  strict: boolean;
  /** Model-only: how often each kernel quirk happened (default mode). */
  readonly quirks: Record<OmapQuirk, number>;
  /** Model-only: set once `free` ran. */
  freed: boolean;
  /**
   * Model-only (the kernel resolves `iopte_offset()` for free): the last L2 table looked up,
   * so that walks do not look memory up per entry. A 1 KiB-aligned table lies inside one 4 KiB page: one
   * chunk holds all 256 entries (or none does: every entry reads 0 and drops writes, and the
   * absent table is not remembered). An L2 table's memory changes only when its slab page
   * goes back to the allocator, at domain free; freeing an L2 table drops the view too.
   */
  readonly l2View: TableView;
}

/** `iommus` / `ti,#tlb-entries` / compatible (device tree): the hardware description of a client's MMUs. */
export interface OmapIommuOptions {
  /** Compatible of the MMU nodes (default omap4). dra7-dsp adds `ti,iommu-bus-err-back` and the syscon. */
  readonly soc?: OmapSoc;
  /** MMUs in the client's `iommus` property: 1 or 2 (default 1). */
  readonly mmus?: 1 | 2;
  /** `ti,#tlb-entries` (default 32). */
  readonly tlbEntries?: 8 | 32;
  /** Page-table memory (default: a fresh arena at 0x80000000). */
  readonly allocator?: TableAllocator;
  /** Every domain starts strict (see {@link OmapQuirk}). */
  readonly strict?: boolean;
}

/**
 * `omap_iommu_ops` with the client device's MMUs: `mmus` in `iommus` order, the shared
 * DRA7 syscon, paging domains and their attach/detach.
 */
export class OmapIommu implements IommuDriver<OmapDomain> {
  readonly name: string;
  readonly pgsizeBitmap = SZ_4K | SZ_64K | SZ_1M | SZ_16M;
  readonly soc: OmapSoc;
  readonly mmus: readonly OmapMmu[];
  /** The DSP syscon (dra7-dsp), else null. */
  readonly syscon: OmapSyscon | null;
  /** `omap_iommu_ops.default_domain_ops` */
  readonly ops: IommuDomainOps<OmapDomain>;
  private readonly allocator: TableAllocator;
  private readonly strictDefault: boolean;

  constructor(options: OmapIommuOptions = {}) {
    this.soc = options.soc ?? "omap4";
    const n = options.mmus ?? 1;
    const dra7 = this.soc === "dra7-dsp";
    this.syscon = dra7 ? { mmuConfig: 0 } : null;
    const names = OMAP_MMU_NAMES[this.soc];
    this.mmus = Array.from(
      { length: n },
      (_, k) => new OmapMmu(names[k]!, k, options.tlbEntries ?? 32, dra7, this.syscon),
    );
    this.name = this.mmus[0]!.name;
    this.allocator = options.allocator ?? new TableAllocator(new PhysMem());
    this.strictDefault = options.strict ?? false;
    this.ops = createOmapOps(this.name);
  }

  /** `omap_iommu_ops` has no `capable`: the core answers false. */
  capable(_cap: IommuCap): boolean {
    return false;
  }

  /** `omap_iommu_domain_alloc_paging()`: bitmap 4K|64K|1M|16M, aperture 0..2^32 − 1, forced. */
  domainAllocPagingFlags(flags: number, options: IommuDomainAllocOptions = {}): OmapDomain | number {
    if (flags !== 0) return EOPNOTSUPP;
    const allocator = options.allocator ?? this.allocator;
    const counters = options.counters ?? new IommuCounters();
    return {
      type: options.type ?? IOMMU_DOMAIN_UNMANAGED,
      ops: this.ops,
      pgsizeBitmap: this.pgsizeBitmap,
      geometry: { apertureStart: 0, apertureEnd: 0xffff_ffff, forceAperture: true },
      counters,
      omap: this,
      allocator,
      l2Cache: createIopteCache(allocator),
      iommus: [],
      attached: false,
      orphans: new Set(),
      strict: this.strictDefault,
      quirks: freshQuirks(),
      freed: false,
      l2View: new TableView(),
    };
  }

  /**
   * `omap_iommu_attach_dev()`: one 16 KiB L1 table per MMU (`kzalloc`, -ENOMEM), then per MMU
   * `omap_iommu_attach()` (runtime resume: TTB, IRQENABLE, CNTL; global TLB flush). A second
   * attach is -EINVAL.
   */
  attach(d: OmapDomain): number {
    if (d.attached) return EINVAL;
    for (const mmu of this.mmus) {
      const pgtable = allocUncounted(d.allocator, IOPGD_TABLE_SIZE);
      if (pgtable < 0) {
        for (const x of d.iommus) freeL1(d, x.pgtable);
        d.iommus.length = 0;
        return ENOMEM;
      }
      d.counters.tablesAllocated++;
      d.iommus.push({ pgtable, mmu });
    }
    for (const x of d.iommus) {
      const mmu = x.mmu;
      mmu.iopgd = x.pgtable;
      mmu.pgdChunk = d.allocator.mem.chunk(x.pgtable);
      mmu.pgdWords = mmu.pgdChunk!.words;
      mmu.pgdOff = (x.pgtable - mmu.pgdChunk!.pa) / 4;
      mmu.enable();
      mmu.flushIotlbAll();
      mmu.domain = d;
    }
    d.attached = true;
    return 0;
  }

  /**
   * `_omap_iommu_detach_dev()`: MMUs in reverse order — clear every L1 slot and free the L2
   * tables found (`iopgtable_clear_entry_all()`), runtime-suspend; then the L1 tables go.
   */
  detach(d: OmapDomain): void {
    if (!d.attached) return;
    for (let i = d.iommus.length - 1; i >= 0; i--) {
      const mmu = d.iommus[i]!.mmu;
      const c = mmu.pgdChunk!;
      const base = (mmu.iopgd - c.pa) / 4;
      for (let k = 0; k < PTRS_PER_IOPGD; k++) {
        const e = c.words[base + k]!;
        if (e === 0) continue;
        if (iopgdIsTable(e)) freeL2(d, iopgdPagePaddr(e));
        c.words[base + k] = 0;
      }
      mmu.flushIotlbAll();
      mmu.iopgd = -1;
      mmu.pgdChunk = undefined;
      mmu.pgdWords = NO_MEMORY;
      mmu.pgdOff = 0;
      mmu.disable();
      mmu.domain = null;
    }
    for (const x of d.iommus) freeL1(d, x.pgtable);
    d.iommus.length = 0;
    d.attached = false;
  }
}

// ------------------------------------------------------------------------------------ helpers

/**
 * `iopte_cachep` = `kmem_cache_create("iopte_cache", IOPTE_TABLE_SIZE, 1 KiB,
 * SLAB_HWCACHE_ALIGN, NULL)`: 1 KiB L2 tables, four to a slab page (model: one cache per domain).
 */
function createIopteCache(allocator: TableAllocator): KmemCache {
  return new KmemCache(allocator, { name: "iopte_cache", size: IOPTE_TABLE_SIZE, align: IOPTE_TABLE_SIZE });
}

/** `kfree()` of an L1 table. */
function freeL1(d: OmapDomain, pa: number): void {
  releaseUncounted(d.allocator, pa);
  d.counters.tablesFreed++;
}

/** `iopte_free()`: an L2 table back to the cache. */
function freeL2(d: OmapDomain, pa: number): void {
  d.l2View.drop();
  d.l2Cache.free(pa);
  d.counters.tablesFreed++;
}

function pgdWords(mmu: OmapMmu): Uint32Array {
  return mmu.pgdWords;
}

function pgdBase(mmu: OmapMmu): number {
  return mmu.pgdOff;
}

/** Word index of entry 0 of the table {@link l2Table} returned the words of. */
let l2Base = 0;

/** Words of the L2 table at `pt` (empty where no memory is), entry 0 at {@link l2Base}. */
function l2Table(d: OmapDomain, pt: number): Uint32Array {
  const v = d.l2View;
  const base = pt === v.pa ? v.base : v.resolve(d.allocator.mem, pt);
  if (base < 0) {
    l2Base = 0;
    return NO_MEMORY;
  }
  l2Base = base;
  return d.l2View.words;
}

/** `iopte_alloc()`: the L2 table below L1 slot `i` (allocated when the slot is 0): its PA, or -errno. */
function iopteAlloc(d: OmapDomain, mmu: OmapMmu, i: number): number {
  const w = pgdWords(mmu);
  const b = pgdBase(mmu);
  const e = w[b + i]!;
  d.counters.pteReads++;
  if (e !== 0) {
    // "a table has already existed" — also when the slot is a section or supersection.
    if (!iopgdIsTable(e)) d.quirks["wild-write"]++;
    return iopgdPagePaddr(e);
  }
  const pt = d.l2Cache.alloc();
  if (pt < 0) return ENOMEM;
  d.counters.tablesAllocated++;
  w[b + i] = (pt | IOPGD_TABLE) >>> 0;
  d.counters.pteWrites++;
  return pt;
}

/** Write `n` copies of `value` at entry `j` of the L2 table at `pt` (dropped where no memory is). */
function writeL2(d: OmapDomain, pt: number, j: number, n: number, value: number): void {
  const w = l2Table(d, pt);
  if (w.length !== 0) for (let k = l2Base + j, end = k + n; k < end; k++) w[k] = value;
  d.counters.pteWrites += n;
}

/** The L2 entry `j` of the table at `pt` (reads 0 where no memory is). */
function readL2(d: OmapDomain, pt: number, j: number): number {
  const w = l2Table(d, pt);
  d.counters.pteReads++;
  return w.length !== 0 ? w[l2Base + j]! : 0;
}

/** Strict: true when the entries a map of `pgsz` at `da32` would write are all empty. */
function targetEmpty(d: OmapDomain, mmu: OmapMmu, da32: number, pgsz: number): boolean {
  const w = pgdWords(mmu);
  const b = pgdBase(mmu);
  const i = da32 >>> 20;
  if (pgsz === MMU_CAM_PGSZ_16M) {
    for (let k = 0; k < 16; k++) if (w[b + i + k] !== 0) return false;
    return true;
  }
  const e = w[b + i]!;
  if (pgsz === MMU_CAM_PGSZ_1M) return e === 0;
  if (e === 0) return true;
  if (!iopgdIsTable(e)) return false;
  const pt = iopgdPagePaddr(e);
  const j = (da32 >>> 12) & 0xff;
  const n = pgsz === MMU_CAM_PGSZ_64K ? 16 : 1;
  for (let k = 0; k < n; k++) if (readL2(d, pt, j + k) !== 0) return false;
  return true;
}

/** Count L1 slots [i, i + n) holding table pointers that are about to be overwritten (orphaned). */
function orphanSlots(d: OmapDomain, mmu: OmapMmu, i: number, n: number): void {
  const w = pgdWords(mmu);
  const b = pgdBase(mmu);
  for (let k = 0; k < n; k++) {
    const e = w[b + i + k]!;
    if (e !== 0) d.quirks.overwrite++;
    if (iopgdIsTable(e)) {
      d.orphans.add(iopgdPagePaddr(e));
      d.quirks["orphaned-l2"]++;
    }
  }
}

/**
 * `iopgtable_store_entry_core()` on one MMU: the entry of `pgsz` mapping `da32` → `pa32`
 * (attributes 0: little-endian, 8-bit elements, not mixed).
 */
function storeEntry(d: OmapDomain, mmu: OmapMmu, da32: number, pa32: number, pgsz: number): number {
  const w = pgdWords(mmu);
  const b = pgdBase(mmu);
  const i = da32 >>> 20;
  switch (pgsz) {
    case MMU_CAM_PGSZ_16M: {
      if (((da32 | pa32) & ~IOSUPER_MASK) !== 0) return EINVAL;
      if (!d.strict) orphanSlots(d, mmu, i, 16);
      const v = ((pa32 & IOSUPER_MASK) | IOPGD_SUPER) >>> 0;
      for (let k = 0; k < 16; k++) w[b + i + k] = v;
      d.counters.pteWrites += 16;
      return 0;
    }
    case MMU_CAM_PGSZ_1M: {
      if (((da32 | pa32) & ~IOSECTION_MASK) !== 0) return EINVAL;
      if (!d.strict) orphanSlots(d, mmu, i, 1);
      w[b + i] = ((pa32 & IOSECTION_MASK) | 2) >>> 0;
      d.counters.pteWrites++;
      return 0;
    }
    case MMU_CAM_PGSZ_64K: {
      if (d.strict && ((da32 | pa32) & ~IOLARGE_MASK) !== 0) return EINVAL;
      // iopte_alloc() runs before the alignment check.
      const hadTable = w[b + i] !== 0;
      const pt = iopteAlloc(d, mmu, i);
      if (((da32 | pa32) & ~IOLARGE_MASK) !== 0) {
        if (!hadTable && pt >= 0) d.quirks["misaligned-64k-leaves-table"]++;
        return EINVAL;
      }
      if (pt < 0) return pt;
      const j = (da32 >>> 12) & 0xff;
      if (!d.strict) for (let k = 0; k < 16; k++) if (readL2(d, pt, j + k) !== 0) d.quirks.overwrite++;
      writeL2(d, pt, j, 16, ((pa32 & IOLARGE_MASK) | IOPTE_LARGE) >>> 0);
      return 0;
    }
    default: {
      const pt = iopteAlloc(d, mmu, i);
      if (pt < 0) return pt;
      const j = (da32 >>> 12) & 0xff;
      if (!d.strict && readL2(d, pt, j) !== 0) d.quirks.overwrite++;
      writeL2(d, pt, j, 1, ((pa32 & IOPTE_MASK) | IOPTE_SMALL) >>> 0);
      return 0;
    }
  }
}

/**
 * `iopgtable_clear_entry_core()` on one MMU: clear the page covering `da32` (rewinding to the
 * first of 16 replicas), free the L2 table when it became empty; returns the page's size, 4 KiB
 * for a hole in a live L2 table, 0 for an empty L1 slot.
 */
function clearEntry(d: OmapDomain, mmu: OmapMmu, da32: number): number {
  const w = pgdWords(mmu);
  const b = pgdBase(mmu);
  const i = da32 >>> 20;
  const e = w[b + i]!;
  d.counters.pteReads++;
  if (e === 0) return 0;
  let bytes: number;
  let first = i;
  let nent = 1;
  if (iopgdIsTable(e)) {
    const pt = iopgdPagePaddr(e);
    const table = l2Table(d, pt);
    const words = table.length !== 0 ? table : undefined;
    const base = l2Base;
    let j = (da32 >>> 12) & 0xff;
    const pte = words ? words[base + j]! : 0;
    d.counters.pteReads++;
    if (pte === 0) d.quirks["unmap-hole-succeeds"]++;
    let n = 1;
    if (pte & IOPTE_LARGE) {
      n = 16;
      j &= ~0xf;
    }
    bytes = SZ_4K * n;
    if (words) words.fill(0, base + j, base + j + n);
    d.counters.pteWrites += n;
    // iopte_free() only when every entry reads 0: one PTE read counted per entry up to the
    // first live one (four words tested at a time, then the live one located).
    if (words) {
      let k = 0;
      while (
        k < PTRS_PER_IOPTE &&
        (words[base + k]! | words[base + k + 1]! | words[base + k + 2]! | words[base + k + 3]!) === 0
      )
        k += 4;
      if (k < PTRS_PER_IOPTE) {
        while (words[base + k] === 0) k++;
        d.counters.pteReads += k + 1;
        return bytes;
      }
    }
    d.counters.pteReads += PTRS_PER_IOPTE;
    freeL2(d, pt);
  } else {
    bytes = SZ_1M;
    if ((e & IOPGD_SUPER) === IOPGD_SUPER) {
      nent = 16;
      first = i & ~0xf;
    }
    bytes *= nent;
  }
  for (let k = 0; k < nent; k++) w[b + first + k] = 0;
  d.counters.pteWrites += nent;
  return bytes;
}

/** Size of the page covering `da32` in MMU 0's table (0 for a hole), for strict unmaps. */
function pageAt(d: OmapDomain, da32: number): number {
  const mmu = d.iommus[0]!.mmu;
  const e = pgdWords(mmu)[pgdBase(mmu) + (da32 >>> 20)]!;
  d.counters.pteReads++;
  if (e === 0) return 0;
  if (iopgdIsTable(e)) {
    const pte = readL2(d, iopgdPagePaddr(e), (da32 >>> 12) & 0xff);
    return iopteIsSmall(pte) ? SZ_4K : iopteIsLarge(pte) ? SZ_64K : 0;
  }
  return iopgdIsSuper(e) ? SZ_16M : iopgdIsSection(e) ? SZ_1M : 0;
}

/** `(u32)addr`: the low 32 bits of an address. */
function lo32(a: Addr): number {
  // ToUint32 of an integer number is exactly its value mod 2^32.
  return typeof a === "number" ? a >>> 0 : ((pfnOf(a) % TWO20) * SZ_4K + offOf(a)) >>> 0;
}

/** True when [a, a + bytes) reaches beyond 4 GiB. */
function beyond32(a: Addr, bytes: number): boolean {
  return pfnOf(a) * SZ_4K + offOf(a) + bytes > 2 ** 32;
}

// ------------------------------------------------------------------------------------ the ops

/** `omap_iommu_map()` + the per-MMU rollback of a failed store, for one page. */
function mapOne(d: OmapDomain, da32: number, pa32: number, pgsz: number): number {
  let ret = 0;
  let i = 0;
  for (; i < d.iommus.length; i++) {
    const mmu = d.iommus[i]!.mmu;
    mmu.flushIotlbPage(da32);
    d.counters.flushPage++;
    if (d.strict && !targetEmpty(d, mmu, da32, pgsz)) {
      ret = EEXIST;
      break;
    }
    ret = storeEntry(d, mmu, da32, pa32, pgsz);
    if (ret) break;
  }
  if (ret) {
    while (i-- > 0) {
      const mmu = d.iommus[i]!.mmu;
      clearEntry(d, mmu, da32);
      mmu.flushIotlbPage(da32);
      d.counters.flushPage++;
    }
  }
  return ret;
}

function omapMapPages(
  d: OmapDomain,
  iova: Addr,
  paddr: Addr,
  pgsize: number,
  pgcount: number,
  _prot: number,
  _gfp: number,
  mapped: SizeOut,
): number {
  if (!d.attached) return ENODEV;
  const pgsz = bytesToIopgsz(pgsize);
  if (pgsz < 0) return EINVAL;
  const da32 = lo32(iova);
  const pa32 = lo32(paddr);
  if (!d.strict) {
    if (pgcount !== 1) d.quirks["map-ignores-pgcount"]++;
    if (beyond32(iova, pgsize) || beyond32(paddr, pgsize)) d.quirks.truncation++;
    const ret = mapOne(d, da32, pa32, pgsz);
    if (!ret) mapped.value += pgsize;
    return ret;
  }
  if (beyond32(iova, pgsize * pgcount) || beyond32(paddr, pgsize * pgcount)) return EINVAL;
  for (let k = 0; k < pgcount; k++) {
    const ret = mapOne(d, (da32 + k * pgsize) >>> 0, (pa32 + k * pgsize) >>> 0, pgsz);
    if (ret) return ret;
    mapped.value += pgsize;
  }
  return 0;
}

/** `omap_iommu_unmap()` for the page at `da32` on every MMU; 0 when any MMU reported 0. */
function unmapOne(d: OmapDomain, da32: number): number {
  let error = false;
  let bytes = 0;
  for (let i = 0; i < d.iommus.length; i++) {
    const mmu = d.iommus[i]!.mmu;
    bytes = clearEntry(d, mmu, da32);
    mmu.flushIotlbPage(da32);
    d.counters.flushPage++;
    if (!bytes) error = true;
  }
  return error ? 0 : bytes;
}

function omapUnmapPages(
  d: OmapDomain,
  iova: Addr,
  pgsize: number,
  pgcount: number,
  _gather: IotlbGather | null,
): number {
  if (!d.attached) return 0;
  if (!d.strict) {
    if (beyond32(iova, SZ_4K)) d.quirks.truncation++;
    const bytes = unmapOne(d, lo32(iova));
    if (bytes !== pgsize * pgcount) d.quirks["unmap-ignores-size"]++;
    return bytes;
  }
  const total = pgsize * pgcount;
  if (beyond32(iova, total) || offOf(iova) !== 0) return 0;
  let da32 = lo32(iova);
  let done = 0;
  while (done < total) {
    const page = pageAt(d, da32);
    if (page === 0 || da32 % page !== 0 || page > total - done) break;
    if (unmapOne(d, da32) !== page) break;
    done += page;
    da32 = (da32 + page) >>> 0;
  }
  return done;
}

/** True when the 16 replicas around entry `j` of the L2 table at `pt` are identical. */
function l2ReplicasAgree(d: OmapDomain, pt: number, j: number): boolean {
  const first = j & ~0xf;
  const v = readL2(d, pt, first);
  for (let k = first + 1; k < first + 16; k++) if (readL2(d, pt, k) !== v) return false;
  return true;
}

/** True when the 16 replicas around L1 slot `i` (words `w` from `b`) are identical. */
function l1ReplicasAgree(d: OmapDomain, w: Uint32Array, b: number, i: number): boolean {
  const first = i & ~0xf;
  const v = w[b + first];
  d.counters.pteReads += 16;
  for (let k = first + 1; k < first + 16; k++) if (w[b + k] !== v) return false;
  return true;
}

/** Model-only: what a strict domain's table reaches, IOVA bits 31:0 (for `holeSpanOutside`). */
const STRICT_RANGES: readonly IovaRange[] = [[0n, 0xffff_ffffn]];

/**
 * `iova_to_phys_length` (the series' op, and since its last step the only lookup:
 * `iommu_iova_to_phys()` answers through it) for omap, on the first MMU's tables: the IOVA's PA
 * (page offset kept) and the leaf's size — 4 KiB, 64 KiB, 1 MiB or 16 MiB (replicated entries:
 * the large size; once an `overwrite` or `wild-write` may have split a group — the only ways its
 * 16 copies can disagree — only when all 16 agree, else the one copy, as the run lookup does.
 * Otherwise one entry per level is read, as the removed legacy op did); an empty or bogus L1 entry →
 * 1 MiB, an empty or bogus L2 entry → 4 KiB. IOVAs above 4 GiB answer for their 32-bit alias; a strict
 * domain does not alias them: unmapped, the largest naturally aligned block around the IOVA
 * above 4 GiB.
 */
function omapIovaToPhysLength(d: OmapDomain, iova: Addr, out: PhysLength): void {
  if (!d.attached) {
    out.setUnmapped(SZ_4K);
    return;
  }
  if (d.strict && beyond32(iova, 1)) {
    out.setUnmapped(holeSpanOutside(iova, STRICT_RANGES));
    return;
  }
  const da32 = lo32(iova);
  const off = da32 & 0xfff;
  const mmu = d.iommus[0]!.mmu;
  const w = pgdWords(mmu);
  const b = pgdBase(mmu);
  const i = da32 >>> 20;
  const e = w[b + i]!;
  d.counters.pteReads++;
  if (e !== 0 && iopgdIsTable(e)) {
    const pt = iopgdPagePaddr(e);
    const j = (da32 >>> 12) & 0xff;
    const pte = readL2(d, pt, j);
    if (iopteIsSmall(pte)) out.setMapped(pte >>> 12, off, SZ_4K);
    else if (iopteIsLarge(pte)) {
      const pfn = ((pte & IOLARGE_MASK) >>> 12) + (j & 0xf);
      out.setMapped(pfn, off, !replicasMayDisagree(d) || l2ReplicasAgree(d, pt, j) ? SZ_64K : SZ_4K);
    } else out.setUnmapped(SZ_4K);
    return;
  }
  const sub = (da32 >>> 12) & 0xff;
  if (iopgdIsSection(e)) out.setMapped(((e & IOSECTION_MASK) >>> 12) + sub, off, SZ_1M);
  else if (iopgdIsSuper(e)) {
    const pfn = ((e & IOSUPER_MASK) >>> 12) + (i & 0xf) * 256 + sub;
    out.setMapped(pfn, off, !replicasMayDisagree(d) || l1ReplicasAgree(d, w, b, i) ? SZ_16M : SZ_1M);
  } else out.setUnmapped(SZ_1M);
}

/**
 * `omap_iommu_domain_free()`: detach the device if one is attached (reachable L2 tables and
 * the L1 tables are freed; orphaned L2 tables stay allocated — a strict domain frees them).
 */
function omapDomainFree(d: OmapDomain): void {
  if (d.freed) return;
  d.freed = true;
  d.omap.detach(d);
  d.l2View.drop();
  if (d.strict) {
    d.l2Cache.destroy();
    d.orphans.clear();
  } else d.l2Cache.destroy(d.orphans);
}

/** `omap_iommu_ops.default_domain_ops` */
export function createOmapOps(name = "omap-iommu"): IommuDomainOps<OmapDomain> {
  return {
    name,
    mapPages: omapMapPages,
    unmapPages: omapUnmapPages,
    iovaToPhysLength: omapIovaToPhysLength,
    iovaToPhysRuns: omapIovaToPhysRuns,
    free: omapDomainFree,
    inspect: (d): PageTableInspector | null => (d.attached ? new OmapInspector(d) : null),
  };
}
