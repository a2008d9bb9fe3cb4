import { IOMMU_READ, IOMMU_WRITE } from "@iommu/core";

/** `r`, `w`, `rw` (or `-` for none): the vectors' spelling of a dma's prot. */
export function protName(prot: number): string {
  const r = prot & IOMMU_READ ? "r" : "";
  const w = prot & IOMMU_WRITE ? "w" : "";
  return r + w || "-";
}
