/**
 * The @iommu/testing conformance suite on SMMUv3 paging domains, allocated the way callers
 * get them: `iommu_paging_domain_alloc_flags()` on an SMMU instance (stage 1 by default,
 * stage 2 without stage-1 support or as a nesting parent). The TLB maintenance the driver
 * issues runs on every operation.
 */
import {
  IOMMU_HWPT_ALLOC_NEST_PARENT,
  IommuCounters,
  iommuPagingDomainAllocFlags,
  PhysMem,
  TableAllocator,
} from "@iommu/core";
import { type ConformanceOptions, describeDomainConformance } from "@iommu/testing";
import { ArmSmmuV3, type ArmSmmuV3Options } from "./arm-smmu-v3.js";

/** SMMUv3 paging domains are ARM LPAE io-pgtables: the same kernel behaviours. */
const SMMU: ConformanceOptions = {
  semantics: {
    mapConflict: "EEXIST",
    mapOverTable: "replace",
    unmapHole: -2,
    unmapPartialLeaf: "keep",
    unmapRange: "entry",
  },
  known: {
    allocFailureKeepsTables:
      "io-pgtable-arm frees no table on leaf unmap, so the core's rollback leaves the tables the map installed",
    writeImpliesRead: "LPAE has no write-only permission: IOMMU_WRITE alone maps read/write",
  },
};

function factory(hw: ArmSmmuV3Options, flags = 0) {
  return () => {
    const smmu = new ArmSmmuV3(hw);
    const counters = new IommuCounters();
    const allocator = new TableAllocator(new PhysMem(), { counters });
    const domain = iommuPagingDomainAllocFlags(smmu, flags, { allocator, counters });
    return { domain, allocator };
  };
}

// Without range invalidation every leaf and table page is invalidated one command at a time:
// 4K and 2M pages in a 64 MiB window keep that affordable.
describeDomainConformance("SMMUv3 stage 1, 4K granule, TLBI per page", factory({ granules: [0x1000] }), {
  ...SMMU,
  pageSizes: [0x1000, 0x20_0000],
});
describeDomainConformance(
  "SMMUv3 stage 1, 4K granule, range invalidation",
  factory({ granules: [0x1000], rangeInv: true }),
  SMMU,
);
describeDomainConformance(
  "SMMUv3 stage 1, 64K granule, 52-bit, range invalidation",
  factory({ granules: [0x10000], oas: 52, vax52: true, vaBits: 52, rangeInv: true }),
  SMMU,
);
describeDomainConformance(
  "SMMUv3 stage 2 (no stage 1), 40-bit: concatenated pgd, range invalidation",
  factory({ stage1: false, oas: 40, rangeInv: true }),
  {
    ...SMMU,
    // Across the boundary between the two concatenated level-1 tables (2^39).
    iovaWindow: { start: 2 ** 39 - 2 ** 33, size: 2 ** 34 },
  },
);
describeDomainConformance(
  "SMMUv3 stage 2 nesting parent, 16K granule, range invalidation",
  factory({ granules: [0x4000], rangeInv: true }, IOMMU_HWPT_ALLOC_NEST_PARENT),
  SMMU,
);
