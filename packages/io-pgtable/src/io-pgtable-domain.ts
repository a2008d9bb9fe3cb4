import {
  IOMMU_DOMAIN_UNMANAGED,
  type IommuCounters,
  type IommuDirtyOps,
  type IommuDomain,
  type IommuDomainOps,
} from "@iommu/core";
import { freeIoPgtableOps, ioPgtableOpsToPgtable } from "./alloc.js";
import { IO_PGTABLE_QUIRK_ARM_TTBR1, type IoPgtable, type IoPgtableOps } from "./io-pgtable.js";

/** An `iommu_domain` whose page table is an io-pgtable (what arm-smmu & co. build in their domain_finalise). */
export interface IoPgtableDomain extends IommuDomain {
  /** The format's ops (`smmu_domain->pgtbl_ops`). */
  readonly pgtbl: IoPgtableOps;
  readonly iop: IoPgtable;
}

/**
 * The domain ops of a driver that simply forwards to its io-pgtable (no IOTLB of its own:
 * the format's TLB callbacks in `cfg.tlb` are where a driver would invalidate). Shared by
 * every such domain, as kernel ops tables are.
 */
export const IO_PGTABLE_DOMAIN_OPS: IommuDomainOps<IoPgtableDomain> = {
  name: "io-pgtable",
  mapPages: (d, iova, paddr, pgsize, pgcount, prot, gfp, mapped) =>
    d.pgtbl.mapPages(iova, paddr, pgsize, pgcount, prot, gfp, mapped),
  unmapPages: (d, iova, pgsize, pgcount, gather) => d.pgtbl.unmapPages(iova, pgsize, pgcount, gather),
  iovaToPhysLength: (d, iova, out) => d.pgtbl.iovaToPhysLength(iova, out),
  iovaToPhys: (d, iova) => d.pgtbl.iovaToPhys(iova),
  flushIotlbAll: (d) => d.iop.cfg.tlb?.tlbFlushAll(d.iop.cookie),
  free: (d) => freeIoPgtableOps(d.pgtbl),
};

/** Dirty tracking through the format's `read_and_clear_dirty` (ARM LPAE S1 with ARM_HD). */
export const IO_PGTABLE_DIRTY_OPS: IommuDirtyOps<IoPgtableDomain> = {
  setDirtyTracking: () => 0,
  readAndClearDirty: (d, iova, size, flags, dirty) =>
    d.pgtbl.readAndClearDirty ? d.pgtbl.readAndClearDirty(iova, size, flags, dirty) : -95,
};

/**
 * Wrap io-pgtable ops (from allocIoPgtableOps) in an UNMANAGED paging domain: the bitmap
 * and aperture come from the cfg the format left (`aperture_end = 2^ias - 1`, or the top of
 * the address space for TTBR1), as arm-smmu-v3's finalise does.
 */
export function createIoPgtableDomain(ops: IoPgtableOps, counters?: IommuCounters): IoPgtableDomain {
  const iop = ioPgtableOpsToPgtable(ops);
  const cfg = iop.cfg;
  const ttbr1 = (cfg.quirks & IO_PGTABLE_QUIRK_ARM_TTBR1) !== 0;
  const span = 2n ** BigInt(cfg.ias);
  const top = (1n << 64n) - 1n;
  return {
    type: IOMMU_DOMAIN_UNMANAGED,
    ops: IO_PGTABLE_DOMAIN_OPS,
    dirtyOps: ops.readAndClearDirty ? IO_PGTABLE_DIRTY_OPS : null,
    pgsizeBitmap: cfg.pgsizeBitmap,
    geometry: ttbr1
      ? { apertureStart: top + 1n - span, apertureEnd: top, forceAperture: true }
      : { apertureStart: 0, apertureEnd: 2 ** cfg.ias - 1, forceAperture: true },
    counters: counters ?? cfg.counters,
    pgtbl: ops,
    iop,
  };
}
