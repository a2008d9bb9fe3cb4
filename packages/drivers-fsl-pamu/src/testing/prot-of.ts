// Test helper: how the shared run kit (@iommu/testing `referenceRuns`) reads `prot` on a PAMU
// domain, which has no page table to inspect: the kernel fact written out — pamu_set_liodn()
// opens [0, 2^36) with PAACE_AP_PERMS_QUERY | PAACE_AP_PERMS_UPDATE, i.e. IOMMU_READ | IOMMU_WRITE.
import type { IommuDomain } from "@iommu/core";

/** `IOMMU_*` prot at `va`: 3 inside the window, 0 above it. */
export function pamuProtOf(_d: IommuDomain, va: bigint): number {
  return va < 1n << 36n ? 3 : 0;
}
