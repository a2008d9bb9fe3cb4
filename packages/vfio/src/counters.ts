/**
 * What type1 asks of the IOMMU core, counted at the container (the domains come and go with
 * attach/detach, their own IommuCounters go with them). Field names follow the vectors'
 * `counts` line.
 */
export class VfioCounters {
  /**
   * iommu_iova_to_phys() (legacy), iommu_iova_to_phys_length() (length modes) or range-lookup
   * (runs mode: one per batch of runs) calls by vfio.
   */
  iovaToPhys = 0;
  /** iommu_unmap() + iommu_unmap_fast(), including the unroll unmap inside a failing iommu_map(). */
  unmapCalls = 0;
  /** The iommu_unmap_fast() part of unmapCalls. */
  unmapFast = 0;
  /** iommu_map() calls. */
  mapCalls = 0;
  /** iommu_iotlb_sync() executions: vfio's own plus the one inside every iommu_unmap(). */
  iotlbSync = 0;
  /** ops->map_pages / ops->unmap_pages calls made by the core loops. */
  ptMapPages = 0;
  ptUnmapPages = 0;

  snapshot(): VfioCounterSnapshot {
    return {
      iovaToPhys: this.iovaToPhys,
      unmapCalls: this.unmapCalls,
      unmapFast: this.unmapFast,
      mapCalls: this.mapCalls,
      iotlbSync: this.iotlbSync,
      ptMapPages: this.ptMapPages,
      ptUnmapPages: this.ptUnmapPages,
    };
  }

  reset(): void {
    this.iovaToPhys = 0;
    this.unmapCalls = 0;
    this.unmapFast = 0;
    this.mapCalls = 0;
    this.iotlbSync = 0;
    this.ptMapPages = 0;
    this.ptUnmapPages = 0;
  }
}

export type VfioCounterSnapshot = Pick<
  VfioCounters,
  "iovaToPhys" | "unmapCalls" | "unmapFast" | "mapCalls" | "iotlbSync" | "ptMapPages" | "ptUnmapPages"
>;
