/**
 * drivers/iommu/rockchip-iommu.c (intel-lab-lkp/linux 10f9a341): `struct rk_iommu_domain`
 * and its ops — `rk_iommu_map`/`rk_iommu_unmap` (one "page" of up to 4 MiB per call, written
 * as 4 KiB PTEs), the series' `iova_to_phys_length` (its last step removed
 * `rk_iommu_iova_to_phys`) — on the page tables in simulated physical memory, with the IOTLB zaps the driver issues.
 *
 * Hot paths (map, unmap, lookup) allocate nothing and use no BigInt per PTE: entries are
 * 32-bit numbers read and written through the tables' `Uint32Array` words.
 */
import {
  type Addr,
  allocUncounted,
  holeSpanOutside,
  type IommuCounters,
  type IommuDomain,
  type IommuDomainGeometry,
  type IommuDomainOps,
  type IotlbGather,
  type IovaRange,
  type PageTableInspector,
  type PhysLength,
  releaseUncounted,
  type SizeOut,
  type TableAllocator,
  TableView,
} from "@iommu/core";
import { atOrAbove, low32, modAddr } from "./bits.js";
import {
  DTE_SPAN,
  NUM_DT_ENTRIES,
  NUM_PT_ENTRIES,
  RK_IOMMU_PGSIZE_BITMAP,
  type RkIommuOps,
  rkDteIsPtValid,
  rkIovaDteIndex,
  rkIovaPteIndex,
  rkMkPteInvalid,
  rkPteIsPageValid,
  SPAGE_SIZE,
} from "./defs.js";
import { createRockchipInspector } from "./inspect.js";
import { RockchipQuirkError } from "./quirks.js";
import { rkIommuIovaToPhysRuns } from "./runs.js";
import { RK_MMU_ZAP_ONE_LINE, type RockchipTlbLog } from "./tlb-log.js";

const EADDRINUSE = -98;
const ENOMEM = -12;
const EINVAL = -22;
const ENODEV = -19;
const TWO32 = 2 ** 32;
/**
 * `struct rk_iommu_domain`: the 4 KiB directory (`dt`, `dt_dma`) and the page tables it points
 * at, all allocated from {@link allocator}; page tables live until the domain is freed.
 */
export class RockchipDomain implements IommuDomain {
  type: number;
  ops: IommuDomainOps | null;
  pgsizeBitmap = RK_IOMMU_PGSIZE_BITMAP;
  geometry: IommuDomainGeometry = { apertureStart: 0, apertureEnd: 0xffff_ffff, forceAperture: true };
  readonly counters: IommuCounters;
  /** `rk_ops`: the v1 or v2 encoding. */
  readonly rkOps: RkIommuOps;
  readonly allocator: TableAllocator;
  /** `dt_dma`: PA of the directory; -1 once freed. */
  dt: number;
  /** The value `rk_iommu_enable()` writes to RK_MMU_DTE_ADDR: `mk_dtentries(dt_dma)`. */
  readonly dteAddrReg: number;
  /**
   * Report kernel quirks instead of reproducing them (README "Known kernel quirks"): typed
   * {@link RockchipQuirkError}s, -EINVAL / 0 for sizes and alignments the driver does not
   * check, "unmapped" for lookups above 4 GiB.
   */
  strict: boolean;
  /** The directory's words and the index of DTE 0 in them (hot-path view). */
  dtWords: Uint32Array;
  dtOff: number;
  /**
   * Model-only (the kernel resolves `phys_to_virt` for free): the last page table a walk
   * resolved, so a run of walks in one 4 MiB slot skips the memory lookup. Dropped whenever
   * the domain's page tables are released.
   */
  readonly pt = new TableView();
  /**
   * Model-only: the RK_MMU_ZAP_ONE_LINE writes this domain's maps and unmaps make on its
   * IOMMU, kept once an IOTLB feed turned the log on (null: not kept).
   */
  tlbLog: RockchipTlbLog | null = null;

  constructor(init: {
    type: number;
    ops: IommuDomainOps;
    rkOps: RkIommuOps;
    allocator: TableAllocator;
    counters: IommuCounters;
    dt: number;
    strict: boolean;
  }) {
    this.type = init.type;
    this.ops = init.ops;
    this.rkOps = init.rkOps;
    this.allocator = init.allocator;
    this.counters = init.counters;
    this.dt = init.dt;
    this.strict = init.strict;
    this.dteAddrReg = init.rkOps.mkDtentries(Math.floor(init.dt / SPAGE_SIZE));
    const c = init.allocator.mem.chunk(init.dt)!;
    this.dtWords = c.words;
    this.dtOff = (init.dt - c.pa) >>> 2;
  }
}

/** The page table at `ptPa` through the domain's view: the word index of PTE 0 in `d.pt.words`, or -1 where no memory is. */
function ptView(d: RockchipDomain, ptPa: number): number {
  const v = d.pt;
  return ptPa === v.pa ? v.base : v.resolve(d.allocator.mem, ptPa);
}

/**
 * `rk_dte_get_page_table()`: the page table of the 4 MiB slot `idx`, allocating and linking
 * one when the DTE is not valid. Returns its PA or -ENOMEM.
 */
function rkDteGetPageTable(d: RockchipDomain, idx: number): number {
  const w = d.dtOff + idx;
  let dte = d.dtWords[w]!;
  d.counters.pteReads++;
  if (!rkDteIsPtValid(dte)) {
    const pt = allocUncounted(d.allocator, SPAGE_SIZE);
    if (pt < 0) return ENOMEM;
    d.counters.tablesAllocated++;
    dte = d.rkOps.mkDtentries(Math.floor(pt / SPAGE_SIZE));
    d.dtWords[w] = dte;
    d.counters.pteWrites++;
  }
  return d.rkOps.ptAddress(dte);
}

/** A PTE slot that may lie past its page table (a kernel overrun): 0 where no memory is. */
function wildRead(d: RockchipDomain, pa: number): number {
  d.counters.pteReads++;
  return d.allocator.mem.read32(pa);
}

/** Write a PTE slot that may lie past its page table; throws EFAULT where no memory is. */
function wildWrite(d: RockchipDomain, pa: number, v: number): void {
  d.counters.pteWrites++;
  d.allocator.mem.write32(pa, v);
}

/**
 * `rk_iommu_unmap_iova()`: clear the valid bit of up to `total` PTEs from `pte0` (PA), stopping
 * at the first one that is not valid; returns how many were cleared.
 */
function rkIommuUnmapIova(d: RockchipDomain, ptPa: number, slot: number, total: number): number {
  const base = ptView(d, ptPa);
  if (base >= 0 && slot + total <= NUM_PT_ENTRIES) {
    const words = d.pt.words;
    const w = base + slot;
    let n = 0;
    for (; n < total; n++) {
      const pte = words[w + n]!;
      d.counters.pteReads++;
      if (!rkPteIsPageValid(pte)) break;
      words[w + n] = rkMkPteInvalid(pte);
      d.counters.pteWrites++;
    }
    return n;
  }
  let n = 0;
  for (; n < total; n++) {
    const pa = ptPa + 4 * (slot + n);
    const pte = wildRead(d, pa);
    if (!rkPteIsPageValid(pte)) break;
    wildWrite(d, pa, rkMkPteInvalid(pte));
  }
  return n;
}

/**
 * `rk_iommu_zap_lines()` for the domain's IOMMU: one RK_MMU_ZAP_ONE_LINE write per 4 KiB page
 * of [iova32, iova32 + size), logged when the domain's log is on (the counters are the caller's).
 */
function rkIommuZapLines(d: RockchipDomain, iova32: number, size: number): void {
  const log = d.tlbLog;
  if (log === null) return;
  for (let off = 0; off < size; off += SPAGE_SIZE) log.record(RK_MMU_ZAP_ONE_LINE, (iova32 + off) >>> 0);
}

/**
 * `rk_iommu_map_iova()`: write size / 4 KiB PTEs from `slot`; on a valid PTE invalidate the
 * ones this call wrote and return -EADDRINUSE (no WARN). Then zap the first and last page.
 */
function rkIommuMapIova(
  d: RockchipDomain,
  iova32: number,
  ptPa: number,
  slot: number,
  pfn: number,
  size: number,
  prot: number,
): number {
  const total = Math.floor(size / SPAGE_SIZE);
  const mk = d.rkOps;
  const base = ptView(d, ptPa);
  if (base >= 0 && slot + total <= NUM_PT_ENTRIES) {
    const words = d.pt.words;
    const w = base + slot;
    for (let n = 0; n < total; n++) {
      d.counters.pteReads++;
      if (rkPteIsPageValid(words[w + n]!)) {
        rkIommuUnmapIova(d, ptPa, slot, n);
        return EADDRINUSE;
      }
      words[w + n] = mk.mkPtentries(pfn + n, prot);
      d.counters.pteWrites++;
    }
  } else {
    for (let n = 0; n < total; n++) {
      const pa = ptPa + 4 * (slot + n);
      if (rkPteIsPageValid(wildRead(d, pa))) {
        rkIommuUnmapIova(d, ptPa, slot, n);
        return EADDRINUSE;
      }
      wildWrite(d, pa, mk.mkPtentries(pfn + n, prot));
    }
  }
  // rk_iommu_zap_iova_first_last(): one ZAP_ONE_LINE for the first page, one for the last.
  d.counters.flushPage += size > SPAGE_SIZE ? 2 : 1;
  rkIommuZapLines(d, iova32, SPAGE_SIZE);
  if (size > SPAGE_SIZE) rkIommuZapLines(d, iova32 + size - SPAGE_SIZE, SPAGE_SIZE);
  return 0;
}

/** Page frame number of a PA (exact for every u64). */
function pfnOf(pa: Addr): number {
  return typeof pa === "number" ? Math.floor(pa / SPAGE_SIZE) : Number(pa >> 12n);
}

/**
 * `rk_iommu_map()` on the 32-bit IOVA: one "page" of `size` bytes (count is ignored) written
 * as size / 4 KiB PTEs of one page table; returns 0 or -errno.
 */
export function rkIommuMap(
  d: RockchipDomain,
  iova32: number,
  paddr: Addr,
  size: number,
  prot: number,
): number {
  const ptPa = rkDteGetPageTable(d, rkIovaDteIndex(iova32));
  if (ptPa < 0) return ptPa;
  return rkIommuMapIova(d, iova32, ptPa, rkIovaPteIndex(iova32), pfnOf(paddr), size, prot);
}

/**
 * `rk_iommu_unmap()` on the 32-bit IOVA: 0 if the DTE is not valid, else the bytes of the
 * valid PTEs cleared from the IOVA on (up to size / 4 KiB, stopping at the first invalid
 * one), each zapped from the IOTLB.
 */
export function rkIommuUnmap(d: RockchipDomain, iova32: number, size: number): number {
  const dte = d.dtWords[d.dtOff + rkIovaDteIndex(iova32)]!;
  d.counters.pteReads++;
  if (!rkDteIsPtValid(dte)) return 0;
  const n = rkIommuUnmapIova(
    d,
    d.rkOps.ptAddress(dte),
    rkIovaPteIndex(iova32),
    Math.floor(size / SPAGE_SIZE),
  );
  d.counters.flushPage += n; // rk_iommu_zap_iova(): one ZAP_ONE_LINE per 4 KiB unmapped
  rkIommuZapLines(d, iova32, n * SPAGE_SIZE);
  return n * SPAGE_SIZE;
}

/** Model-only: what a strict domain's table reaches, IOVA bits 31:0 (for `holeSpanOutside`). */
const STRICT_RANGES: readonly IovaRange[] = [[0n, 0xffff_ffffn]];

/**
 * `iova_to_phys_length` (the series' op, and since its last step the only lookup:
 * `iommu_iova_to_phys()` answers through it): mapped → the IOVA's PA (page offset kept) and the
 * 4 KiB PTE (every leaf is one, whatever page size mapped it); unmapped → 4 MiB at an invalid
 * DTE, 4 KiB at an invalid PTE. A strict domain does not alias IOVAs ≥ 4 GiB: unmapped, the
 * largest aligned block around it above 4 GiB.
 */
export function rkIommuIovaToPhysLength(d: RockchipDomain, iova: Addr, out: PhysLength): void {
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
  const dte = d.dtWords[d.dtOff + rkIovaDteIndex(i32)]!;
  counters.pteReads++;
  if (!rkDteIsPtValid(dte)) {
    out.setUnmapped(DTE_SPAN);
    return;
  }
  const rkOps = d.rkOps;
  const ptPa = rkOps.ptAddress(dte);
  const base = ptView(d, ptPa);
  counters.pteReads++;
  const pte = base >= 0 ? d.pt.words[base + rkIovaPteIndex(i32)]! : 0;
  if (!rkPteIsPageValid(pte)) out.setUnmapped(SPAGE_SIZE);
  else out.setMapped(rkOps.ptAddress(pte) / SPAGE_SIZE, i32 & 0xfff, SPAGE_SIZE);
}

// ---------------------------------------------------------------------------------------------
// strict mode

/** A valid `map_pages`/`unmap_pages` size: a power of two in [4 KiB, 4 MiB] the IOVA is aligned to. */
function sizeFits(iova: Addr, size: number): boolean {
  return size >= SPAGE_SIZE && size <= DTE_SPAN && (size & (size - 1)) === 0 && modAddr(iova, size) === 0;
}

/** Throw `iova-aliased` for an IOVA ≥ 4 GiB (the args record is built only when throwing). */
function aliasCheck(op: string, iova: Addr, size: number): void {
  if (atOrAbove(iova, TWO32))
    throw new RockchipQuirkError("iova-aliased", op, { iova, size }, "the driver keeps IOVA bits 31:0 only");
}

/** A strict domain's checks before `rk_iommu_map`: -EINVAL, a thrown quirk, or 0 to go on. */
function strictMapCheck(d: RockchipDomain, iova: Addr, paddr: Addr, size: number, prot: number): number {
  aliasCheck("rk_iommu_map", iova, size);
  if (!sizeFits(iova, size)) return EINVAL; // pgsize-unsupported
  if (modAddr(paddr, SPAGE_SIZE) !== 0) return EINVAL; // pa-unaligned
  if (atOrAbove(paddr, 2 ** d.rkOps.dmaBits))
    throw new RockchipQuirkError(
      "pa-truncated",
      "rk_iommu_map",
      { iova, paddr, size, prot },
      `PA beyond ${d.rkOps.dmaBits} bits`,
    );
  return 0;
}

// ---------------------------------------------------------------------------------------------
// the ops table

/**
 * `rk_iommu_ops.default_domain_ops` as an {@link IommuDomainOps}: `map_pages` = `rk_iommu_map`
 * (maps one "page" of `pgsize` whatever `pgcount`, reporting `mapped = pgsize`),
 * `unmap_pages` = `rk_iommu_unmap`, the series' `iova_to_phys_length` (no `iova_to_phys`: the
 * series removed it), and `free` = `rk_iommu_domain_free`. The driver has no iotlb_sync: it zaps as it goes.
 * Model-only addition (issue 17): `iovaToPhysRuns` (runs.ts). Each {@link RockchipIommu} owns
 * one table.
 */
export function createRockchipDomainOps(name: string): IommuDomainOps<RockchipDomain> {
  return {
    name,
    mapPages(d, iova, paddr, pgsize, _pgcount, prot, _gfp, mapped: SizeOut) {
      if (d.dt < 0) return ENODEV;
      if (d.strict) {
        const r = strictMapCheck(d, iova, paddr, pgsize, prot);
        if (r) return r;
      }
      const ret = rkIommuMap(d, low32(iova), paddr, pgsize, prot);
      if (ret === 0) mapped.value += pgsize;
      return ret;
    },
    unmapPages(d, iova, pgsize, _pgcount, _gather: IotlbGather | null) {
      if (d.dt < 0) return 0;
      if (d.strict) {
        aliasCheck("rk_iommu_unmap", iova, pgsize);
        if (!sizeFits(iova, pgsize)) return 0;
      }
      return rkIommuUnmap(d, low32(iova), pgsize);
    },
    iovaToPhysLength: rkIommuIovaToPhysLength,
    iovaToPhysRuns: rkIommuIovaToPhysRuns,
    free: rkIommuDomainFree,
    inspect(d): PageTableInspector | null {
      if (d.dt < 0) return null;
      return createRockchipInspector({ mem: d.allocator.mem, dt: d.dt, variant: d.rkOps.name });
    },
  };
}

/** `rk_iommu_domain_free()`: every page table a valid DTE points at, then the directory. */
export function rkIommuDomainFree(d: RockchipDomain): void {
  if (d.dt < 0) return;
  d.pt.drop();
  for (let i = 0; i < NUM_DT_ENTRIES; i++) {
    const dte = d.dtWords[d.dtOff + i]!;
    if (!rkDteIsPtValid(dte)) continue;
    const pt = d.rkOps.ptAddress(dte);
    if (d.allocator.sizeOf(pt) === 0) continue; // not one of ours (an adopted image)
    releaseUncounted(d.allocator, pt);
    d.counters.tablesFreed++;
  }
  releaseUncounted(d.allocator, d.dt);
  d.counters.tablesFreed++;
  d.dt = -1;
}
