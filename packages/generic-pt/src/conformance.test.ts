/**
 * The @iommu/testing conformance suite on every generic_pt format, as the domain
 * `createPtDomain()` builds with the driver defaults (amdv1_mock: the iommufd selftest's two
 * mock domain configurations).
 */
import { IommuCounters, TableAllocator } from "@iommu/core";
import { type ConformanceOptions, describeDomainConformance } from "@iommu/testing";
import { type CreatePtDomainOptions, createPtDomain } from "./domain.js";
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

function factory(format: PtFormatName, options: CreatePtDomainOptions = {}) {
  return () => {
    const counters = new IommuCounters();
    const allocator = new TableAllocator(undefined, { counters });
    return { domain: createPtDomain(format, { ...options, allocator, counters }), allocator };
  };
}

describeDomainConformance("generic_pt amdv1", factory("amdv1"), GENERIC_PT);
describeDomainConformance("generic_pt vtdss", factory("vtdss"), GENERIC_PT);
describeDomainConformance("generic_pt x86_64", factory("x86_64"), NO_WRITE_ONLY);
describeDomainConformance("generic_pt riscv", factory("riscv"), NO_WRITE_ONLY);

// amdv1_mock as the iommufd selftest allocates it (selftest.c mock_domain_alloc_pgtable):
// MOCK_IOMMUPT_DEFAULT narrows the aperture to [MOCK_APERTURE_START, MOCK_APERTURE_LAST] and
// keeps the format's 2K..128G page sizes (requests up to 16M: the kit aligns its window to the
// largest size, and the aperture starts at 16M); MOCK_IOMMUPT_HUGE keeps the table's aperture
// and maps with MOCK_HUGE_PAGE_SIZE (512 × 2K) | PAGE_SIZE only.
describeDomainConformance(
  "generic_pt amdv1_mock (selftest DEFAULT)",
  factory("amdv1_mock", { aperture: { start: 1 << 24, end: 2 ** 31 - 1 } }),
  { ...GENERIC_PT, pageSizes: [0x800, 0x1000, 0x1_0000, 0x10_0000, 0x20_0000, 0x100_0000] },
);
describeDomainConformance(
  "generic_pt amdv1_mock (selftest HUGE)",
  factory("amdv1_mock", { pgsizeBitmap: 512 * 0x800 + 0x1000 }),
  GENERIC_PT,
);
