/**
 * drivers/iommu/mtk_iommu.c: `struct mtk_iommu_domain` and the driver's
 * `default_domain_ops` — map (bit 32 added in 4GB mode), unmap (the range goes into the
 * gather), iova_to_phys_length (the series' lookup, as mtk_iommu_iova_to_phys: bit 32 stripped
 * again above 0x1_4000_0000; the legacy op is gone), the range-flush
 * iotlb_sync / iotlb_sync_map, flush_iotlb_all, and a `free` that only frees the structure.
 *
 * None of these checks for a missing page table or bank: before the first attach the kernel
 * dereferences NULL. The model throws an {@link IommuError} `EFAULT` naming the dereference
 * instead (see the README's "Known kernel quirks").
 *
 * Hot paths (map, unmap, lookups) allocate nothing: the 4GB-mode bit is added and removed on
 * the 4 KiB frame number, a plain double.
 */
import {
  type Addr,
  fromPfn,
  type IommuDomainOps,
  IommuError,
  type IotlbGather,
  iotlbGatherAddRange,
  offOf,
  type PhysLength,
  type PhysRunCollector,
  pfnOf,
  type SizeOut,
  type TableAllocator,
  toNumber,
} from "@iommu/core";
import { type IoPgtableCfg, type IoPgtableDomain, ioPgtableDomainOps } from "@iommu/io-pgtable";
import type { MtkIommu } from "./mtk-iommu.js";
import { mtkIommu4gbRuns, mtkIommuStrip4gbPfn } from "./runs-4gb.js";
import { type MtkIommuBank, mtkIommuTlbFlushAll, mtkIommuTlbFlushRangeSync } from "./tlb.js";

/** `MTK_IOMMU_4GB_MODE_REMAP_BASE`: lookups at or above it lose bit 32 in 4GB mode. */
export const MTK_IOMMU_4GB_MODE_REMAP_BASE = 0x1_4000_0000;
/** Bit 32 of a PA as a bit of its 4 KiB frame number. */
const PFN_BIT32 = 2 ** 20;

/** `struct mtk_iommu_domain` (paging): cfg and iop are shared with the M4U's `share_dom`. */
export interface MtkIommuDomain extends IoPgtableDomain {
  /** `dom->cfg`: null until finalised (first attach). */
  cfg: Readonly<IoPgtableCfg> | null;
  /** `dom->bank`: the bank of the first attach; null before it. */
  bank: MtkIommuBank | null;
  /** Model-only: the M4U instance whose ops table this domain uses. */
  readonly m4u: MtkIommu;
  /** Where the page table is allocated when this domain is the one that creates it. */
  readonly allocator: TableAllocator;
  /** Model-only: set by `free` (kfree); the shared table lives on. */
  freed: boolean;
}

/** The kernel's NULL dereference before the first attach, as a typed error. */
function nullDeref(op: string, what: string): IommuError {
  return new IommuError(
    "EFAULT",
    op,
    {},
    `NULL pointer dereference: ${what} is NULL before the first attach (kernel oops)`,
  );
}

/** `paddr |= BIT_ULL(32)` */
function withBit32(paddr: Addr): Addr {
  const pfn = pfnOf(paddr);
  if (Math.floor(pfn / PFN_BIT32) % 2 === 1) return paddr;
  return fromPfn(pfn + PFN_BIT32, offOf(paddr));
}

/** `mtk_iommu_map`: 4GB mode adds bit 32, then the shared io-pgtable maps. */
function mtkIommuMap(
  d: MtkIommuDomain,
  iova: Addr,
  paddr: Addr,
  pgsize: number,
  pgcount: number,
  prot: number,
  gfp: number,
  mapped: SizeOut,
): number {
  const bank = d.bank;
  if (!bank) throw nullDeref("mtk_iommu_map", "dom->bank");
  const pa = bank.parent.enable4GB ? withBit32(paddr) : paddr;
  return d.pgtblOps!.mapPages(iova, pa, pgsize, pgcount, prot, gfp, mapped);
}

/** `mtk_iommu_unmap`: the whole request goes into the gather first, then the io-pgtable unmaps. */
function mtkIommuUnmap(
  d: MtkIommuDomain,
  iova: Addr,
  pgsize: number,
  pgcount: number,
  gather: IotlbGather | null,
): number {
  if (gather) iotlbGatherAddRange(gather, toNumber(iova), pgsize * pgcount);
  const ops = d.pgtblOps;
  if (!ops) throw nullDeref("mtk_iommu_unmap", "dom->iop");
  return ops.unmapPages(iova, pgsize, pgcount, gather);
}

/** `mtk_iommu_iotlb_sync`: one range flush of [gather->start, gather->end]. */
function mtkIommuIotlbSync(d: MtkIommuDomain, gather: IotlbGather): void {
  const bank = d.bank;
  if (!bank) throw nullDeref("mtk_iommu_iotlb_sync", "dom->bank");
  mtkIommuTlbFlushRangeSync(gather.start, gather.endExcl - gather.start, bank, d.counters);
}

/** `mtk_iommu_sync_map`: a range flush of what was just mapped. */
function mtkIommuSyncMap(d: MtkIommuDomain, iova: number, size: number): number {
  const bank = d.bank;
  if (!bank) throw nullDeref("mtk_iommu_sync_map", "dom->bank");
  mtkIommuTlbFlushRangeSync(iova, size, bank, d.counters);
  return 0;
}

/** `mtk_iommu_flush_iotlb_all`: a full flush of the bank's M4U (only that one), if attached. */
function mtkIommuFlushIotlbAll(d: MtkIommuDomain): void {
  if (d.bank) mtkIommuTlbFlushAll(d.bank.parent, d.counters);
}

/** 4GB mode (and a 64-bit phys_addr_t): `pa >= 0x1_4000_0000` → `pa &= ~BIT_ULL(32)`, on the frame. */
function strip4gb(d: MtkIommuDomain, pfn: number): number {
  return d.bank?.parent.enable4GB ? mtkIommuStrip4gbPfn(pfn) : pfn;
}

/**
 * `mtk_iommu_iova_to_phys` as the series' iova_to_phys_length: the io-pgtable's one walk, then
 * the driver's 4GB-mode strip (a leaf never straddles 0x1_4000_0000, which is 1 GiB aligned,
 * so the whole unit stays linear). The NULL `dom->iop` dereference before attach keeps the
 * kernel function's name.
 */
function mtkIommuIovaToPhysLength(d: MtkIommuDomain, iova: Addr, out: PhysLength): void {
  const ops = d.pgtblOps;
  if (!ops) throw nullDeref("mtk_iommu_iova_to_phys", "dom->iop");
  ops.iovaToPhysLength(iova, out);
  if (out.mapped && d.bank?.parent.enable4GB) out.physPfn = strip4gb(d, out.physPfn);
}

/** io-pgtable's forwarding members, for the run lookup's delegation. */
const shared = ioPgtableDomainOps<MtkIommuDomain>("mtk-iommu");

function sharedRuns(d: MtkIommuDomain, runs: PhysRunCollector): void {
  shared.iovaToPhysRuns!(d, runs);
}

/**
 * Model-only (issue 17): the run lookup as mtk_iommu would write it — the shared v7s table's
 * one descent, every leaf's PA passed through the iova_to_phys 4GB-mode strip (runs-4gb.ts),
 * so runs report what the per-page lookup reports. Same NULL dereference before attach.
 */
function mtkIommuIovaToPhysRuns(d: MtkIommuDomain, runs: PhysRunCollector): void {
  if (!d.pgtblOps) throw nullDeref("mtk_iommu_iova_to_phys", "dom->iop");
  if (d.bank?.parent.enable4GB) mtkIommu4gbRuns(runs, d, sharedRuns);
  else sharedRuns(d, runs);
}

/** `mtk_iommu_domain_free`: kfree only — the io-pgtable stays with the M4U's `share_dom`. */
function mtkIommuDomainFree(d: MtkIommuDomain): void {
  d.freed = true;
}

/**
 * `mtk_iommu_ops.default_domain_ops`. One table per {@link MtkIommu} instance (its identity
 * names the M4U, as VFIO compares ops to reuse a domain).
 */
export function createMtkIommuDomainOps(name: string): IommuDomainOps<MtkIommuDomain> {
  return ioPgtableDomainOps<MtkIommuDomain>(name, {
    mapPages: mtkIommuMap,
    unmapPages: mtkIommuUnmap,
    iovaToPhysLength: mtkIommuIovaToPhysLength,
    iovaToPhysRuns: mtkIommuIovaToPhysRuns,
    iotlbSync: mtkIommuIotlbSync,
    iotlbSyncMap: mtkIommuSyncMap,
    flushIotlbAll: mtkIommuFlushIotlbAll,
    free: mtkIommuDomainFree,
  });
}
