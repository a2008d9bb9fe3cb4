/**
 * The @iommu/testing conformance suite on msm_iommu paging domains, allocated and attached
 * the way callers get them: random map / unmap / lookup sequences (≥ 10,000 operations)
 * through the driver's ops — lookups through iova_to_phys_length (the table walk), TLBIVA
 * runs on every sync — checked against a reference map. The "checked" run also compares
 * every iova_to_phys_length answer with the hardware V2P (a mismatch is a WARN, which fails it).
 */
import { IommuCounters, PhysMem, SZ_1M, SZ_4K, SZ_16M, TableAllocator } from "@iommu/core";
import { type ConformanceOptions, describeDomainConformance } from "@iommu/testing";
import type { MsmLengthMode } from "./msm-domain.js";
import { MsmIommu } from "./msm-iommu.js";

const MSM: ConformanceOptions = {
  semantics: {
    mapConflict: "EEXIST",
    mapOverTable: "replace",
    entrySpan: (s) => (s < SZ_1M ? SZ_4K : SZ_1M),
    unmapHole: 0,
    unmapPartialLeaf: "keep",
    unmapRange: "entry",
  },
  known: {
    allocFailureKeepsTables:
      "io-pgtable-arm-v7s frees no L2 table on leaf unmap, so the core's rollback leaves the tables the map installed",
    writeImpliesRead: "v7s has no write-only permission: IOMMU_WRITE alone maps read/write",
    tablesShareBlocks: "L2 tables are 1 KiB objects of a kmem_cache carved out of 4 KiB blocks",
    freeKeepsTables:
      "msm_iommu_domain_free only kfree()s the domain: the table is freed by the identity attach (detach), not by free",
  },
  // 64 MiB around the 2 GiB line: tables, sections and supersections meet.
  iovaWindow: { start: 0x8000_0000 - 2 * SZ_16M, size: 4 * SZ_16M },
};

function factory(lengthMode: MsmLengthMode) {
  return () => {
    const counters = new IommuCounters();
    const allocator = new TableAllocator(new PhysMem(), { counters });
    const d = new MsmIommu({ lengthMode }).domainAllocPagingFlags(0, { allocator, counters });
    if (typeof d === "number") throw new Error(`msm attach failed: ${d}`);
    return {
      domain: d,
      allocator,
      invariant: () => {
        if (d.v2pMismatches !== 0)
          throw new Error(`${d.v2pMismatches} lookup(s): hardware V2P disagrees with the table walk`);
      },
    };
  };
}

describeDomainConformance(
  "msm_iommu (ARM_V7S 32/32), software iova_to_phys_length",
  factory("software"),
  MSM,
);
describeDomainConformance("msm_iommu, iova_to_phys_length cross-checked against V2P", factory("checked"), {
  ...MSM,
  otherOps: 1500,
  skip: {
    counters: "checked mode adds the hardware walk's PTE reads and a CTX_TLBIALL to every lookup",
  },
});
