// drivers/iommu/iommufd/selftest.c: the @iommu/testing conformance suite (≥ 10,000 fast-check
// ops against the reference model, the length contract, allocation failure at every table
// allocation) on the selftest's mock domain as `mock_domain_alloc_pgtable` builds it —
// generic_pt amdv1_mock with the DEFAULT aperture, and with the HUGE page sizes.
import { IommuCounters, TableAllocator } from "@iommu/core";
import { createPtDomain } from "@iommu/generic-pt";
import { type ConformanceOptions, describeDomainConformance } from "@iommu/testing";
import { FailNth } from "./fail-nth.js";
import { type MockPagetableType, mockDomainAllocPgtable } from "./selftest.js";

/** generic_pt (iommu_pt.h) behaviours, as for the bare formats. */
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

function factory(type: MockPagetableType) {
  return () => {
    const counters = new IommuCounters();
    const allocator = new TableAllocator(undefined, { counters });
    const domain = mockDomainAllocPgtable(
      () => createPtDomain("amdv1_mock", { allocator, counters, vaBits: 56, oaBits: 51, level: 2 }),
      type,
      new FailNth(),
    );
    if (typeof domain === "number") throw new Error(`mock_domain_alloc_pgtable: ${domain}`);
    return { domain, allocator };
  };
}

describeDomainConformance(
  "iommufd mock MOCK_IOMMUPT_DEFAULT (amdv1_mock, 2 KiB granule, the mock aperture), 2K..16M pages",
  factory("default"),
  // The aperture starts at 16 MiB: page sizes up to 16 MiB keep it aligned.
  { ...GENERIC_PT, pageSizes: [0x800, 0x1000, 0x1_0000, 0x10_0000, 0x20_0000, 0x100_0000] },
);
describeDomainConformance(
  "iommufd mock MOCK_IOMMUPT_HUGE (amdv1_mock, MOCK_HUGE_PAGE_SIZE | PAGE_SIZE)",
  factory("huge"),
  GENERIC_PT,
);
