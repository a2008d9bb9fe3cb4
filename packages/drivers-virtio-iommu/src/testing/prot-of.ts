// Test helper: how the shared run kit (@iommu/testing `referenceRuns`) reads a page's `prot` on
// a virtio-iommu domain, which has no page table to inspect: a plain linear scan of the domain's
// intervals (the first one in order that contains the IOVA, its VIRTIO_IOMMU_MAP_F_* bits
// written out literally), sharing no code with the ordered tree walk under test.
import type { IommuDomain } from "@iommu/core";
import type { ViommuDomain } from "../viommu-domain.js";

/** `IOMMU_*` prot of the interval holding `va` (0 in a hole). */
export function viommuProtOf(d: IommuDomain, va: bigint): number {
  const x = Number(va);
  const t = (d as ViommuDomain).mappings;
  const n = t.nodes().find((m) => t.startOf(m) <= x && x < t.endOf(m));
  if (n === undefined) return 0;
  const f = t.flagsAt(n);
  // READ = 1, WRITE = 2, MMIO = 4 → IOMMU_READ 1, IOMMU_WRITE 2, IOMMU_MMIO 0x10.
  return (f & 1 ? 1 : 0) | (f & 2 ? 2 : 0) | (f & 4 ? 0x10 : 0);
}
