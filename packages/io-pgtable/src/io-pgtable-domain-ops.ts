/**
 * drivers/iommu/arm/arm-smmu{,-v3}/, apple-dart.c, ipmmu-vmsa.c, mtk_iommu.c, …: the
 * `iommu_domain_ops` members every io-pgtable driver writes the same way (null-check
 * `pgtbl_ops`, then delegate), built once so drivers add only their TLB maintenance and
 * teardown — the way vercel/ai providers build on `openai-compatible`.
 */
import {
  type Addr,
  ffs,
  type IommuDirtyBitmap,
  type IommuDirtyOps,
  type IommuDomain,
  type IommuDomainOps,
  type IotlbGather,
  negErrno,
  type PageTableInspector,
  PHYS_RUN_PROT_UNKNOWN,
  PhysLength,
  type PhysRunCollector,
  type SizeOut,
} from "@iommu/core";
import type { IoPgtableOps } from "./io-pgtable.js";

const ENODEV = negErrno("ENODEV");
const EOPNOTSUPP = negErrno("EOPNOTSUPP");

/**
 * `struct iommu_domain` of a driver whose page table is an io-pgtable (arm-smmu's
 * `arm_smmu_domain`, apple-dart's `apple_dart_domain`, …): the domain plus its `pgtbl_ops`,
 * null until the table exists (arm-smmu allocates it at first attach) and after it is freed.
 */
export interface IoPgtableDomain extends IommuDomain {
  /** `pgtbl_ops`: the format's ops, or null when the domain has no page table. */
  pgtblOps: IoPgtableOps | null;
}

/**
 * Model-only: the members a driver adds to {@link ioPgtableDomainOps} — its TLB maintenance
 * (`iotlb_sync`, `flush_iotlb_all`, `iotlb_sync_map`) and `free`. Members given here replace
 * the shared ones of the same name.
 */
export type IoPgtableDomainOpsExtra<D extends IoPgtableDomain> = Partial<Omit<IommuDomainOps<D>, "name">>;

/** `arm_smmu_map_pages` & co.: no page table → -ENODEV. */
function mapPages(
  d: IoPgtableDomain,
  iova: Addr,
  paddr: Addr,
  pgsize: number,
  pgcount: number,
  prot: number,
  gfp: number,
  mapped: SizeOut,
): number {
  const ops = d.pgtblOps;
  if (!ops) return ENODEV;
  return ops.mapPages(iova, paddr, pgsize, pgcount, prot, gfp, mapped);
}

/** `arm_smmu_unmap_pages` & co.: no page table → 0 bytes. */
function unmapPages(
  d: IoPgtableDomain,
  iova: Addr,
  pgsize: number,
  pgcount: number,
  gather: IotlbGather | null,
): number {
  const ops = d.pgtblOps;
  if (!ops) return 0;
  return ops.unmapPages(iova, pgsize, pgcount, gather);
}

/**
 * `iova_to_phys_length` of the series: the format's one walk. No page table → unmapped, with
 * the domain's smallest page as the length (what an empty table would answer; 4 KiB while
 * the driver has set no page sizes).
 */
function iovaToPhysLength(d: IoPgtableDomain, iova: Addr, out: PhysLength): void {
  const ops = d.pgtblOps;
  if (!ops) {
    // A domain whose driver has not set page sizes yet (bitmap 0) steps by the CPU page.
    out.setUnmapped(d.pgsizeBitmap ? 2 ** ffs(d.pgsizeBitmap) : 4096);
    return;
  }
  ops.iovaToPhysLength(iova, out);
}

const step = new PhysLength();

/**
 * Model-only (issue 17): the format's one-descent range walk. No page table → one hole (an
 * empty table's answer); a format without the walk is stepped with its iovaToPhysLength (one
 * `walks` per step, as the core's own fallback counts).
 */
function iovaToPhysRuns(d: IoPgtableDomain, runs: PhysRunCollector): void {
  const ops = d.pgtblOps;
  if (!ops) {
    runs.hole(0, 2 ** 52, d.pgsizeBitmap ? 2 ** ffs(d.pgsizeBitmap) : 4096);
    return;
  }
  if (ops.iovaToPhysRuns) {
    ops.iovaToPhysRuns(runs);
    return;
  }
  // The core counted one walk for the call; every further step is a walk of its own.
  for (let pfn = runs.startPfn, first = true; ; first = false) {
    if (!first) d.counters.walks++;
    ops.iovaToPhysLength(pfn * 4096, step);
    const pfns = Math.max(1, step.length / 4096);
    const unit = Math.floor(pfn / pfns) * pfns;
    const more = step.mapped
      ? runs.leaf(unit, pfns, step.physPfn - (pfn - unit), PHYS_RUN_PROT_UNKNOWN, step.length)
      : runs.hole(unit, pfns, step.length);
    if (!more) return;
    pfn = unit + pfns;
  }
}

/** Model-only: the format's inspector, or null without a page table. */
function inspect(d: IoPgtableDomain): PageTableInspector | null {
  const ops = d.pgtblOps;
  return ops?.inspect ? ops.inspect() : null;
}

/**
 * Model-only (the kernel repeats it in every io-pgtable driver): a `struct iommu_domain_ops`
 * with `map_pages`, `unmap_pages`, `iova_to_phys_length` (the drivers' `*_iova_to_phys` since
 * the series) and `inspect` forwarding to `domain.pgtblOps` behind the kernel's null guards
 * (-ENODEV, 0 bytes, unmapped, null), plus the driver's own members from `extra`. Build it once per driver
 * (or driver instance): the forwarding members are shared functions, so a call costs one
 * null check and one call, with nothing allocated.
 */
export function ioPgtableDomainOps<D extends IoPgtableDomain>(
  name: string,
  extra: IoPgtableDomainOpsExtra<D> = {},
): IommuDomainOps<D> {
  return { name, mapPages, unmapPages, iovaToPhysLength, iovaToPhysRuns, inspect, ...extra };
}

/**
 * `read_and_clear_dirty` through the format (`arm_smmu_read_and_clear_dirty`; ARM LPAE S1
 * with IO_PGTABLE_QUIRK_ARM_HD): -EOPNOTSUPP without a page table or a format that has no
 * dirty walk. Tracking itself is always on (HTTU keeps the state in the PTEs).
 */
export const IO_PGTABLE_DIRTY_OPS: IommuDirtyOps<IoPgtableDomain> = {
  setDirtyTracking: () => 0,
  readAndClearDirty(d, iova: number, size: number, flags: number, dirty: IommuDirtyBitmap): number {
    const ops = d.pgtblOps;
    if (!ops?.readAndClearDirty) return EOPNOTSUPP;
    return ops.readAndClearDirty(iova, size, flags, dirty);
  },
};
