// drivers/iommu/mtk_iommu_v1.c: the shared conformance kit (@iommu/testing) on strict domains.
import { IOMMU_READ, IOMMU_WRITE } from "@iommu/core";
import { describeDomainConformance } from "@iommu/testing";
import { makeMtk } from "./testing/make.js";

/*
 * Strict domains: the kit's reference expects a map over a live page to leave nothing behind
 * and an unmap to stop at a hole; the kernel mode (partial -EEXIST maps, blind unmaps) is
 * checked against its own reference in property.test.ts. The
 * domain's geometry is 0/0 (the driver never sets it), so the window is given explicitly.
 */
describeDomainConformance(
  "mtk_iommu_v1 (strict)",
  () => {
    const t = makeMtk({ strict: true });
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
    iovaWindow: { start: 0, size: 2 ** 26 },
    // The descriptor has no permission bits: every page is readable and writable.
    prots: [IOMMU_READ | IOMMU_WRITE],
    skip: {
      "alloc-failure": "a map never allocates: the only table (4 MiB, flat) is allocated at the first attach",
    },
  },
);
