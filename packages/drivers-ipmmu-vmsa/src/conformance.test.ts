/**
 * The @iommu/testing conformance suite on IPMMU paging domains attached the way VFIO gets
 * them (`device()`: iommu_paging_domain_alloc + attach, context and ARM_32_LPAE_S1 table
 * allocated), with the whole-context flushes running on every operation: ≥ 10,000 random
 * map/unmap/lookup operations against the reference model, the length contract, and
 * allocation failure injected at every table allocation of a map, rolled back by the core.
 */
import { IommuCounters, PhysMem, SZ_1G, TableAllocator } from "@iommu/core";
import { type ConformanceOptions, describeDomainConformance } from "@iommu/testing";
import { IpmmuVmsa } from "./ipmmu-vmsa.js";

/** ARM LPAE io-pgtable behaviours (io-pgtable-arm.c). */
const LPAE: ConformanceOptions = {
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

function factory(soc: string) {
  return () => {
    const counters = new IommuCounters();
    const allocator = new TableAllocator(new PhysMem(), { counters });
    const domain = new IpmmuVmsa({ soc }).device().domainAllocPagingFlags(0, { allocator, counters });
    if (typeof domain === "number") throw new Error(`ipmmu attach: ${domain}`);
    return { domain, allocator };
  };
}

describeDomainConformance("ipmmu-vmsa r8a7795 (Gen3) ARM_32_LPAE_S1", factory("r8a7795"), {
  ...LPAE,
  // The top 2 GiB of the 32-bit aperture: 1G blocks, the last level-1 slot included.
  iovaWindow: { start: 2 * SZ_1G, size: 2 * SZ_1G },
});
describeDomainConformance("ipmmu-vmsa r8a7790 (Gen2) ARM_32_LPAE_S1", factory("r8a7790"), LPAE);
