/**
 * drivers/iommu/sun50i-iommu.c (torvalds/linux 6cc0d5f4): `struct sun50i_iommu_domain` and
 * its ops — `sun50i_iommu_map`/`_unmap` (one 4 KiB PTE per call), the series'
 * `iova_to_phys_length` (its last step removed `iova_to_phys`), and the TLB / PTW-cache maintenance of `iotlb_sync_map`,
 * `iotlb_sync` and `flush_iotlb_all` — on tables in simulated physical memory.
 *
 * Hot paths (map, unmap, lookup) allocate nothing and use no BigInt per PTE: entries are
 * 32-bit numbers read and written through the tables' `Uint32Array` words.
 */
import {
  type Addr,
  holeSpanOutside,
  type IommuCounters,
  type IommuDomain,
  type IommuDomainGeometry,
  type IommuDomainOps,
  type IotlbGather,
  type IovaRange,
  type KmemCache,
  type PageTableInspector,
  type PhysLength,
  releaseUncounted,
  type SizeOut,
  SZ_1M,
  type TableAllocator,
  TableView,
} from "@iommu/core";
import { atOrAbove, low32, modAddr } from "./bits.js";
import {
  DTE_SPAN,
  NUM_DT_ENTRIES,
  SPAGE_SIZE,
  SUN50I_PGSIZE_BITMAP,
  sun50iDteGetPtAddress,
  sun50iDteIsPtValid,
  sun50iIovaGetDteIndex,
  sun50iIovaGetPteIndex,
  sun50iMkDte,
  sun50iMkPte,
  sun50iPteIsPageValid,
} from "./defs.js";
import { createSun50iInspector } from "./inspect.js";
import { Sun50iQuirkError } from "./quirks.js";
import { sun50iIommuIovaToPhysRuns } from "./runs.js";
import {
  IOMMU_PC_IVLD_ADDR_REG,
  IOMMU_PC_IVLD_ENABLE_REG,
  IOMMU_TLB_FLUSH_MACRO_TLB,
  IOMMU_TLB_FLUSH_MICRO_TLBS,
  IOMMU_TLB_FLUSH_PTW_CACHE,
  IOMMU_TLB_FLUSH_REG,
  IOMMU_TLB_IVLD_ADDR_MASK_REG,
  IOMMU_TLB_IVLD_ADDR_REG,
  IOMMU_TLB_IVLD_ENABLE_REG,
  type Sun50iTlbLog,
} from "./tlb-log.js";

const EBUSY = -16;
const ENOMEM = -12;
const EINVAL = -22;
const ENODEV = -19;
const TWO32 = 2 ** 32;

/**
 * `struct sun50i_iommu_domain`: the 16 KiB directory (`dt`) and the 1 KiB page tables of the
 * IOMMU's `pt_pool` it points at; page tables are freed only when the domain is detached.
 */
export class Sun50iDomain implements IommuDomain {
  type: number;
  ops: IommuDomainOps | null;
  pgsizeBitmap = SUN50I_PGSIZE_BITMAP;
  geometry: IommuDomainGeometry = { apertureStart: 0, apertureEnd: 0xffff_ffff, forceAperture: true };
  readonly counters: IommuCounters;
  readonly allocator: TableAllocator;
  /** The IOMMU's `pt_pool` over {@link allocator}. */
  readonly ptPool: KmemCache;
  /** `dt_dma`: PA of the directory; -1 once freed. */
  dt: number;
  /**
   * Report kernel quirks instead of reproducing them (README "Known kernel quirks"): typed
   * {@link Sun50iQuirkError}s for IOVAs above 4 GiB, -EINVAL for page sizes other than 4 KiB
   * and for PAs the driver would truncate (as later kernels do), "unmapped" for lookups above
   * 4 GiB.
   */
  strict: boolean;
  /** The directory's words and the index of DTE 0 in them (hot-path view). */
  dtWords: Uint32Array;
  dtOff: number;
  /**
   * Model-only (the kernel resolves `phys_to_virt` for free): the last page table a walk
   * resolved, so a run of walks in one 1 MiB slot skips the memory lookup. Dropped whenever
   * the domain's page tables are released.
   */
  readonly pt = new TableView();
  /**
   * Model-only: the TLB / PTW-cache maintenance accesses this domain's syncs make on its
   * IOMMU, kept once an IOTLB feed turned the log on (null: not kept).
   */
  tlbLog: Sun50iTlbLog | null = null;

  constructor(init: {
    type: number;
    ops: IommuDomainOps;
    allocator: TableAllocator;
    ptPool: KmemCache;
    counters: IommuCounters;
    dt: number;
    strict: boolean;
  }) {
    this.type = init.type;
    this.ops = init.ops;
    this.allocator = init.allocator;
    this.ptPool = init.ptPool;
    this.counters = init.counters;
    this.dt = init.dt;
    this.strict = init.strict;
    const c = init.allocator.mem.chunk(init.dt)!;
    this.dtWords = c.words;
    this.dtOff = (init.dt - c.pa) >>> 2;
  }
}

/** The page table at `ptPa` through the domain's view: the word index of PTE 0 in `d.pt.words`, or -1 where no memory is. */
function ptView(d: Sun50iDomain, ptPa: number): number {
  const v = d.pt;
  return ptPa === v.pa ? v.base : v.resolve(d.allocator.mem, ptPa);
}

/**
 * `sun50i_dte_get_page_table()`: the page table of the 1 MiB slot `idx`, allocating one and
 * installing it with `cmpxchg(dte, 0, new)` when the DTE is not valid (if the slot held a
 * non-zero DTE after all, the new table is dropped and the installed one used). PA or -ENOMEM.
 */
function sun50iDteGetPageTable(d: Sun50iDomain, idx: number): number {
  const w = d.dtOff + idx;
  const dte = d.dtWords[w]!;
  d.counters.pteReads++;
  if (sun50iDteIsPtValid(dte)) return sun50iDteGetPtAddress(dte);
  const pt = d.ptPool.alloc();
  if (pt < 0) return ENOMEM;
  d.counters.tablesAllocated++;
  if (dte !== 0) {
    d.pt.drop();
    if (d.ptPool.free(pt)) d.counters.tablesFreed++;
    return sun50iDteGetPtAddress(dte);
  }
  d.dtWords[w] = sun50iMkDte(pt);
  d.counters.pteWrites++;
  return pt;
}

/**
 * `sun50i_iommu_map()` on the 32-bit IOVA: one PTE for the page at `paddr` (count and the page
 * size are ignored); -EBUSY if the PTE is valid already. Returns 0 or -errno.
 */
export function sun50iIommuMap(d: Sun50iDomain, iova32: number, paddr: Addr, prot: number): number {
  const ptPa = sun50iDteGetPageTable(d, sun50iIovaGetDteIndex(iova32));
  if (ptPa < 0) return ptPa;
  const base = ptView(d, ptPa);
  const j = sun50iIovaGetPteIndex(iova32);
  const pte = sun50iMkPte(low32(paddr), prot);
  d.counters.pteReads++;
  if (base < 0) {
    // A DTE that points where no memory is (a damaged image): the kernel would write there.
    if (sun50iPteIsPageValid(d.allocator.mem.read32(ptPa + 4 * j))) return EBUSY;
    d.counters.pteWrites++;
    d.allocator.mem.write32(ptPa + 4 * j, pte);
    return 0;
  }
  const words = d.pt.words;
  const w = base + j;
  if (sun50iPteIsPageValid(words[w]!)) return EBUSY; // dev_err "already mapped", no WARN
  words[w] = pte;
  d.counters.pteWrites++;
  return 0;
}

/** `sun50i_iommu_unmap()` on the 32-bit IOVA: 4 KiB if a valid PTE was cleared, else 0. */
export function sun50iIommuUnmap(d: Sun50iDomain, iova32: number): number {
  const dte = d.dtWords[d.dtOff + sun50iIovaGetDteIndex(iova32)]!;
  d.counters.pteReads++;
  if (!sun50iDteIsPtValid(dte)) return 0;
  const base = ptView(d, sun50iDteGetPtAddress(dte));
  d.counters.pteReads++;
  if (base < 0) return 0;
  const words = d.pt.words;
  const w = base + sun50iIovaGetPteIndex(iova32);
  if (!sun50iPteIsPageValid(words[w]!)) return 0;
  words[w] = 0;
  d.counters.pteWrites++;
  return SPAGE_SIZE;
}

/** Model-only: what a strict domain's table reaches, IOVA bits 31:0 (for `holeSpanOutside`). */
const STRICT_RANGES: readonly IovaRange[] = [[0n, 0xffff_ffffn]];

/**
 * `iova_to_phys_length` (the series' op, and since its last step the only lookup:
 * `iommu_iova_to_phys()` answers through it): mapped → the IOVA's PA (page offset kept) and the
 * 4 KiB PTE; unmapped → 1 MiB at an invalid DTE, 4 KiB at an invalid PTE. A strict domain does
 * not alias IOVAs ≥ 4 GiB: unmapped, the largest naturally aligned block around the IOVA above
 * 4 GiB.
 */
export function sun50iIommuIovaToPhysLength(d: Sun50iDomain, iova: Addr, out: PhysLength): void {
  if (d.dt < 0) {
    out.setUnmapped(SPAGE_SIZE);
    return;
  }
  if (d.strict && atOrAbove(iova, TWO32)) {
    out.setUnmapped(holeSpanOutside(iova, STRICT_RANGES));
    return;
  }
  const i32 = low32(iova);
  const counters = d.counters;
  const dte = d.dtWords[d.dtOff + sun50iIovaGetDteIndex(i32)]!;
  counters.pteReads++;
  if (!sun50iDteIsPtValid(dte)) {
    out.setUnmapped(DTE_SPAN);
    return;
  }
  const ptPa = sun50iDteGetPtAddress(dte);
  const base = ptView(d, ptPa);
  counters.pteReads++;
  const pte = base >= 0 ? d.pt.words[base + sun50iIovaGetPteIndex(i32)]! : 0;
  if (!sun50iPteIsPageValid(pte)) out.setUnmapped(SPAGE_SIZE);
  // sun50i_pte_get_page_address(pte) / 4 KiB
  else out.setMapped(pte >>> 12, i32 & 0xfff, SPAGE_SIZE);
}

// ---------------------------------------------------------------------------------------------
// TLB maintenance

/**
 * `sun50i_iommu_iotlb_sync_map()` → `sun50i_iommu_zap_range()`: TLB invalidations of the first
 * two and (size > 4 KiB) the two pages after the range, and PTW-cache invalidations of the
 * first two and (size > 1 MiB) the two sections after it.
 */
export function sun50iIommuIotlbSyncMap(d: Sun50iDomain, iova: number, size: number): number {
  d.counters.flushPage += size > SPAGE_SIZE ? 4 : 2;
  d.counters.flushWalk += size > SZ_1M ? 4 : 2;
  const log = d.tlbLog;
  if (log === null) return 0;
  zapIova(log, iova);
  zapIova(log, iova + SPAGE_SIZE);
  if (size > SPAGE_SIZE) {
    zapIova(log, iova + size);
    zapIova(log, iova + size + SPAGE_SIZE);
  }
  zapPtwCache(log, iova);
  zapPtwCache(log, iova + SZ_1M);
  if (size > SZ_1M) {
    zapPtwCache(log, iova + size);
    zapPtwCache(log, iova + size + SZ_1M);
  }
  return 0;
}

/** `sun50i_iommu_zap_iova()`: invalidate the TLB entry of one page, then wait for it. */
function zapIova(log: Sun50iTlbLog, iova: number): void {
  log.write(IOMMU_TLB_IVLD_ADDR_REG, iova);
  log.write(IOMMU_TLB_IVLD_ADDR_MASK_REG, 0xffff_f000); // GENMASK(31, 12)
  log.write(IOMMU_TLB_IVLD_ENABLE_REG, 1);
  log.poll(IOMMU_TLB_IVLD_ENABLE_REG);
}

/** `sun50i_iommu_zap_ptw_cache()`: invalidate the cached DTE of one IOVA, then wait for it. */
function zapPtwCache(log: Sun50iTlbLog, iova: number): void {
  log.write(IOMMU_PC_IVLD_ADDR_REG, iova);
  log.write(IOMMU_PC_IVLD_ENABLE_REG, 1);
  log.poll(IOMMU_PC_IVLD_ENABLE_REG);
}

/**
 * `sun50i_iommu_flush_iotlb_all()` (also `iotlb_sync`) → `sun50i_iommu_flush_all_tlb()`: flush
 * the macro TLB, the six micro TLBs and the PTW cache, then poll until done.
 */
export function sun50iIommuFlushIotlbAll(d: Sun50iDomain): void {
  d.counters.flushAll++;
  const log = d.tlbLog;
  if (log === null) return;
  log.write(
    IOMMU_TLB_FLUSH_REG,
    IOMMU_TLB_FLUSH_PTW_CACHE | IOMMU_TLB_FLUSH_MACRO_TLB | IOMMU_TLB_FLUSH_MICRO_TLBS,
  );
  log.poll(IOMMU_TLB_FLUSH_REG);
}

// ---------------------------------------------------------------------------------------------
// strict mode and the ops table

/** Throw `iova-aliased` for an IOVA ≥ 4 GiB (the args record is built only when throwing). */
function aliasCheck(op: string, iova: Addr, pgsize: number): void {
  if (atOrAbove(iova, TWO32))
    throw new Sun50iQuirkError("iova-aliased", op, { iova, pgsize }, "the driver keeps IOVA bits 31:0 only");
}

/**
 * `sun50i_iommu_ops.default_domain_ops` as an {@link IommuDomainOps}: `map_pages` maps one
 * 4 KiB PTE and reports `mapped = pgsize`, `unmap_pages` clears one, plus `iotlb_sync_map`,
 * `iotlb_sync`, `flush_iotlb_all`, the series' `iova_to_phys_length` (no `iova_to_phys`: the
 * series removed it) and `free` (detach + `sun50i_iommu_domain_free`). Model-only addition (issue 17):
 * `iovaToPhysRuns` (runs.ts). Each {@link Sun50iIommu} owns one table.
 */
export function createSun50iDomainOps(name: string): IommuDomainOps<Sun50iDomain> {
  return {
    name,
    mapPages(d, iova, paddr, pgsize, _pgcount, prot, _gfp, mapped: SizeOut) {
      if (d.dt < 0) return ENODEV;
      if (d.strict) {
        aliasCheck("sun50i_iommu_map", iova, pgsize);
        if (pgsize !== SPAGE_SIZE) return EINVAL; // mapped-overreport
        if (atOrAbove(paddr, TWO32) || modAddr(paddr, SPAGE_SIZE) !== 0) return EINVAL; // pa-truncated / -unaligned
      }
      const ret = sun50iIommuMap(d, low32(iova), paddr, prot);
      if (ret === 0) mapped.value += pgsize;
      return ret;
    },
    unmapPages(d, iova, pgsize, _pgcount, _gather: IotlbGather | null) {
      if (d.dt < 0) return 0;
      if (d.strict) aliasCheck("sun50i_iommu_unmap", iova, pgsize);
      return sun50iIommuUnmap(d, low32(iova));
    },
    iotlbSyncMap: sun50iIommuIotlbSyncMap,
    iotlbSync: (d) => sun50iIommuFlushIotlbAll(d),
    flushIotlbAll: sun50iIommuFlushIotlbAll,
    iovaToPhysLength: sun50iIommuIovaToPhysLength,
    iovaToPhysRuns: sun50iIommuIovaToPhysRuns,
    free: sun50iIommuDomainFree,
    inspect(d): PageTableInspector | null {
      if (d.dt < 0) return null;
      return createSun50iInspector({ mem: d.allocator.mem, dt: d.dt });
    },
  };
}

/**
 * `sun50i_iommu_detach_domain()` then `sun50i_iommu_domain_free()`: every valid DTE is cleared
 * and its page table goes back to the pool, then the directory is freed.
 */
export function sun50iIommuDomainFree(d: Sun50iDomain): void {
  if (d.dt < 0) return;
  d.pt.drop();
  for (let i = 0; i < NUM_DT_ENTRIES; i++) {
    const w = d.dtOff + i;
    const dte = d.dtWords[w]!;
    if (!sun50iDteIsPtValid(dte)) continue;
    d.dtWords[w] = 0;
    if (d.ptPool.free(sun50iDteGetPtAddress(dte))) d.counters.tablesFreed++;
  }
  releaseUncounted(d.allocator, d.dt);
  d.counters.tablesFreed++;
  d.dt = -1;
}
