/**
 * drivers/gpu/drm/panfrost/panfrost_mmu.c, panfrost_gem.c (mapping side): panfrost drives
 * io-pgtable directly, one page table per address space (`struct panfrost_mmu`), with no
 * IOMMU driver in between — ARM_MALI_LPAE by default, ARM_64_LPAE_S1 (4 KiB) when the
 * GPU_QUIRK_FORCE_AARCH64_PGTABLE quirk asks for it. BOs are mapped scatter-gather segment by
 * segment (`mmu_map_sg`), heap BOs grow 2 MiB at a time on GPU page fault, and
 * `panfrost_mmu_unmap()` probes each step of a heap BO with `iova_to_phys` to skip chunks
 * never faulted in. The TLB ops io-pgtable is given do nothing; the real flush is one
 * AS_COMMAND_LOCK + AS_COMMAND_FLUSH_PT over the range after each map or unmap.
 *
 * Hot loops (map, unmap, probes) reuse one PgCount, SizeOut and PhysLength per device and
 * work on numbers: GPU VAs are below 2^48 and BO memory below 2^40.
 */
import {
  IOMMU_CACHE,
  IOMMU_NOEXEC,
  IOMMU_READ,
  IOMMU_WRITE,
  IommuCounters,
  modPow2,
  type PageTableInspector,
  PhysLength,
  SizeOut,
  SZ_2M,
  SZ_4G,
  SZ_4K,
  SZ_16M,
  SZ_32M,
  TableAllocator,
} from "@iommu/core";
import {
  allocIoPgtableOps,
  freeIoPgtableOps,
  type IommuFlushOps,
  type IoPgtableCfg,
  IoPgtableFmt,
  type IoPgtableOps,
  ioPgtableIovaToPhys,
} from "@iommu/io-pgtable";
import type { GpuBo } from "../gem.js";
import { alignBits, getPgsize, PgCount } from "../get-pgsize.js";
import { GpuMemory } from "../gpu-memory.js";
import { GpuMmuHw } from "../gpu-mmu-hw.js";
import type { LookupMode } from "../lookup-mode.js";
import {
  AS_COMMAND_FLUSH_MEM,
  AS_COMMAND_FLUSH_PT,
  AS_COMMAND_UNLOCK,
  AS_COMMAND_UPDATE,
  AS_TRANSCFG_ADRMODE_AARCH64_4K,
  AS_TRANSCFG_ADRMODE_LEGACY,
  AS_TRANSCFG_ADRMODE_UNMAPPED,
  AS_TRANSCFG_PTW_MEMATTR_WB,
  AS_TRANSCFG_PTW_RA,
  AS_TRANSCFG_PTW_SH_OS,
  AS_TRANSTAB_AARCH64_4K_ADDR_MASK,
  asTranscfgInaBits,
  gpuMmuFeaturesPaBits,
  gpuMmuFeaturesVaBits,
  mairToMemattr,
} from "../mmu-regs.js";
import type { SgTable } from "../sg-table.js";

const EINVAL = -22;
const ENOENT = -2;
const GFP_KERNEL = 0;
const U64_MAX = (1n << 64n) - 1n;

/** `mmu_tlb_ops`: io-pgtable's TLB callbacks are no-ops; panfrost flushes per range itself. */
const MMU_TLB_OPS: IommuFlushOps = {
  tlbFlushAll() {},
  tlbFlushWalk() {},
};

/** `struct panfrost_device` features and quirks the MMU code reads, and the model's shared parts. */
export interface PanfrostDeviceOptions {
  /** GPU_MMU_FEATURES: VA bits in 7:0, PA bits in 15:8 (default 0x2830: 48-bit VA, 40-bit PA). */
  mmuFeatures?: number;
  /** GPU_AS_PRESENT bitmap (default 0xff: 8 address spaces). */
  asPresent?: number;
  /** `pfdev->coherent`: the GPU's page-table walker snoops CPU caches. */
  coherent?: boolean;
  /** HW_FEATURE_AARCH64_MMU. */
  aarch64Mmu?: boolean;
  /** GPU_QUIRK_FORCE_AARCH64_PGTABLE (MediaTek MT8188/MT8192/MT8370). */
  forceAarch64Pgtable?: boolean;
  /** The lookup `panfrost_mmu_unmap()` probes heap BOs with (default `legacy`). */
  lookup?: LookupMode;
  memory?: GpuMemory;
  allocator?: TableAllocator;
  counters?: IommuCounters;
  hw?: GpuMmuHw;
}

/** `struct panfrost_device`: what the MMU code reads of it, plus the model's shared state. */
export class PanfrostDevice {
  readonly mmuFeatures: number;
  readonly asPresent: number;
  readonly coherent: boolean;
  readonly aarch64Mmu: boolean;
  readonly forceAarch64Pgtable: boolean;
  lookup: LookupMode;
  readonly memory: GpuMemory;
  readonly allocator: TableAllocator;
  /** Walks, PTE reads/writes, map/unmap_pages calls, table counts and WARNs of every AS. */
  readonly counters: IommuCounters;
  /** AS registers and AS_COMMAND counts. */
  readonly hw: GpuMmuHw;
  /** `pm_runtime_active()`: flushes are skipped while the GPU is suspended. */
  runtimeActive = true;
  /** `as_alloc_mask`, `as_faulty_mask` */
  asAllocMask = 0;
  asFaultyMask = 0;
  /** `as_lru_list`, most recently used first. */
  readonly asLru: PanfrostMmu[] = [];
  // Reused by the hot loops.
  readonly pg = new PgCount();
  readonly mapped = new SizeOut();
  readonly probe = new PhysLength();

  constructor(o: PanfrostDeviceOptions = {}) {
    this.mmuFeatures = o.mmuFeatures ?? 0x2830;
    this.asPresent = o.asPresent ?? 0xff;
    this.coherent = o.coherent ?? false;
    this.aarch64Mmu = o.aarch64Mmu ?? false;
    this.forceAarch64Pgtable = o.forceAarch64Pgtable ?? false;
    this.lookup = o.lookup ?? "legacy";
    this.memory = o.memory ?? new GpuMemory();
    this.counters = o.counters ?? new IommuCounters();
    this.allocator = o.allocator ?? new TableAllocator(undefined, { counters: this.counters });
    this.hw = o.hw ?? new GpuMmuHw();
  }
}

/** `struct panfrost_gem_mapping`: one BO's node in one address space's VA allocator. */
export class PanfrostGemMapping {
  /** `mapping->active`: the pages are in the page table. */
  active = false;

  constructor(
    readonly bo: GpuBo,
    readonly mmu: PanfrostMmu,
    /** `mmnode.start << PAGE_SHIFT` */
    readonly start: number,
    /** `mmnode.size << PAGE_SHIFT` */
    readonly size: number,
  ) {}
}

/** `struct panfrost_mmu`: one GPU address space and its page table. */
export class PanfrostMmu {
  /** The AS slot, -1 while none is assigned. */
  as = -1;
  /** `as_count`: jobs (and perfcnt) holding the AS. */
  asCount = 0;
  /** `mmu->cfg`: what panfrost_mmu_enable() programs. */
  transtab = 0n;
  memattr = 0n;
  transcfg = 0n;
  /** `mmu->mm` (drm_mm over [32 MiB, 4 GiB)): the mappings, ascending by VA. */
  readonly mappings: PanfrostGemMapping[] = [];

  constructor(
    readonly dev: PanfrostDevice,
    readonly fmt: IoPgtableFmt,
    readonly ops: IoPgtableOps,
    /** `mmu->pgtbl_cfg` as the format left it. */
    readonly pgtblCfg: IoPgtableCfg,
  ) {}

  /** The page table's inspector (geometry, walks, every entry); counts nothing. */
  inspect(): PageTableInspector | undefined {
    return this.ops.inspect?.();
  }
}

/**
 * `panfrost_mmu_ctx_create()`: choose the format, build the page table (ias/oas from the MMU
 * features, pgsize_bitmap 4K | 2M) and compute the AS register values
 * (`panfrost_mmu_cfg_init()`). Returns the context or -EINVAL.
 */
export function panfrostMmuCtxCreate(dev: PanfrostDevice): PanfrostMmu | number {
  let fmt: IoPgtableFmt;
  if (dev.forceAarch64Pgtable) {
    if (!dev.aarch64Mmu) return EINVAL; // dev_err_once: "AARCH64_4K page table not supported"
    fmt = IoPgtableFmt.ARM_64_LPAE_S1;
  } else fmt = IoPgtableFmt.ARM_MALI_LPAE;
  const cfg: IoPgtableCfg = {
    quirks: 0,
    pgsizeBitmap: SZ_4K | SZ_2M,
    ias: gpuMmuFeaturesVaBits(dev.mmuFeatures),
    oas: gpuMmuFeaturesPaBits(dev.mmuFeatures),
    coherentWalk: dev.coherent,
    tlb: MMU_TLB_OPS,
    allocator: dev.allocator,
    counters: dev.counters,
  };
  const ops = allocIoPgtableOps(fmt, cfg, null);
  if (!ops) return EINVAL;
  const mmu = new PanfrostMmu(dev, fmt, ops, cfg);
  if (fmt === IoPgtableFmt.ARM_64_LPAE_S1) {
    // mmu_cfg_init_aarch64_4k()
    const s1 = cfg.armLpaeS1Cfg!;
    if (s1.ttbr & ~AS_TRANSTAB_AARCH64_4K_ADDR_MASK) {
      dev.counters.warn("mmu_cfg_init_aarch64_4k: TTBR has bits the AS cannot take");
      freeIoPgtableOps(ops);
      return EINVAL;
    }
    mmu.transtab = s1.ttbr;
    mmu.memattr = mairToMemattr(s1.mair, cfg.coherentWalk);
    let transcfg =
      AS_TRANSCFG_PTW_MEMATTR_WB |
      AS_TRANSCFG_PTW_RA |
      AS_TRANSCFG_ADRMODE_AARCH64_4K |
      asTranscfgInaBits(55 - cfg.ias);
    if (cfg.coherentWalk) transcfg |= AS_TRANSCFG_PTW_SH_OS;
    mmu.transcfg = BigInt(transcfg >>> 0);
  } else {
    // mmu_cfg_init_mali_lpae()
    mmu.transtab = cfg.armMaliLpaeCfg!.transtab;
    mmu.memattr = cfg.armMaliLpaeCfg!.memattr;
    mmu.transcfg = BigInt(AS_TRANSCFG_ADRMODE_LEGACY);
  }
  return mmu;
}

/** `panfrost_mmu_release_ctx()`: release the AS, free the page table. */
export function panfrostMmuCtxPut(mmu: PanfrostMmu): void {
  const dev = mmu.dev;
  if (mmu.as >= 0) {
    if (dev.runtimeActive) panfrostMmuDisable(dev, mmu.as);
    dev.asAllocMask &= ~(1 << mmu.as);
    const i = dev.asLru.indexOf(mmu);
    if (i >= 0) dev.asLru.splice(i, 1);
    mmu.as = -1;
  }
  freeIoPgtableOps(mmu.ops);
}

/** `mmu_hw_do_operation_locked()`: lock the region (unless unlocking), then the command. */
function mmuHwDoOperationLocked(
  dev: PanfrostDevice,
  asNr: number,
  iova: bigint,
  size: bigint,
  op: number,
): void {
  if (asNr < 0) return;
  if (op !== AS_COMMAND_UNLOCK) dev.hw.lockRegion(asNr, iova, size);
  dev.hw.command(asNr, op);
}

/** `panfrost_mmu_enable()`: flush everything, program TRANSTAB/MEMATTR/TRANSCFG, UPDATE. */
function panfrostMmuEnable(dev: PanfrostDevice, mmu: PanfrostMmu): void {
  mmuHwDoOperationLocked(dev, mmu.as, 0n, U64_MAX, AS_COMMAND_FLUSH_MEM);
  const r = dev.hw.as(mmu.as);
  r.transtab = mmu.transtab;
  r.memattr = mmu.memattr;
  r.transcfg = mmu.transcfg;
  dev.hw.command(mmu.as, AS_COMMAND_UPDATE);
}

/** `panfrost_mmu_disable()`: flush everything, clear the AS, translation off, UPDATE. */
function panfrostMmuDisable(dev: PanfrostDevice, asNr: number): void {
  mmuHwDoOperationLocked(dev, asNr, 0n, U64_MAX, AS_COMMAND_FLUSH_MEM);
  const r = dev.hw.as(asNr);
  r.transtab = 0n;
  r.memattr = 0n;
  r.transcfg = BigInt(AS_TRANSCFG_ADRMODE_UNMAPPED);
  dev.hw.command(asNr, AS_COMMAND_UPDATE);
}

/**
 * `panfrost_mmu_as_get()`: give the context an address space (keeping its own, or the
 * lowest free one, or the least recently used idle one's) and enable it. Returns the AS.
 */
export function panfrostMmuAsGet(dev: PanfrostDevice, mmu: PanfrostMmu): number {
  const lru = dev.asLru;
  if (mmu.as >= 0) {
    mmu.asCount++;
    lru.splice(lru.indexOf(mmu), 1);
    lru.unshift(mmu);
    const mask = (1 << mmu.as) | (1 << (16 + mmu.as));
    if (dev.asFaultyMask & mask) {
      dev.asFaultyMask &= ~mask;
      panfrostMmuEnable(dev, mmu);
    }
    return mmu.as;
  }
  let as = 0;
  while (dev.asAllocMask & (1 << as)) as++; // ffz()
  if (as >= 32 || !((1 << as) & dev.asPresent)) {
    let victim: PanfrostMmu | undefined;
    for (let i = lru.length - 1; i >= 0; i--)
      if (lru[i]!.asCount === 0) {
        victim = lru[i];
        break;
      }
    if (!victim) {
      dev.counters.warn("panfrost_mmu_as_get: every address space is busy");
      return -1;
    }
    lru.splice(lru.indexOf(victim), 1);
    as = victim.as;
    victim.as = -1;
  }
  mmu.as = as;
  dev.asAllocMask |= 1 << as;
  mmu.asCount = 1;
  lru.unshift(mmu);
  panfrostMmuEnable(dev, mmu);
  return as;
}

/** `panfrost_mmu_as_put()` */
export function panfrostMmuAsPut(dev: PanfrostDevice, mmu: PanfrostMmu): void {
  mmu.asCount--;
  if (mmu.asCount < 0) dev.counters.warn("panfrost_mmu_as_put: as_count below zero");
}

/**
 * `panfrost_mmu_flush_range()`: with an AS and the GPU awake, lock the region and issue
 * AS_COMMAND_FLUSH_PT (which unlocks it when done).
 */
export function panfrostMmuFlushRange(
  dev: PanfrostDevice,
  mmu: PanfrostMmu,
  iova: number,
  size: number,
): void {
  if (mmu.as < 0 || !dev.runtimeActive) return;
  mmuHwDoOperationLocked(dev, mmu.as, BigInt(iova), BigInt(size), AS_COMMAND_FLUSH_PT);
}

/**
 * `mmu_map_sg()`: map each segment with `get_pgsize(iova | paddr, len)` chunks — 2 MiB
 * blocks only where the IOVA and the segment's address are both 2 MiB aligned — then flush
 * the whole range once. Failures are not reported: `mapped = max(mapped, pgsize)` moves on
 * (known kernel quirk: a failed map_pages leaves a hole and the call still returns 0).
 */
export function mmuMapSg(
  dev: PanfrostDevice,
  mmu: PanfrostMmu,
  iova: number,
  prot: number,
  sgt: SgTable,
): number {
  const ops = mmu.ops;
  const pg = dev.pg;
  const out = dev.mapped;
  const counters = dev.counters;
  const start = iova;
  for (let s = 0; s < sgt.nents; s++) {
    let paddr = sgt.addr[s]!;
    let len = sgt.len[s]!;
    while (len > 0) {
      const pgsize = getPgsize(alignBits(iova, paddr), len, pg);
      out.value = 0;
      counters.mapPagesCalls++;
      ops.mapPages(iova, paddr, pgsize, pg.count, prot, GFP_KERNEL, out);
      const mapped = Math.max(out.value, pgsize);
      iova += mapped;
      paddr += mapped;
      len -= mapped;
    }
  }
  panfrostMmuFlushRange(dev, mmu, start, iova - start);
  return 0;
}

/** `panfrost_mmu_map()`: map a (non-heap) BO's pages at its node, read/write/cacheable. */
export function panfrostMmuMap(mapping: PanfrostGemMapping): number {
  const dev = mapping.mmu.dev;
  if (mapping.active) {
    dev.counters.warn("panfrost_mmu_map: mapping already active");
    return 0;
  }
  let prot = IOMMU_READ | IOMMU_WRITE | IOMMU_CACHE;
  if (mapping.bo.noexec) prot |= IOMMU_NOEXEC;
  const sgt = mapping.bo.getPagesSgt();
  if (typeof sgt === "number") {
    dev.counters.warn("panfrost_mmu_map: no pages");
    return sgt;
  }
  mmuMapSg(dev, mapping.mmu, mapping.start, prot, sgt);
  mapping.active = true;
  return 0;
}

/**
 * `panfrost_mmu_unmap()`: unmap the node in `get_pgsize(iova, len − unmapped)` steps, then
 * flush it. Non-heap BOs: `unmap_pages` over each whole step, no lookup. Heap BOs: one page
 * of `pgsize` per step, and only when a lookup at the step's IOVA finds it mapped — one walk
 * per step, so a 2 MiB-aligned heap BO costs S / 2 MiB walks.
 *
 * `lookup` `length` (the series): the probe is `iova_to_phys_length()`; a probe that lands
 * in a hole skips the whole empty span it reports (at least the step), so an unfaulted
 * stretch that covers an empty level-1 slot costs one walk instead of 512.
 */
export function panfrostMmuUnmap(
  mapping: PanfrostGemMapping,
  lookup: LookupMode = mapping.mmu.dev.lookup,
): void {
  const mmu = mapping.mmu;
  const dev = mmu.dev;
  const counters = dev.counters;
  if (!mapping.active) {
    counters.warn("panfrost_mmu_unmap: mapping not active");
    return;
  }
  const ops = mmu.ops;
  const pg = dev.pg;
  const probe = dev.probe;
  const heap = mapping.bo.heap;
  const len = mapping.size;
  let iova = mapping.start;
  let unmappedLen = 0;
  while (unmappedLen < len) {
    const pgsize = getPgsize(modPow2(iova, 2 ** 30), len - unmappedLen, pg);
    const pgcount = heap ? 1 : pg.count;
    let step = pgsize * pgcount;
    let present = true;
    if (heap) {
      counters.walks++;
      if (lookup === "length") {
        ops.iovaToPhysLength(iova, probe);
        if (!probe.mapped) {
          present = false;
          const holeEnd = Math.floor(iova / probe.length) * probe.length + probe.length;
          step = Math.max(step, Math.min(holeEnd, mapping.start + len) - iova);
        }
      } else {
        const phys = ioPgtableIovaToPhys(ops, iova);
        present = phys !== 0 && phys !== 0n;
      }
    }
    if (present) {
      counters.unmapPagesCalls++;
      const unmapped = ops.unmapPages(iova, pgsize, pgcount, null);
      if (unmapped !== pgsize * pgcount) counters.warn("panfrost_mmu_unmap: unmapped size mismatch");
    }
    iova += step;
    unmappedLen += step;
  }
  panfrostMmuFlushRange(dev, mmu, mapping.start, len);
  mapping.active = false;
}

/** `addr_to_mapping()`: the mapping of AS `as` whose node holds `addr`. */
function addrToMapping(dev: PanfrostDevice, as: number, addr: number): PanfrostGemMapping | undefined {
  const mmu = dev.asLru.find((m) => m.as === as);
  if (!mmu) return undefined;
  return mmu.mappings.find((m) => addr >= m.start && addr < m.start + m.size);
}

/** `NUM_FAULT_PAGES`: a heap grows by 2 MiB per fault. */
export const NUM_FAULT_PAGES = SZ_2M / SZ_4K;

/**
 * `panfrost_mmu_map_fault_addr()`: the GPU faulted at `addr` in AS `as`. For a heap BO,
 * allocate the 2 MiB chunk around it (`addr &= ~(SZ_2M - 1)`; the code assumes the node is
 * 2 MiB aligned and sized), map it NOEXEC with `mmu_map_sg` and account it. A chunk already
 * present returns 0 untouched. -ENOENT outside every node, -EINVAL (with a WARN) for a
 * non-heap BO, -ENOMEM when pages cannot be had.
 */
export function panfrostMmuMapFaultAddr(dev: PanfrostDevice, as: number, addr: number): number {
  const mapping = addrToMapping(dev, as, addr);
  if (!mapping) return ENOENT;
  const bo = mapping.bo;
  if (!bo.heap) {
    dev.counters.warn("panfrost_mmu_map_fault_addr: matching BO is not heap type");
    return EINVAL;
  }
  if (mapping.mmu.as !== as) dev.counters.warn("panfrost_mmu_map_fault_addr: AS mismatch");
  const chunk = Math.floor(addr / SZ_2M) * SZ_2M;
  const pageOffset = chunk / SZ_4K - mapping.start / SZ_4K;
  if (pageOffset < 0 || pageOffset + NUM_FAULT_PAGES > bo.size / SZ_4K) return EINVAL; // kernel: out of bounds
  // Pages already there: another fault got the chunk first.
  if (bo.pages && bo.pages.pfns[pageOffset]! >= 0) return 0;
  const sgt = bo.heapChunkSgt(pageOffset);
  if (typeof sgt === "number") return sgt;
  mmuMapSg(dev, mapping.mmu, chunk, IOMMU_WRITE | IOMMU_READ | IOMMU_CACHE | IOMMU_NOEXEC, sgt);
  mapping.active = true;
  bo.heapRssSize += SZ_2M;
  return 0;
}

/**
 * The page-fault branch of `panfrost_mmu_irq_handler_thread()`: handle a translation fault
 * at `addr` in AS `as`; an unhandled one marks the AS faulty and disables it. Returns the
 * handler's result (0 = handled).
 */
export function panfrostMmuPageFault(dev: PanfrostDevice, as: number, addr: number): number {
  const ret = panfrostMmuMapFaultAddr(dev, as, addr);
  if (ret) {
    dev.asFaultyMask |= (1 << as) | (1 << (as + 16));
    panfrostMmuDisable(dev, as);
  }
  return ret;
}

/** `drm_mm_init(&mmu->mm, SZ_32M >> PAGE_SHIFT, …)`: the first GPU VA panfrost hands out. */
export const PANFROST_VA_START = SZ_32M;
/** The end of panfrost's drm_mm range (4 GiB: "4G enough for now"). */
export const PANFROST_VA_END = SZ_4G;
const PFN_4G = SZ_4G / SZ_4K;
const PFN_16M = SZ_16M / SZ_4K;

/**
 * `panfrost_drm_mm_color_adjust()` on a hole [start, end) in pages: executable BOs may not
 * start or end on a 4 GiB boundary, and skip to the next 4 GiB segment when less than 16 MiB
 * is left before it.
 */
function colorAdjust(noexec: boolean, start: number, end: number): [number, number] {
  if (noexec) return [start, end];
  let s = start;
  let e = end;
  if (s % PFN_4G === 0) s++;
  if (e % PFN_4G === 0) e--;
  const nextSeg = Math.ceil(s / PFN_4G) * PFN_4G;
  if (nextSeg - s <= PFN_16M) s = nextSeg + 1;
  return [s, Math.min(e, Math.ceil(s / PFN_4G) * PFN_4G - 1)];
}

/** `panfrost_gem_open()` placement override. */
export interface PanfrostGemOpenOptions {
  /** Place the node here (bytes) instead of drm_mm's first fit: a harness convenience. */
  va?: number;
}

/**
 * `panfrost_gem_open()`: insert a node for the BO in the context's drm_mm — aligned to its
 * size for executable BOs (the 24-bit program counter must not cross 16 MiB), to 2 MiB for
 * non-executable BOs of 2 MiB or more — and map non-heap BOs right away. Returns the
 * mapping, -ENOSPC when no hole fits (or `va` overlaps a node), or a map error.
 */
export function panfrostGemOpen(
  mmu: PanfrostMmu,
  bo: GpuBo,
  options: PanfrostGemOpenOptions = {},
): PanfrostGemMapping | number {
  const pages = bo.size / SZ_4K;
  const align = bo.noexec ? (bo.size >= SZ_2M ? SZ_2M / SZ_4K : 1) : pages;
  const nodes = mmu.mappings;
  let startPg = -1;
  let at = 0;
  if (options.va !== undefined) {
    const s = options.va / SZ_4K;
    if (options.va % SZ_4K !== 0) return EINVAL;
    at = nodes.findIndex((m) => m.start / SZ_4K >= s);
    if (at < 0) at = nodes.length;
    const prevEnd = at > 0 ? (nodes[at - 1]!.start + nodes[at - 1]!.size) / SZ_4K : 0;
    const nextStart = at < nodes.length ? nodes[at]!.start / SZ_4K : Number.POSITIVE_INFINITY;
    if (s < prevEnd || s + pages > nextStart) return -28;
    startPg = s;
  } else {
    let holeStart = PANFROST_VA_START / SZ_4K;
    for (let i = 0; i <= nodes.length; i++) {
      const holeEnd = i < nodes.length ? nodes[i]!.start / SZ_4K : PANFROST_VA_END / SZ_4K;
      const [hs, he] = colorAdjust(bo.noexec, holeStart, holeEnd);
      const s = Math.ceil(hs / align) * align;
      if (s + pages <= he) {
        startPg = s;
        at = i;
        break;
      }
      if (i < nodes.length) holeStart = (nodes[i]!.start + nodes[i]!.size) / SZ_4K;
    }
    if (startPg < 0) return -28; // -ENOSPC
  }
  const mapping = new PanfrostGemMapping(bo, mmu, startPg * SZ_4K, bo.size);
  nodes.splice(at, 0, mapping);
  if (!bo.heap) {
    const ret = panfrostMmuMap(mapping);
    if (ret) {
      nodes.splice(nodes.indexOf(mapping), 1);
      return ret;
    }
  }
  return mapping;
}

/** `panfrost_gem_teardown_mapping()`: unmap an active mapping and remove its node. */
export function panfrostGemClose(mapping: PanfrostGemMapping, lookup?: LookupMode): void {
  if (mapping.active) panfrostMmuUnmap(mapping, lookup);
  const nodes = mapping.mmu.mappings;
  const i = nodes.indexOf(mapping);
  if (i >= 0) nodes.splice(i, 1);
}
