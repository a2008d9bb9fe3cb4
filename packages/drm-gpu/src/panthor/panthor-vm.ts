/**
 * drivers/gpu/drm/panthor/panthor_mmu.c: panthor's VMs. Each VM owns an ARM_64_LPAE_S1
 * (AArch64 4 KiB granule) io-pgtable driven directly, pgsize_bitmap 4K | 2M, tables from a
 * per-operation reserve (pt-allocator.ts). VM_BIND operations run under a locked region
 * (AS_COMMAND_LOCK before, cache flush + AS_COMMAND_UNLOCK after); drm_gpuvm splits them into
 * map / remap / unmap steps. `panthor_vm_unmap_pages()` makes no lookup on the normal path; only
 * when io-pgtable unmaps less than asked (page table and drm_gpuvm out of sync) does it probe
 * 4 KiB at a time to skip the holes, then declare the VM unusable. Partial unmaps of 2 MiB
 * leaves widen to the leaf (`unmap_hugepage_align`) and remap the pieces kept.
 *
 * Hot loops reuse one PgCount, SizeOut and PhysLength per VM and work on numbers (VAs below
 * 2^48, BO memory below 2^52).
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
  SZ_1G,
  SZ_2M,
  SZ_4G,
  SZ_4K,
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
  ioPgtableOpsToPgtable,
} from "@iommu/io-pgtable";
import type { GpuBo } from "../gem.js";
import { alignBits, getPgsize, PgCount } from "../get-pgsize.js";
import { GpuMemory } from "../gpu-memory.js";
import { GpuMmuHw } from "../gpu-mmu-hw.js";
import type { LookupMode } from "../lookup-mode.js";
import {
  AS_COMMAND_UNLOCK,
  AS_COMMAND_UPDATE,
  AS_TRANSCFG_ADRMODE_AARCH64_4K,
  AS_TRANSCFG_ADRMODE_UNMAPPED,
  AS_TRANSCFG_PTW_MEMATTR_WB,
  AS_TRANSCFG_PTW_RA,
  AS_TRANSCFG_PTW_SH_OS,
  asTranscfgInaBits,
  gpuMmuFeaturesPaBits,
  gpuMmuFeaturesVaBits,
  mairToMemattr,
} from "../mmu-regs.js";
import type { SgTable } from "../sg-table.js";
import {
  drmGpuvmSmMap,
  drmGpuvmSmUnmap,
  type GpuVa,
  type GpuVaPiece,
  gpuvaInsert,
  gpuvaRemove,
} from "./gpuvm.js";
import { PanthorPtAllocator, type RsvdPageTables } from "./pt-allocator.js";

const EINVAL = -22;
const ENOMEM = -12;
const EBUSY = -16;
const GFP_KERNEL = 0;
const TWO64 = 1n << 64n;

/** `DRM_PANTHOR_VM_BIND_OP_MAP_READONLY` (uapi panthor_drm.h) */
export const DRM_PANTHOR_VM_BIND_OP_MAP_READONLY = 1 << 0;
/** `DRM_PANTHOR_VM_BIND_OP_MAP_NOEXEC` */
export const DRM_PANTHOR_VM_BIND_OP_MAP_NOEXEC = 1 << 1;
/** `DRM_PANTHOR_VM_BIND_OP_MAP_UNCACHED` */
export const DRM_PANTHOR_VM_BIND_OP_MAP_UNCACHED = 1 << 2;
/** `DRM_PANTHOR_VM_BIND_OP_TYPE_MASK` */
export const DRM_PANTHOR_VM_BIND_OP_TYPE_MASK = 0xf << 28;
/** `DRM_PANTHOR_VM_BIND_OP_TYPE_MAP` */
export const DRM_PANTHOR_VM_BIND_OP_TYPE_MAP = 0 << 28;
/** `DRM_PANTHOR_VM_BIND_OP_TYPE_UNMAP` */
export const DRM_PANTHOR_VM_BIND_OP_TYPE_UNMAP = 1 << 28;
/** `DRM_PANTHOR_VM_BIND_OP_TYPE_SYNC_ONLY` */
export const DRM_PANTHOR_VM_BIND_OP_TYPE_SYNC_ONLY = 2 << 28;
const TYPE_MASK = DRM_PANTHOR_VM_BIND_OP_TYPE_MASK;
const MAP_FLAGS =
  DRM_PANTHOR_VM_BIND_OP_MAP_READONLY |
  DRM_PANTHOR_VM_BIND_OP_MAP_NOEXEC |
  DRM_PANTHOR_VM_BIND_OP_MAP_UNCACHED;

/** `mmu_tlb_ops`: no-ops; panthor flushes when it unlocks the region. */
const MMU_TLB_OPS: IommuFlushOps = {
  tlbFlushAll() {},
  tlbFlushWalk() {},
};

/** `struct panthor_device` features the MMU code reads, and the model's shared parts. */
export interface PanthorDeviceOptions {
  /** GPU_MMU_FEATURES (default 0x2830: 48-bit VA, 40-bit PA). */
  mmuFeatures?: number;
  /** GPU_AS_PRESENT (default 0xff). AS 0 is the MCU's. */
  asPresent?: number;
  /** `ptdev->coherent` */
  coherent?: boolean;
  memory?: GpuMemory;
  /** Where page tables come from (the page allocator and pt_cache). Give it no counters: the VMs count the tables they use. */
  allocator?: TableAllocator;
  counters?: IommuCounters;
  hw?: GpuMmuHw;
}

/** `struct panthor_device` + `struct panthor_mmu`: what the VM code reads, plus shared state. */
export class PanthorDevice {
  readonly mmuFeatures: number;
  readonly asPresent: number;
  readonly coherent: boolean;
  readonly memory: GpuMemory;
  readonly allocator: TableAllocator;
  /** Walks, PTE reads/writes, map/unmap_pages calls, tables in use and WARNs of every VM. */
  readonly counters: IommuCounters;
  readonly hw: GpuMmuHw;
  /** `mmu->as.alloc_mask` and `mmu->as.slots[]` */
  asAllocMask = 0;
  readonly slots: (PanthorVm | null)[] = new Array(32).fill(null);
  /** `mmu->as.lru_list`: idle VMs still holding a slot, least recently used first. */
  readonly lru: PanthorVm[] = [];

  constructor(o: PanthorDeviceOptions = {}) {
    this.mmuFeatures = o.mmuFeatures ?? 0x2830;
    this.asPresent = o.asPresent ?? 0xff;
    this.coherent = o.coherent ?? false;
    this.memory = o.memory ?? new GpuMemory();
    this.counters = o.counters ?? new IommuCounters();
    this.allocator = o.allocator ?? new TableAllocator();
    this.hw = o.hw ?? new GpuMmuHw();
  }
}

/** `panthor_vm_create()` arguments, and the model's choices between kernel and series behaviour. */
export interface PanthorVmOptions {
  /** The MCU's VM (4 GiB, AS 0). */
  forMcu?: boolean;
  /** The lookup of the error path's hole probes and (with `hugeCheck: "leaf"`) of the huge-page test. Default `legacy`. */
  lookup?: LookupMode;
  /**
   * The error path's probe address: `quirk` (default) reproduces the kernel's
   * `iova + unmapped_sz`, which ignores how far the loop already got (`offset`); `fixed`
   * probes `iova + offset + unmapped_sz`.
   */
  unmapProbe?: "quirk" | "fixed";
  /**
   * How `unmap_hugepage_align()` decides that a remap piece sits in a 2 MiB leaf: `folio`
   * (default, the kernel: `folio_size()` of the BO page ≥ 2 MiB) or `leaf` (the series'
   * lookup: the leaf `iova_to_phys_length()` reports is ≥ 2 MiB).
   */
  hugeCheck?: "folio" | "leaf";
}

/** `struct panthor_vm_op_ctx`: everything a VM_BIND operation needs, reserved up front. */
export interface PanthorVmOpCtx {
  rsvdPageTables: RsvdPageTables;
  /** `preallocated_vmas[]` left (3 for a map, 2 for an unmap). */
  preallocatedVmas: number;
  flags: number;
  va: { addr: number; range: number };
  map: { bo: GpuBo | null; boOffset: number; sgt: SgTable | null };
}

/** `struct panthor_vm` */
export class PanthorVm {
  readonly dev: PanthorDevice;
  readonly forMcu: boolean;
  ops!: IoPgtableOps;
  readonly ptAlloc: PanthorPtAllocator;
  /** drm_gpuvm's VA tree, ascending. */
  readonly vas: GpuVa[] = [];
  /** drm_gpuvm's managed range [mmStart, mmStart + mmRange). */
  readonly mmStart = 0;
  readonly mmRange: number;
  /** `vm->memattr` (AS_MEMATTR) */
  memattr = 0n;
  /** `vm->unusable`, `vm->destroyed` */
  unusable = false;
  destroyed = false;
  /** `vm->as.id`, `vm->as.active_cnt` */
  asId = -1;
  activeCnt = 0;
  /** `vm->locked_region` */
  readonly lockedRegion = { start: 0, size: 0 };
  /** `vm->op_ctx` */
  opCtx: PanthorVmOpCtx | null = null;
  lookup: LookupMode;
  unmapProbe: "quirk" | "fixed";
  hugeCheck: "folio" | "leaf";
  // Reused by the hot loops.
  readonly pg = new PgCount();
  readonly mapped = new SizeOut();
  readonly probe = new PhysLength();

  constructor(dev: PanthorDevice, o: PanthorVmOptions) {
    this.dev = dev;
    this.forMcu = o.forMcu ?? false;
    this.mmRange = this.forMcu ? SZ_4G : 2 ** gpuMmuFeaturesVaBits(dev.mmuFeatures);
    this.lookup = o.lookup ?? "legacy";
    this.unmapProbe = o.unmapProbe ?? "quirk";
    this.hugeCheck = o.hugeCheck ?? "folio";
    this.ptAlloc = new PanthorPtAllocator(dev.allocator, dev.counters);
  }

  /** The page table's inspector (geometry, walks, every entry); counts nothing. */
  inspect(): PageTableInspector | undefined {
    return this.ops.inspect?.();
  }
}

/**
 * `panthor_vm_create()`: the page table (ARM_64_LPAE_S1, ias/oas from the MMU features,
 * 4K | 2M, panthor's allocator) and AS_MEMATTR from its MAIR. Returns the VM or -EINVAL.
 */
export function panthorVmCreate(dev: PanthorDevice, options: PanthorVmOptions = {}): PanthorVm | number {
  const vm = new PanthorVm(dev, options);
  const cfg: IoPgtableCfg = {
    quirks: 0,
    pgsizeBitmap: SZ_4K | SZ_2M,
    ias: gpuMmuFeaturesVaBits(dev.mmuFeatures),
    oas: gpuMmuFeaturesPaBits(dev.mmuFeatures),
    coherentWalk: dev.coherent,
    tlb: MMU_TLB_OPS,
    allocator: vm.ptAlloc,
    customAllocator: true,
    counters: dev.counters,
  };
  const ops = allocIoPgtableOps(IoPgtableFmt.ARM_64_LPAE_S1, cfg, vm);
  if (!ops) return EINVAL;
  vm.ops = ops;
  vm.memattr = mairToMemattr(cfg.armLpaeS1Cfg!.mair, dev.coherent);
  return vm;
}

/** `panthor_vm_free()` (last reference): disable the AS, free the page table. */
export function panthorVmFree(vm: PanthorVm): void {
  const dev = vm.dev;
  if (vm.asId >= 0) {
    panthorMmuAsDisable(dev, vm.asId);
    dev.slots[vm.asId] = null;
    dev.asAllocMask &= ~(1 << vm.asId);
    const i = dev.lru.indexOf(vm);
    if (i >= 0) dev.lru.splice(i, 1);
    vm.asId = -1;
  }
  freeIoPgtableOps(vm.ops);
}

/** `panthor_mmu_as_disable()`: flush the caches, translation off, AS_COMMAND_UPDATE. */
function panthorMmuAsDisable(dev: PanthorDevice, asNr: number): void {
  dev.hw.flushCaches();
  const r = dev.hw.as(asNr);
  r.transtab = 0n;
  r.memattr = 0n;
  r.transcfg = BigInt(AS_TRANSCFG_ADRMODE_UNMAPPED);
  dev.hw.command(asNr, AS_COMMAND_UPDATE);
}

/**
 * `panthor_vm_active()`: give the VM an address space (its own, the lowest free one above
 * the MCU's AS 0, or the least recently used idle VM's) and program it from the page table:
 * TRANSTAB = TTBR, TRANSCFG = AArch64 4K walker with INA_BITS(55 − va_bits). 0 or -EBUSY.
 */
export function panthorVmActive(vm: PanthorVm): number {
  const dev = vm.dev;
  if (vm.activeCnt > 0) {
    vm.activeCnt++;
    return 0;
  }
  let as = vm.asId;
  if (as < 0) {
    if (vm.forMcu) as = 0;
    else {
      as = 0;
      while ((dev.asAllocMask | 1) & (1 << as)) as++;
    }
    if (as >= 32 || !((1 << as) & dev.asPresent)) {
      const victim = dev.lru.shift();
      if (!victim) {
        dev.counters.warn("panthor_vm_active: no address space to reclaim");
        return EBUSY;
      }
      as = victim.asId;
      dev.slots[as] = null;
      dev.asAllocMask &= ~(1 << as);
      victim.asId = -1;
    }
    vm.asId = as;
    dev.asAllocMask |= 1 << as;
    dev.slots[as] = vm;
  } else {
    const i = dev.lru.indexOf(vm);
    if (i >= 0) dev.lru.splice(i, 1);
  }
  if (vm.lockedRegion.size > 0) dev.counters.warn("panthor_vm_active: region locked");
  const r = dev.hw.as(as);
  r.transtab = ioPgtableOpsToPgtable(vm.ops).cfg.armLpaeS1Cfg!.ttbr;
  let transcfg =
    AS_TRANSCFG_PTW_MEMATTR_WB |
    AS_TRANSCFG_PTW_RA |
    AS_TRANSCFG_ADRMODE_AARCH64_4K |
    asTranscfgInaBits(55 - gpuMmuFeaturesVaBits(dev.mmuFeatures));
  if (dev.coherent) transcfg |= AS_TRANSCFG_PTW_SH_OS;
  r.transcfg = BigInt(transcfg >>> 0);
  r.memattr = vm.memattr;
  dev.hw.command(as, AS_COMMAND_UPDATE);
  vm.activeCnt = 1;
  return 0;
}

/** `panthor_vm_idle()`: the GPU is done with the VM; it keeps its AS on the LRU list. */
export function panthorVmIdle(vm: PanthorVm): void {
  if (vm.activeCnt === 0) return;
  if (--vm.activeCnt > 0) return;
  if (vm.asId >= 0 && !vm.dev.lru.includes(vm)) vm.dev.lru.push(vm);
}

/** `panthor_vm_declare_unusable()`: flag the VM and cut the GPU off it (AS disabled). */
export function panthorVmDeclareUnusable(vm: PanthorVm): void {
  if (vm.unusable) return;
  vm.unusable = true;
  if (vm.asId >= 0) panthorMmuAsDisable(vm.dev, vm.asId);
}

/**
 * `panthor_vm_lock_region()`: lock [start, start + size) in the MMU (AS_COMMAND_LOCK; the
 * hardware locks the enclosing naturally aligned block, which becomes `locked_region`).
 */
export function panthorVmLockRegion(vm: PanthorVm, start: number, size: number): number {
  if (vm.lockedRegion.size) {
    vm.dev.counters.warn("panthor_vm_lock_region: a region is already locked");
    return EINVAL;
  }
  let s = start;
  let z = size;
  if (vm.asId >= 0 && size) {
    const r = vm.dev.hw.lockRegion(vm.asId, BigInt(start), BigInt(size))!;
    s = Number(r.start);
    z = Number(r.size);
  }
  vm.lockedRegion.start = s;
  vm.lockedRegion.size = z;
  return 0;
}

/**
 * `panthor_vm_expand_region()`: a remap widened to 2 MiB boundaries may reach beyond the
 * locked region: lock the union of both (the regions overlap by construction).
 */
export function panthorVmExpandRegion(vm: PanthorVm, start: number, size: number): number {
  const lr = vm.lockedRegion;
  if (!lr.size) {
    vm.dev.counters.warn("panthor_vm_expand_region: nothing locked");
    return EINVAL;
  }
  if (start >= lr.start && start + size <= lr.start + lr.size) return 0;
  const end = Math.max(lr.start + lr.size, start + size);
  if (start + size <= lr.start || start >= lr.start + lr.size)
    vm.dev.counters.warn("panthor_vm_expand_region: disjoint regions");
  let s = Math.min(start, lr.start);
  let z = end - s;
  if (vm.asId >= 0 && z) {
    const r = vm.dev.hw.lockRegion(vm.asId, BigInt(s), BigInt(z))!;
    s = Number(r.start);
    z = Number(r.size);
  }
  lr.start = s;
  lr.size = z;
  return 0;
}

/** `panthor_vm_unlock_region()`: flush the GPU caches, AS_COMMAND_UNLOCK, forget the region. */
export function panthorVmUnlockRegion(vm: PanthorVm): void {
  if (vm.asId >= 0) {
    vm.dev.hw.flushCaches();
    vm.dev.hw.command(vm.asId, AS_COMMAND_UNLOCK);
  }
  vm.lockedRegion.start = 0;
  vm.lockedRegion.size = 0;
}

function checkLocked(vm: PanthorVm, iova: number, size: number, who: string): void {
  const lr = vm.lockedRegion;
  if (iova < lr.start || iova + size > lr.start + lr.size)
    vm.dev.counters.warn(`${who}: outside the locked region`);
}

/** `true` when the probe at `at` finds something mapped (one walk, in the VM's lookup mode). */
function probeMapped(vm: PanthorVm, at: number | bigint): boolean {
  vm.dev.counters.walks++;
  if (vm.lookup === "length") {
    vm.ops.iovaToPhysLength(at, vm.probe);
    return vm.probe.mapped;
  }
  const phys = ioPgtableIovaToPhys(vm.ops, at);
  return phys !== 0 && phys !== 0n;
}

/**
 * `panthor_vm_unmap_pages()`: unmap [iova, iova + size) in `get_pgsize()` chunks. Normal path:
 * no lookup. When io-pgtable unmaps less than the chunk (drm_gpuvm and the page table
 * disagree: WARN_ON_ONCE), skip the holes with lookups — today one per 4 KiB, with `lookup:
 * "length"` one per leaf or empty span — declare the VM unusable, and go on.
 *
 * Kernel behaviours kept (see README, "Known kernel quirks"):
 * - the probes start at `iova + unmapped_sz`, not `iova + offset + unmapped_sz`
 *   (`unmapProbe: "fixed"` corrects it), so after the first chunk they probe IOVAs already
 *   unmapped and step over mapped pages of the current chunk;
 * - io-pgtable's -ENOENT (the chunk's first entry empty on the way down) arrives through
 *   `size_t` as 2^64 − 2: one probe at `iova − 2`, then `offset` moves back by 2 bytes (or
 *   wraps past `size` in the first chunk, ending the loop). A chunk of 0 pages then follows,
 *   which the kernel would retry forever: the model counts a `bugs` and stops.
 */
export function panthorVmUnmapPages(vm: PanthorVm, iova: number, size: number): void {
  if (!size) return;
  const dev = vm.dev;
  const counters = dev.counters;
  const ops = vm.ops;
  const pg = vm.pg;
  const fixed = vm.unmapProbe === "fixed";
  checkLocked(vm, iova, size, "panthor_vm_unmap_pages");
  // Safety net for the wrapped-offset walk back (2 bytes per round), which the kernel
  // eventually leaves; far more rounds than any real path takes.
  let rounds = 4 * Math.ceil(size / SZ_4K) + 64;
  let offset = 0;
  while (offset < size) {
    if (--rounds < 0) {
      counters.bugs++;
      counters.warn("panthor_vm_unmap_pages: no way out of the error path (model stops)");
      return;
    }
    const pgsize = getPgsize(modPow2(iova + offset, SZ_1G), size - offset, pg);
    const total = pgsize * pg.count;
    counters.unmapPagesCalls++;
    const ret = ops.unmapPages(iova + offset, pgsize, pg.count, null);
    if (ret < 0) {
      // size_t unmapped_sz = 2^64 + ret.
      counters.warn("panthor_vm_unmap_pages: failed to unmap range");
      const base = fixed ? iova + offset : iova;
      probeMapped(vm, base + ret >= 0 ? base + ret : TWO64 + BigInt(base + ret));
      panthorVmDeclareUnusable(vm);
      if (offset < -ret) return; // offset wraps beyond size
      offset += ret;
      continue;
    }
    let unmappedSz = ret;
    if (unmappedSz !== total) {
      counters.warn("panthor_vm_unmap_pages: failed to unmap range");
      const base = fixed ? iova + offset : iova;
      if (vm.lookup === "length") {
        const probe = vm.probe;
        while (!probeMapped(vm, base + unmappedSz) && unmappedSz < total) {
          const at = base + unmappedSz;
          const end = Math.floor(at / probe.length) * probe.length + probe.length;
          unmappedSz = Math.min(total, Math.max(unmappedSz + SZ_4K, end - base));
        }
      } else {
        while (!probeMapped(vm, base + unmappedSz) && unmappedSz < total) unmappedSz += SZ_4K;
      }
      panthorVmDeclareUnusable(vm);
      if (!unmappedSz) {
        counters.warn("panthor_vm_unmap_pages: no progress");
        return;
      }
    } else if (total === 0) {
      // A zero-page chunk "succeeds" with 0 bytes: the kernel loop never advances.
      counters.bugs++;
      counters.warn("panthor_vm_unmap_pages: zero-page chunk, the kernel spins here (model stops)");
      return;
    }
    offset += unmappedSz;
  }
}

/**
 * `panthor_vm_map_pages()`: map `size` bytes of `sgt` from byte `offset` at `iova`, in
 * `get_pgsize(iova | paddr, len)` chunks. On failure (including a chunk that maps nothing:
 * -ENOMEM) unmap what this call mapped, declare the VM unusable and return the error.
 */
export function panthorVmMapPages(
  vm: PanthorVm,
  iova: number,
  prot: number,
  sgt: SgTable,
  offset: number,
  size: number,
): number {
  if (!size) return 0;
  const counters = vm.dev.counters;
  const ops = vm.ops;
  const pg = vm.pg;
  const out = vm.mapped;
  checkLocked(vm, iova, size, "panthor_vm_map_pages");
  const start = iova;
  for (let s = 0; s < sgt.nents; s++) {
    let paddr = sgt.addr[s]!;
    let len = sgt.len[s]!;
    if (len <= offset) {
      offset -= len;
      continue;
    }
    paddr += offset;
    len -= offset;
    len = Math.min(len, size);
    size -= len;
    while (len > 0) {
      const pgsize = getPgsize(alignBits(iova, paddr), len, pg);
      out.value = 0;
      counters.mapPagesCalls++;
      let ret = ops.mapPages(iova, paddr, pgsize, pg.count, prot, GFP_KERNEL, out);
      iova += out.value;
      paddr += out.value;
      len -= out.value;
      if (!ret && !out.value) ret = ENOMEM;
      if (ret) {
        counters.warn("panthor_vm_map_pages: map failed");
        panthorVmUnmapPages(vm, start, iova - start);
        panthorVmDeclareUnusable(vm);
        return ret;
      }
    }
    if (!size) break;
    offset = 0;
  }
  return 0;
}

/** `flags_to_prot()` */
export function flagsToProt(flags: number): number {
  let prot = 0;
  if (flags & DRM_PANTHOR_VM_BIND_OP_MAP_NOEXEC) prot |= IOMMU_NOEXEC;
  if (!(flags & DRM_PANTHOR_VM_BIND_OP_MAP_UNCACHED)) prot |= IOMMU_CACHE;
  prot |= flags & DRM_PANTHOR_VM_BIND_OP_MAP_READONLY ? IOMMU_READ : IOMMU_READ | IOMMU_WRITE;
  return prot;
}

/**
 * `panthor_vm_prepare_map_op_ctx()` page-table reserve: one table per level-1 (512 GiB),
 * level-2 (1 GiB) and level-3 (2 MiB) region the range touches — over-provisioned (2 MiB
 * blocks need no level-3 table); the unused pages go back afterwards.
 */
export function mapPtCount(va: number, size: number): number {
  const span = (shift: number) => {
    const b = 2 ** shift;
    return (Math.ceil((va + size) / b) * b - Math.floor(va / b) * b) / b;
  };
  return span(39) + span(30) + span(21);
}

/**
 * `panthor_vm_prepare_unmap_op_ctx()` page-table reserve: a level-3 table for each end of the
 * range that cuts into a 2 MiB block (two only when the ends are in different blocks).
 */
export function unmapPtCount(va: number, size: number): number {
  const up = (x: number) => Math.ceil(x / SZ_2M) * SZ_2M;
  let n = 0;
  if (va !== up(va)) n++;
  if (va + size !== up(va + size) && up(va + size) !== up(va)) n++;
  return n;
}

function newOpCtx(flags: number, va: number, range: number, vmas: number): PanthorVmOpCtx {
  return {
    rsvdPageTables: { count: 0, ptr: 0, pages: [] },
    preallocatedVmas: vmas,
    flags,
    va: { addr: va, range },
    map: { bo: null, boOffset: 0, sgt: null },
  };
}

/**
 * `panthor_vm_prepare_map_op_ctx()`: validate, pin the BO's pages (its sg table) and reserve
 * {@link mapPtCount} page tables. Returns the context, -EINVAL or -ENOMEM (nothing held).
 */
export function panthorVmPrepareMapOpCtx(
  vm: PanthorVm,
  bo: GpuBo | null,
  offset: number,
  size: number,
  va: number,
  flags: number,
): PanthorVmOpCtx | number {
  if (!bo) return EINVAL;
  if (flags & ~(MAP_FLAGS | TYPE_MASK) || (flags & TYPE_MASK) !== DRM_PANTHOR_VM_BIND_OP_TYPE_MAP)
    return EINVAL;
  if (size > bo.size || offset > bo.size - size) return EINVAL;
  const sgt = bo.getPagesSgt();
  if (typeof sgt === "number") return sgt;
  const op = newOpCtx(flags, va, size, 3);
  op.map.bo = bo;
  op.map.sgt = sgt;
  op.map.boOffset = offset;
  const count = mapPtCount(va, size);
  op.rsvdPageTables.count = vm.ptAlloc.reserve(op.rsvdPageTables, count);
  if (op.rsvdPageTables.count !== count) return ENOMEM;
  return op;
}

/** `panthor_vm_prepare_unmap_op_ctx()`: reserve {@link unmapPtCount} tables. */
export function panthorVmPrepareUnmapOpCtx(vm: PanthorVm, va: number, size: number): PanthorVmOpCtx | number {
  const op = newOpCtx(DRM_PANTHOR_VM_BIND_OP_TYPE_UNMAP, va, size, 2);
  const count = unmapPtCount(va, size);
  if (count) {
    if (vm.ptAlloc.reserve(op.rsvdPageTables, count) !== count) return ENOMEM;
    op.rsvdPageTables.count = count;
  }
  return op;
}

/** `panthor_vm_cleanup_op_ctx()`: return the page tables the operation did not use. */
export function panthorVmCleanupOpCtx(vm: PanthorVm, op: PanthorVmOpCtx): void {
  vm.ptAlloc.releaseUnused(op.rsvdPageTables);
}

/**
 * `iova_mapped_as_huge_page()`: whether the remap piece `piece` (of `old`) is backed at `addr`
 * by a 2 MiB-or-larger page. `folio`: the kernel's `folio_size(page_folio(pg)) >= SZ_2M` on
 * the BO page there, which says nothing about how the page table maps it; `leaf`: one
 * `iova_to_phys_length()` walk, and the leaf it reports.
 */
export function iovaMappedAsHugePage(vm: PanthorVm, piece: GpuVaPiece, bo: GpuBo, addr: number): boolean {
  if (vm.hugeCheck === "leaf") {
    vm.dev.counters.walks++;
    vm.ops.iovaToPhysLength(addr, vm.probe);
    return vm.probe.mapped && vm.probe.length >= SZ_2M;
  }
  return bo.folioSizeAt(addr - piece.va + piece.boOffset) >= SZ_2M;
}

/**
 * `unmap_hugepage_align()`: io-pgtable no longer splits blocks, so when a kept piece shares a
 * 2 MiB page with the unmapped range, widen the unmap to that page's boundary (the caller
 * remaps the piece's part of it). Returns the widened [start, start + range) in `r`.
 */
export function unmapHugepageAlign(
  vm: PanthorVm,
  old: GpuVa,
  prev: GpuVaPiece | null,
  next: GpuVaPiece | null,
  r: { start: number; range: number },
): void {
  const unmapEnd = r.start + r.range;
  const alignedStart = Math.floor(r.start / SZ_2M) * SZ_2M;
  const alignedEnd = Math.ceil(unmapEnd / SZ_2M) * SZ_2M;
  if (
    prev &&
    alignedStart < r.start &&
    prev.va <= alignedStart &&
    iovaMappedAsHugePage(vm, prev, old.bo, r.start)
  ) {
    r.range += r.start - alignedStart;
    r.start = alignedStart;
  }
  if (
    next &&
    alignedEnd > unmapEnd &&
    next.va + next.range >= alignedEnd &&
    iovaMappedAsHugePage(vm, next, old.bo, unmapEnd - 1)
  )
    r.range += alignedEnd - unmapEnd;
}

/** The driver's drm_gpuvm steps (`panthor_gpuva_sm_step_map/remap/unmap`). */
function stepsOf(vm: PanthorVm, op: PanthorVmOpCtx) {
  return {
    map(piece: GpuVaPiece): number {
      if (op.preallocatedVmas === 0) return EINVAL;
      const flags = op.flags & MAP_FLAGS;
      const ret = panthorVmMapPages(
        vm,
        piece.va,
        flagsToProt(flags),
        op.map.sgt!,
        piece.boOffset,
        piece.range,
      );
      if (ret) return ret;
      op.preallocatedVmas--;
      gpuvaInsert(vm.vas, {
        va: piece.va,
        range: piece.range,
        bo: op.map.bo!,
        boOffset: piece.boOffset,
        flags,
      });
      return 0;
    },
    remap(old: GpuVa, prev: GpuVaPiece | null, next: GpuVaPiece | null): number {
      // drm_gpuva_op_remap_to_unmap_range()
      const start = prev ? prev.va + prev.range : old.va;
      const end = next ? next.va : old.va + old.range;
      const r = { start, range: end - start };
      unmapHugepageAlign(vm, old, prev, next, r);
      let ret = panthorVmExpandRegion(vm, r.start, r.range);
      if (ret) return ret;
      panthorVmUnmapPages(vm, r.start, r.range);
      const prot = flagsToProt(old.flags);
      const sgt = old.bo.sgt!;
      if (prev) {
        ret = panthorVmMapPages(
          vm,
          r.start,
          prot,
          sgt,
          prev.boOffset + r.start - prev.va,
          prev.va + prev.range - r.start,
        );
        if (ret) return ret;
      }
      if (next) {
        ret = panthorVmMapPages(vm, next.va, prot, sgt, next.boOffset, r.start + r.range - next.va);
        if (ret) return ret;
      }
      gpuvaRemove(vm.vas, old);
      for (const p of [prev, next]) {
        if (!p) continue;
        op.preallocatedVmas--;
        gpuvaInsert(vm.vas, { va: p.va, range: p.range, bo: old.bo, boOffset: p.boOffset, flags: old.flags });
      }
      return 0;
    },
    unmap(old: GpuVa): number {
      panthorVmUnmapPages(vm, old.va, old.range);
      gpuvaRemove(vm.vas, old);
      return 0;
    },
  };
}

/**
 * `panthor_vm_exec_op()`: run a prepared operation under a locked region — map (refused on
 * an unusable VM) or unmap through drm_gpuvm's split — then flush and unlock. With
 * `flagVmUnusableOnFailure` (the asynchronous VM_BIND path) a failure makes the VM unusable.
 */
export function panthorVmExecOp(vm: PanthorVm, op: PanthorVmOpCtx, flagVmUnusableOnFailure: boolean): number {
  const type = op.flags & TYPE_MASK;
  if (type === DRM_PANTHOR_VM_BIND_OP_TYPE_SYNC_ONLY) return 0;
  vm.opCtx = op;
  vm.ptAlloc.current = op.rsvdPageTables;
  let ret = panthorVmLockRegion(vm, op.va.addr, op.va.range);
  if (!ret) {
    if (type === DRM_PANTHOR_VM_BIND_OP_TYPE_MAP) {
      ret = vm.unusable
        ? EINVAL
        : drmGpuvmSmMap(vm.vas, op.va.addr, op.va.range, op.map.boOffset, stepsOf(vm, op));
    } else if (type === DRM_PANTHOR_VM_BIND_OP_TYPE_UNMAP) {
      ret = drmGpuvmSmUnmap(vm.vas, op.va.addr, op.va.range, stepsOf(vm, op));
    } else ret = EINVAL;
    panthorVmUnlockRegion(vm);
  }
  if (ret && flagVmUnusableOnFailure) panthorVmDeclareUnusable(vm);
  vm.opCtx = null;
  vm.ptAlloc.current = null;
  return ret;
}

/** One `struct drm_panthor_vm_bind_op`. */
export interface PanthorVmBindOp {
  flags: number;
  bo?: GpuBo | null;
  boOffset?: number;
  va: number;
  size: number;
}

/**
 * `panthor_vm_bind_exec_sync_op()` (with `panthor_vm_bind_prepare_op_ctx()`): validate a
 * VM_BIND operation (VA and size 4 KiB aligned, inside the VM), prepare it, run it, clean
 * up. Returns 0 or a negative errno.
 */
export function panthorVmBindExecSyncOp(vm: PanthorVm, op: PanthorVmBindOp): number {
  if (!op.size) return 0;
  if (op.va % SZ_4K !== 0 || op.size % SZ_4K !== 0) return EINVAL;
  // drm_gpuvm_range_valid()
  if (op.va < vm.mmStart || op.va + op.size > vm.mmStart + vm.mmRange) return EINVAL;
  let ctx: PanthorVmOpCtx | number;
  switch (op.flags & TYPE_MASK) {
    case DRM_PANTHOR_VM_BIND_OP_TYPE_MAP:
      ctx = panthorVmPrepareMapOpCtx(vm, op.bo ?? null, op.boOffset ?? 0, op.size, op.va, op.flags);
      break;
    case DRM_PANTHOR_VM_BIND_OP_TYPE_UNMAP:
      if (op.flags & ~TYPE_MASK || op.bo || op.boOffset) return EINVAL;
      ctx = panthorVmPrepareUnmapOpCtx(vm, op.va, op.size);
      break;
    default:
      return EINVAL;
  }
  if (typeof ctx === "number") return ctx;
  const ret = panthorVmExecOp(vm, ctx, false);
  panthorVmCleanupOpCtx(vm, ctx);
  return ret;
}

/** `panthor_vm_map_bo_range()`: the kernel-internal map (flags: map flags only). */
export function panthorVmMapBoRange(
  vm: PanthorVm,
  bo: GpuBo,
  offset: number,
  size: number,
  va: number,
  flags = 0,
): number {
  const ctx = panthorVmPrepareMapOpCtx(vm, bo, offset, size, va, flags | DRM_PANTHOR_VM_BIND_OP_TYPE_MAP);
  if (typeof ctx === "number") return ctx;
  const ret = panthorVmExecOp(vm, ctx, false);
  panthorVmCleanupOpCtx(vm, ctx);
  return ret;
}

/** `panthor_vm_unmap_range()`: the kernel-internal unmap. */
export function panthorVmUnmapRange(vm: PanthorVm, va: number, size: number): number {
  const ctx = panthorVmPrepareUnmapOpCtx(vm, va, size);
  if (typeof ctx === "number") return ctx;
  const ret = panthorVmExecOp(vm, ctx, false);
  panthorVmCleanupOpCtx(vm, ctx);
  return ret;
}
