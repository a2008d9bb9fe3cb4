/**
 * drivers/iommu/sprd-iommu.c under the shared conformance kit (@iommu/testing). The kit's
 * sequences assume a map over a live entry fails and an unmap stops at a hole; sprd overwrites
 * silently and unmaps holes (quirks silent-overwrite, hole-unmap), so the suite runs on
 * `strict` domains, which report those instead; the default mode's suite lists every check
 * with the reason it cannot apply. The default mode is covered by property.test.ts.
 */
import { IOMMU_READ, IOMMU_WRITE, IommuCounters, PhysMem, TableAllocator } from "@iommu/core";
import { type ConformanceOptions, describeDomainConformance } from "@iommu/testing";
import { SprdIommu } from "./driver.js";
import type { SprdDomain } from "./sprd-iommu.js";

/** The fault page is the IOMMU's: it lives apart from the allocator under test, which holds the table. */
function target(strict: boolean) {
  return () => {
    const iommu = new SprdIommu({ strict });
    const tables = new TableAllocator(new PhysMem(), { base: 0x4000_0000 });
    const d = iommu.domainAllocPagingFlags(0, {
      counters: new IommuCounters(),
      allocator: tables,
    }) as SprdDomain;
    return { domain: d, allocator: tables };
  };
}

const options: ConformanceOptions = {
  semantics: {
    mapConflict: "EEXIST",
    mapOverTable: "fail",
    unmapHole: 0,
    unmapPartialLeaf: "keep",
    unmapRange: "leaf-walk",
  },
  // a page at PA 0 is entry 0, i.e. unmapped (quirk pa-zero)
  physWindow: { start: 0x1000, size: 2 ** 32 - 0x1000 },
  skip: {
    "alloc-failure":
      "maps allocate nothing: the flat table is allocated at attach (see alloc-failure.test.ts)",
  },
};

describeDomainConformance("sprd-iommu strict", target(true), {
  ...options,
  // strict refuses what the table cannot express (quirk prot-ignored)
  prots: [IOMMU_READ | IOMMU_WRITE],
});
describeDomainConformance("sprd-iommu", target(false), {
  ...options,
  protMask: 0, // no permission bits: every entry is read/write
  skip: {
    ...options.skip,
    reference:
      "maps overwrite live entries and unmaps of holes succeed (quirks silent-overwrite, hole-unmap); see property.test.ts",
    "length-contract":
      "its sequences rely on maps over live entries failing (quirk silent-overwrite); see property.test.ts",
    "walk-cache": "maps overwrite live entries (quirk silent-overwrite); see property.test.ts",
    counters:
      "its sequences rely on maps over live entries failing (quirk silent-overwrite); see property.test.ts",
    inspector:
      "its sequences rely on maps over live entries failing (quirk silent-overwrite); see property.test.ts",
  },
});
