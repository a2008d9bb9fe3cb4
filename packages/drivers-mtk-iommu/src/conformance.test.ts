/**
 * The @iommu/testing conformance suite on mtk_iommu paging domains, allocated and attached
 * the way callers get them (`domainAllocPagingFlags(0)` attaches the M4U's master): random
 * map / unmap / lookup sequences (≥ 10,000 operations) through the driver's ops — 4GB-mode
 * bit 32, range flushes on every sync — checked against a reference map.
 */
import { IommuCounters, PhysMem, SZ_1M, SZ_4G, SZ_4K, SZ_16M, TableAllocator } from "@iommu/core";
import { type ConformanceOptions, describeDomainConformance } from "@iommu/testing";
import { MtkIommu, type MtkIommuMaster, type MtkIommuOptions } from "./mtk-iommu.js";

/** ARM_V7S with NS | NO_PERMS | MTK_EXT (io-pgtable's own v7s semantics). */
const MTK: ConformanceOptions = {
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
    tablesShareBlocks: "L2 tables are 1 KiB objects of a kmem_cache carved out of 4 KiB blocks",
    freeKeepsTables:
      "mtk_iommu_domain_free only kfree()s the domain: the table is the M4U's share_dom's and is never freed",
  },
  protMask: 0, // NO_PERMS: entries carry no permission bits
};

function factory(hw: MtkIommuOptions, master?: MtkIommuMaster) {
  return () => {
    const counters = new IommuCounters();
    const allocator = new TableAllocator(new PhysMem(), { counters });
    const m4u = new MtkIommu(hw);
    const d = m4u.domainAllocPagingFlags(0, { allocator, counters, ...(master ? { master } : {}) });
    if (typeof d === "number") throw new Error(`mtk_iommu attach failed: ${d}`);
    return { domain: d, allocator };
  };
}

describeDomainConformance("mtk_iommu mt8192 (ias 34, oas 35), region 0", factory({ soc: "mt8192" }), {
  ...MTK,
  // 64 MiB around the 2 GiB line: tables, sections and supersections meet.
  iovaWindow: { start: 0x8000_0000 - 2 * SZ_16M, size: 4 * SZ_16M },
  physWindow: { start: 0, size: 2 ** 35 },
});
describeDomainConformance(
  "mtk_iommu mt8192 region 2 (8G ~ 12G), PAs up to 2^35",
  factory({ soc: "mt8192" }, { larb: 2, ports: [0] }),
  {
    ...MTK,
    otherOps: 1500,
    iovaWindow: { start: 2 * SZ_4G + 0x8000_0000 - 2 * SZ_16M, size: 4 * SZ_16M },
    physWindow: { start: 2 ** 34, size: 2 ** 34 },
  },
);
describeDomainConformance(
  "mtk_iommu mt8173 in 4GB mode (oas 33), DRAM 1..4 GiB",
  factory({ soc: "mt8173", enable4GB: true }),
  {
    ...MTK,
    otherOps: 1500,
    iovaWindow: { start: 0x4000_0000 - 2 * SZ_16M, size: 4 * SZ_16M },
    // Regions B/C/D: stored with bit 32, read back without it (region A would read back with it).
    physWindow: { start: 0x4000_0000, size: 0xc000_0000 },
    skip: {
      inspector:
        "4GB mode: the table (and its inspector) holds the M4U's output PA with bit 32 set, lookups return the CPU PA",
    },
  },
);
