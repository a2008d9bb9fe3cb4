// drivers/vfio/vfio_iommu_type1.c: the IOMMU core entry points type1 calls, counted at the container.
import { CountedIommuCalls, type IommuDomain, type IotlbGather } from "@iommu/core";
import type { VfioCounters } from "./counters.js";

/**
 * The IOMMU core entry points type1 uses, counted into the container's {@link VfioCounters}
 * (core's `CountedIommuCalls`, with the unroll unmap of a failing `iommu_map()` counted and
 * `iommu_unmap_fast()` also counted in `unmapFast`).
 */
export class IommuCalls extends CountedIommuCalls<VfioCounters> {
  constructor(counters: VfioCounters) {
    super(counters, { countMapUnroll: true });
  }

  /** `iommu_unmap_fast()`: bytes unmapped into `gather`; the caller syncs. */
  override unmapFast(domain: IommuDomain, iova: number, size: number, gather: IotlbGather): number {
    this.counters.unmapFast++;
    return super.unmapFast(domain, iova, size, gather);
  }
}
