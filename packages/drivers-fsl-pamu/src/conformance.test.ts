// drivers/iommu/fsl_pamu_domain.c under the shared conformance kit (@iommu/testing): the domain
// has no map_pages and no pgsize_bitmap, so no check the kit runs (all of them map first) can
// apply; each is listed with that reason. fsl-pamu-domain.test.ts covers what the domain does.
import { IommuCounters, PhysMem, TableAllocator } from "@iommu/core";
import { type ConformanceOptions, describeDomainConformance } from "@iommu/testing";
import { FslPamu } from "./fsl-pamu-domain.js";

const noMap = "no map_pages and pgsize_bitmap 0: iommu_map fails -ENODEV (fsl-pamu-domain.test.ts)";

const options: ConformanceOptions = {
  semantics: {
    mapConflict: "EEXIST",
    mapOverTable: "fail",
    unmapHole: 0,
    unmapPartialLeaf: "keep",
    unmapRange: "entry",
  },
  skip: {
    reference: noMap,
    "length-contract": noMap,
    "walk-cache": noMap,
    "alloc-failure": noMap,
    counters: noMap,
  },
};

describeDomainConformance(
  "fsl-pamu",
  () => {
    const d = new FslPamu().domainAllocPagingFlags(0, { counters: new IommuCounters() });
    if (typeof d === "number") throw new Error(String(d));
    return { domain: d, allocator: new TableAllocator(new PhysMem()) };
  },
  options,
);
