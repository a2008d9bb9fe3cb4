/**
 * The @iommu/testing conformance suite on DART paging domains allocated the way callers get
 * them (iommu_paging_domain_alloc on a DART, finalized for stream 0), with the driver's TLB
 * maintenance running on every operation: ≥ 10,000 random map/unmap/lookup operations per
 * variant against the reference model, the length contract, and allocation failure injected
 * at every table allocation of a map, rolled back by the core.
 */
import {
  IommuCounters,
  iommuPagingDomainAllocFlags,
  PhysMem,
  SZ_1M,
  SZ_4K,
  SZ_16K,
  SZ_32M,
  TableAllocator,
} from "@iommu/core";
import { type ConformanceOptions, describeDomainConformance } from "@iommu/testing";
import { AppleDart, type AppleDartOptions } from "./apple-dart.js";

/** io-pgtable-dart.c semantics: one page size, entries cleared until the first hole. */
const DART: ConformanceOptions = {
  semantics: {
    mapConflict: "EEXIST",
    mapOverTable: "fail", // one page size: never a table where a leaf goes
    unmapHole: 0,
    unmapPartialLeaf: "keep",
    unmapRange: "leaf-walk",
  },
  known: {
    allocFailureKeepsTables:
      "io-pgtable-dart frees tables only with the domain, so the core's rollback leaves the tables the map installed",
  },
};

function factory(hw: AppleDartOptions) {
  return () => {
    const dart = new AppleDart(hw);
    const counters = new IommuCounters();
    const allocator = new TableAllocator(new PhysMem(), { counters });
    const domain = iommuPagingDomainAllocFlags(dart, 0, { allocator, counters });
    return { domain, allocator };
  };
}

describeDomainConformance(
  "apple-dart t8103 APPLE_DART 4K (4 TTBRs)",
  factory({ variant: "t8103", pgsize: SZ_4K }),
  {
    ...DART,
    // Across the boundary between the first two TTBRs (1 GiB each).
    iovaWindow: { start: 0x4000_0000 - 4 * SZ_1M, size: 8 * SZ_1M },
    physWindow: { start: 0, size: 2 ** 36 },
  },
);
describeDomainConformance(
  "apple-dart t6000 APPLE_DART2 16K",
  factory({ variant: "t6000", pageSize: SZ_16K }),
  {
    ...DART,
    // Two leaf tables' worth around a 32 MiB boundary.
    iovaWindow: { start: 0x4000_0000 - SZ_32M, size: 2 * SZ_32M },
  },
);
describeDomainConformance(
  "apple-dart t8110 APPLE_DART2 16K 4-level (42-bit VA)",
  factory({ variant: "t8110", vaBits: 42, paBits: 42, pageSize: SZ_16K }),
  { ...DART, iovaWindow: { start: 2 ** 36 - SZ_32M, size: 2 * SZ_32M }, pageSizes: [SZ_16K] },
);
