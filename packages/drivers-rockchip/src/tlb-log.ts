/**
 * drivers/iommu/rockchip-iommu.c: the IOTLB shootdowns `rk_iommu_zap_lines()` writes to
 * RK_MMU_ZAP_ONE_LINE (one per 4 KiB page of the range, per MMU of the IOMMU: the model has
 * one), kept for the IOTLB feed (iotlb.ts). Off until a feed turns it on: until then the map
 * and unmap paths only test a null.
 */
import { BoundedLog } from "@iommu/core";

/** `RK_MMU_ZAP_ONE_LINE`: the register offset of the one-line shootdown. */
export const RK_MMU_ZAP_ONE_LINE = 0x10;

/** Model-only: one `rk_iommu_write()` of the shootdown path. */
export interface RockchipTlbWrite {
  /** Register offset (RK_MMU_ZAP_ONE_LINE). */
  readonly reg: number;
  /** The 32-bit value written: the IOVA to shoot down. */
  readonly value: number;
}

/**
 * Model-only: the last `capacity` shootdown writes of a domain's IOMMU, oldest first, and how
 * many were made in all (a reader detects writes that fell off).
 */
export class RockchipTlbLog extends BoundedLog<RockchipTlbWrite> {
  /** Record one write. */
  record(reg: number, value: number): void {
    this.push({ reg, value: value >>> 0 });
  }

  /** The writes kept, oldest first. */
  get writes(): readonly RockchipTlbWrite[] {
    return this.entries;
  }
}
