/**
 * The @iommu/testing conformance suite (≥ 10,000 fast-check ops against the reference model,
 * the length contract, allocation failure at every table allocation) on VT-d paging domains
 * allocated and attached the way VFIO gets them, so every unmap runs the driver's IOTLB
 * invalidation.
 */
import { IommuCounters, iommuPagingDomainAllocFlags, PhysMem, TableAllocator } from "@iommu/core";
import { type ConformanceOptions, describeDomainConformance } from "@iommu/testing";
import { IntelIommu, type IntelIommuOptions, VTD_LEGACY_CAP, VTD_LEGACY_ECAP } from "./intel-iommu.js";

/** generic_pt behaviours (iommu_pt.h), as for the bare formats. */
const GENERIC_PT: ConformanceOptions = {
  semantics: {
    mapConflict: "EADDRINUSE",
    mapOverTable: "fail",
    unmapHole: 0,
    unmapPartialLeaf: "whole",
    unmapRange: "leaf-walk",
  },
  known: {
    allocFailureKeepsTables:
      "generic_pt leaves the tables it installed before the failure in place (empty); the core's rollback unmaps only leaves",
  },
};

function factory(hw: IntelIommuOptions) {
  return () => {
    const unit = new IntelIommu(hw).forDevice();
    const counters = new IommuCounters();
    const allocator = new TableAllocator(new PhysMem(), { counters });
    return { domain: iommuPagingDomainAllocFlags(unit, 0, { allocator, counters }), allocator };
  };
}

describeDomainConformance("intel first stage (x86_64 5-level, SPR caps)", factory({}), {
  ...GENERIC_PT,
  known: {
    ...GENERIC_PT.known,
    writeImpliesRead: "x86_64 has no write-only entry: IOMMU_WRITE alone maps read/write",
  },
});
describeDomainConformance(
  "intel second stage (vtdss 4-level, legacy mode, MAMV 9)",
  factory({ cap: VTD_LEGACY_CAP, ecap: VTD_LEGACY_ECAP }),
  GENERIC_PT,
);
