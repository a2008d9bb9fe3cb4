/**
 * drivers/iommu/sprd-iommu.c: the writes of all-ones to `SPRD_EX_UPDATE` / `SPRD_VAU_UPDATE`
 * that clear the IOMMU's TLB (`sprd_iommu_sync_map()`, also behind `sprd_iommu_sync()`), kept
 * for the IOTLB feed (iotlb.ts). Off until a feed turns it on: until then the sync paths only
 * test a null.
 */
import { BoundedLog } from "@iommu/core";

/** Model-only: one `sprd_iommu_write()` of the TLB-clear path. */
export interface SprdTlbWrite {
  /** Register offset (`SPRD_EX_UPDATE` or `SPRD_VAU_UPDATE` of the domain's version). */
  readonly reg: number;
  /** The 32-bit value written. */
  readonly value: number;
}

/**
 * Model-only: the last `capacity` TLB-clear writes of a domain's IOMMU, oldest first, and how
 * many were made in all (a reader detects writes that fell off).
 */
export class SprdTlbLog extends BoundedLog<SprdTlbWrite> {
  /** Record one write. */
  record(reg: number, value: number): void {
    this.push({ reg, value: value >>> 0 });
  }

  /** The writes kept, oldest first. */
  get writes(): readonly SprdTlbWrite[] {
    return this.entries;
  }
}
