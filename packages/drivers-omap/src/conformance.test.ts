// drivers/iommu/omap-iommu.c: the shared conformance kit (@iommu/testing) on strict single-MMU domains.
import { IOMMU_READ, IOMMU_WRITE } from "@iommu/core";
import { describeDomainConformance } from "@iommu/testing";
import { makeOmap } from "./testing/make.js";

/*
 * Strict domains: the kit's reference fails a map over anything mapped and keeps a leaf an
 * unmap would only partly cover; the kernel mode (silent overwrite, whole-page unmaps, holes
 * that succeed, one page per call) is checked against its own reference in property.test.ts
 * and quirk by quirk in omap-iommu.test.ts.
 *
 * One MMU: with two, the domain holds two identical table trees while an inspector (and the
 * kit's table accounting) follows one root; the two-MMU mirror is checked in property.test.ts
 * (both MMUs' walks at every touched IOVA) and omap-iommu.test.ts (rollback).
 */
describeDomainConformance(
  "omap-iommu (strict)",
  () => {
    const t = makeOmap({ strict: true });
    return { domain: t.d, allocator: t.allocator };
  },
  {
    semantics: {
      mapConflict: "EEXIST",
      mapOverTable: "fail",
      unmapHole: 0,
      unmapPartialLeaf: "keep",
      unmapRange: "leaf-walk",
    },
    // No descriptor carries permissions: every page is readable and writable.
    prots: [IOMMU_READ | IOMMU_WRITE],
    known: {
      tablesShareBlocks: "four 1 KiB L2 tables share each 4 KiB slab page",
    },
    skip: {
      "alloc-failure":
        "a slab page taken by a failed map stays with the kmem_cache (its L2 tables are all freed), while the kit compares allocator blocks — src/alloc-failure.test.ts compares the tables themselves",
    },
  },
);
