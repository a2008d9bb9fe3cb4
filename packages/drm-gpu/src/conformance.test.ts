import { describe, it } from "vitest";

// The shared conformance kit (@iommu/testing describeDomainConformance) runs on IommuDomains.
describe("describeDomainConformance", () => {
  it.skip("not applicable: panfrost and panthor drive io_pgtable_ops directly and expose no IommuDomain — their formats (ARM_MALI_LPAE, ARM_64_LPAE_S1) run the kit in @iommu/io-pgtable; property.test.ts checks the drivers against a page reference", () => {});
});
