// Model-only: what iommufd asks of the IOMMU core, counted at the iommufd context (the kernel
// has no such counters; kernel-callers.md §7 compares them).

/**
 * Calls iommufd makes into the IOMMU core, and its own batch events. Domains come and go with
 * attach/detach, so the count lives here rather than in the domains' IommuCounters.
 */
export class IommufdCounters {
  /** iommu_iova_to_phys() (legacy read-back) or iommu_iova_to_phys_length() (length) calls. */
  iovaToPhys = 0;
  /** iommu_unmap() calls (iommu_unmap_nofail, batch_to_domain unwinds, unmap_domain). */
  unmapCalls = 0;
  /** iommu_map() calls. */
  mapCalls = 0;
  /** iommu_iotlb_sync() executions (the one inside every iommu_unmap()). */
  iotlbSync = 0;
  /** ops->map_pages / ops->unmap_pages calls made by the core loops. */
  ptMapPages = 0;
  ptUnmapPages = 0;
  /** batch_from_domain() returns on a full batch: each repeats its last walk on the next call. */
  batchFull = 0;
  /** pin_user_pages_fast() calls and pages they pinned. */
  gupCalls = 0;
  gupPages = 0;

  snapshot(): IommufdCounterSnapshot {
    return {
      iovaToPhys: this.iovaToPhys,
      unmapCalls: this.unmapCalls,
      mapCalls: this.mapCalls,
      iotlbSync: this.iotlbSync,
      ptMapPages: this.ptMapPages,
      ptUnmapPages: this.ptUnmapPages,
      batchFull: this.batchFull,
      gupCalls: this.gupCalls,
      gupPages: this.gupPages,
    };
  }

  reset(): void {
    this.iovaToPhys = 0;
    this.unmapCalls = 0;
    this.mapCalls = 0;
    this.iotlbSync = 0;
    this.ptMapPages = 0;
    this.ptUnmapPages = 0;
    this.batchFull = 0;
    this.gupCalls = 0;
    this.gupPages = 0;
  }
}

export type IommufdCounterSnapshot = Pick<
  IommufdCounters,
  | "iovaToPhys"
  | "unmapCalls"
  | "mapCalls"
  | "iotlbSync"
  | "ptMapPages"
  | "ptUnmapPages"
  | "batchFull"
  | "gupCalls"
  | "gupPages"
>;
