/**
 * The @iommu/testing conformance suite on every generic_pt format, as the domain
 * `createPtDomain()` builds with the driver defaults.
 */
import { IommuCounters, TableAllocator } from "@iommu/core";
import { type ConformanceOptions, describeDomainConformance } from "@iommu/testing";
import { createPtDomain } from "./domain.js";
import type { PtFormatName } from "./formats/index.js";

/** generic_pt (iommu_pt.h): the same kernel behaviours for every format. */
const GENERIC_PT: ConformanceOptions = {
  semantics: {
    // A leaf where anything is mapped: -EADDRINUSE, nothing changed.
    mapConflict: "EADDRINUSE",
    mapOverTable: "fail",
    unmapHole: 0,
    // unmap_pages removes whole entries, possibly more than asked.
    unmapPartialLeaf: "whole",
    // ... and stops at the first hole.
    unmapRange: "leaf-walk",
  },
  known: {
    allocFailureKeepsTables:
      "generic_pt leaves the tables it installed before the failure in place (empty); the core's rollback unmaps only leaves",
  },
};

/** x86_64 (present = readable) and RISC-V (W without R is reserved) have no write-only mapping. */
const NO_WRITE_ONLY: ConformanceOptions = {
  ...GENERIC_PT,
  known: {
    ...GENERIC_PT.known,
    writeImpliesRead: "the format cannot express write-only: IOMMU_WRITE alone maps read/write",
  },
};

function factory(format: PtFormatName) {
  return () => {
    const counters = new IommuCounters();
    const allocator = new TableAllocator(undefined, { counters });
    return { domain: createPtDomain(format, { allocator, counters }), allocator };
  };
}

describeDomainConformance("generic_pt amdv1", factory("amdv1"), GENERIC_PT);
describeDomainConformance("generic_pt vtdss", factory("vtdss"), GENERIC_PT);
describeDomainConformance("generic_pt x86_64", factory("x86_64"), NO_WRITE_ONLY);
describeDomainConformance("generic_pt riscv", factory("riscv"), NO_WRITE_ONLY);
