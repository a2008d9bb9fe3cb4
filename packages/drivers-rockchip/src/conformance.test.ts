/**
 * drivers/iommu/rockchip-iommu.c under the shared conformance kit (@iommu/testing).
 *
 * The driver advertises every power of two from 4 KiB to 4 MiB but writes each "page" as
 * 4 KiB PTEs and unmaps PTE by PTE (README: pgsize_bitmap is not a leaf size). The kit's
 * reference keeps the leaves of the core's page-size split, so with the full bitmap its
 * unmap predictions (a range ending inside a split leaf unmaps nothing) do not apply: that
 * suite runs the checks that do not depend on them, and the whole suite runs on the same
 * domain narrowed to 4 KiB pages, where split leaves and PTEs coincide. The full bitmap's
 * map/unmap semantics are covered by property.test.ts against testing/rockchip-ref.ts.
 */
import { IommuCounters } from "@iommu/core";
import { type ConformanceOptions, describeDomainConformance } from "@iommu/testing";
import { RockchipIommu } from "./driver.js";
import type { RockchipDomain } from "./rockchip-iommu.js";

const SPLIT =
  "with 4 KiB–4 MiB pages the kit's reference unmaps whole split leaves, the driver 4 KiB PTEs; see property.test.ts";

const options: ConformanceOptions = {
  semantics: {
    mapConflict: "EADDRINUSE",
    mapOverTable: "fail",
    unmapHole: 0,
    unmapPartialLeaf: "keep",
    unmapRange: "leaf-walk",
  },
  known: {
    allocFailureKeepsTables:
      "rk_dte_get_page_table() installs the page table before the PTEs are written; page tables are freed only with the domain",
  },
};

function target(variant: "v1" | "v2", bitmap?: number) {
  return () => {
    const iommu = new RockchipIommu({ variant });
    const d = iommu.domainAllocPagingFlags(0, { counters: new IommuCounters() }) as RockchipDomain;
    if (bitmap !== undefined) d.pgsizeBitmap = bitmap;
    return { domain: d, allocator: iommu.allocator };
  };
}

for (const variant of ["v1", "v2"] as const) {
  const phys = variant === "v2" ? { physWindow: { start: 2 ** 36, size: 2 ** 36 } } : {};
  describeDomainConformance(`rockchip-iommu ${variant}, 4 KiB pages`, target(variant, 0x1000), {
    ...options,
    ...phys,
  });
  describeDomainConformance(`rockchip-iommu ${variant}`, target(variant), {
    ...options,
    ...phys,
    known: {
      ...options.known,
      leavesDifferFromSplit: "every leaf is a 4 KiB PTE whatever page size the core chose",
    },
    skip: { reference: SPLIT, "length-contract": SPLIT, "alloc-failure": SPLIT, counters: SPLIT },
  });
}
