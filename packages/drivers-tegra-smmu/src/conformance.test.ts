// drivers/iommu/tegra-smmu.c: the shared conformance kit (@iommu/testing) on strict address spaces.
import { describeDomainConformance } from "@iommu/testing";
import { makeTegra } from "./testing/make.js";

/*
 * The kit's reference has no silent-overwrite semantics (a map over a live PTE must fail), so it
 * runs on strict domains, where tegra-smmu reports the overwrite as -EEXIST. The kernel mode —
 * overwrite, one PTE per call, aliasing — is checked against its own page reference in
 * property.test.ts, and every quirk in tegra-smmu.test.ts.
 */
describeDomainConformance(
  "tegra-smmu (strict)",
  () => {
    const t = makeTegra({ strict: true });
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
  },
);
