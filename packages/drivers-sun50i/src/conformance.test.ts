/**
 * drivers/iommu/sun50i-iommu.c under the shared conformance kit (@iommu/testing): one 4 KiB
 * page size, -EBUSY on a live PTE, unmaps that stop at the first hole — the kit's contract as
 * is, in the driver's default mode.
 */
import { IommuCounters } from "@iommu/core";
import { describeDomainConformance } from "@iommu/testing";
import { Sun50iIommu } from "./driver.js";
import type { Sun50iDomain } from "./sun50i-iommu.js";

describeDomainConformance(
  "sun50i-iommu",
  () => {
    const iommu = new Sun50iIommu();
    const d = iommu.domainAllocPagingFlags(0, { counters: new IommuCounters() }) as Sun50iDomain;
    return { domain: d, allocator: iommu.allocator };
  },
  {
    semantics: {
      mapConflict: "EBUSY",
      mapOverTable: "fail",
      unmapHole: 0,
      unmapPartialLeaf: "keep",
      unmapRange: "leaf-walk",
    },
    known: {
      allocFailureKeepsTables:
        "sun50i_dte_get_page_table() installs the page table before the PTE is written; page tables are freed only at detach",
      tablesShareBlocks:
        "page tables are 1 KiB objects of the IOMMU's pt_pool kmem_cache, four to a 4 KiB slab block",
      freeKeepsTables: "the pt_pool kmem_cache keeps its slab blocks after the domain is freed",
    },
  },
);
