/**
 * The @iommu/testing conformance suite (≥ 10,000 fast-check ops against the reference model,
 * the length contract, allocation failure at every table allocation) on AMD-Vi paging domains
 * allocated and attached the way VFIO gets them, so every unmap runs the driver's
 * INVALIDATE_IOMMU_PAGES path.
 */
import { IommuCounters, iommuPagingDomainAllocFlags, PhysMem, TableAllocator } from "@iommu/core";
import { type ConformanceOptions, describeDomainConformance } from "@iommu/testing";
import { AmdIommu, type AmdIommuOptions } from "./amd-iommu.js";

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

function factory(hw: AmdIommuOptions) {
  return () => {
    const unit = new AmdIommu(hw).forDevice();
    const counters = new IommuCounters();
    const allocator = new TableAllocator(new PhysMem(), { counters });
    return { domain: iommuPagingDomainAllocFlags(unit, 0, { allocator, counters }), allocator };
  };
}

describeDomainConformance("amd v1 (amdv1, every power-of-two page size)", factory({}), GENERIC_PT);
describeDomainConformance(
  "amd v1 in a VM (NpCache: aligned-chunk flushes, FLUSH_RANGE_NO_GAPS), 4K/32K/2M pages",
  factory({ npCache: true }),
  { ...GENERIC_PT, pageSizes: [0x1000, 0x8000, 0x20_0000] },
);
describeDomainConformance(
  "amd v2 (x86_64 4-level, pgtbl_v2)",
  factory({ cmdline: { pgtbl: "v2" }, efr: 0x1_0003_0000_0010n }),
  {
    ...GENERIC_PT,
    known: {
      ...GENERIC_PT.known,
      writeImpliesRead: "x86_64 has no write-only entry: IOMMU_WRITE alone maps read/write",
    },
  },
);
