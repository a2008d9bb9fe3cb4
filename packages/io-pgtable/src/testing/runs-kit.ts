/**
 * Test kit (not published): an io-pgtable domain around a format's ops, for the range-lookup
 * tests; the runs and their reference come from @iommu/testing's kit.
 */
import { IOMMU_DOMAIN_UNMANAGED, type IommuCounters } from "@iommu/core";
import type { IoPgtableOps } from "../io-pgtable.js";
import { type IoPgtableDomain, ioPgtableDomainOps } from "../io-pgtable-domain-ops.js";

const domainOps = ioPgtableDomainOps<IoPgtableDomain>("runs-kit");

/** A paging domain whose page table is `ops` (counters shared with the format). */
export function domainOf(ops: IoPgtableOps, counters: IommuCounters, pgsizeBitmap: number): IoPgtableDomain {
  return {
    type: IOMMU_DOMAIN_UNMANAGED,
    ops: domainOps,
    pgtblOps: ops,
    pgsizeBitmap,
    geometry: { apertureStart: 0, apertureEnd: 2n ** 64n - 1n, forceAperture: true },
    counters,
  };
}
