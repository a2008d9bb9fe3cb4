/**
 * drivers/iommu/sun50i-iommu.c: the register accesses of the TLB and PTW-cache maintenance —
 * `sun50i_iommu_flush_all_tlb()` (IOMMU_TLB_FLUSH_REG), `sun50i_iommu_zap_iova()`
 * (IOMMU_TLB_IVLD_ADDR / _ADDR_MASK / _ENABLE_REG), `sun50i_iommu_zap_ptw_cache()`
 * (IOMMU_PC_IVLD_ADDR / _ENABLE_REG) and the `readl_poll_timeout_atomic()` that waits for
 * each to complete — kept for the IOTLB feed (iotlb.ts). Off until a feed turns it on: until
 * then the sync paths only test a null.
 */
import { BoundedLog } from "@iommu/core";

/** `IOMMU_TLB_FLUSH_REG` */
export const IOMMU_TLB_FLUSH_REG = 0x080;
/** `IOMMU_TLB_FLUSH_PTW_CACHE` */
export const IOMMU_TLB_FLUSH_PTW_CACHE = 1 << 17;
/** `IOMMU_TLB_FLUSH_MACRO_TLB` */
export const IOMMU_TLB_FLUSH_MACRO_TLB = 1 << 16;
/** `IOMMU_TLB_FLUSH_MICRO_TLB(0..5)`, all six micro TLBs. */
export const IOMMU_TLB_FLUSH_MICRO_TLBS = 0x3f;
/** `IOMMU_TLB_IVLD_ADDR_REG` */
export const IOMMU_TLB_IVLD_ADDR_REG = 0x090;
/** `IOMMU_TLB_IVLD_ADDR_MASK_REG` */
export const IOMMU_TLB_IVLD_ADDR_MASK_REG = 0x094;
/** `IOMMU_TLB_IVLD_ENABLE_REG` */
export const IOMMU_TLB_IVLD_ENABLE_REG = 0x098;
/** `IOMMU_PC_IVLD_ADDR_REG` */
export const IOMMU_PC_IVLD_ADDR_REG = 0x0a0;
/** `IOMMU_PC_IVLD_ENABLE_REG` */
export const IOMMU_PC_IVLD_ENABLE_REG = 0x0a8;

/**
 * Model-only: one register access of the maintenance path — a write, or (`poll`) the
 * `readl_poll_timeout_atomic()` that returns once the register reads 0, the operation done.
 */
export interface Sun50iTlbAccess {
  readonly reg: number;
  /** The 32-bit value written (0 for a poll). */
  readonly value: number;
  readonly poll: boolean;
}

/**
 * Model-only: the last `capacity` maintenance accesses of a domain's IOMMU, oldest first, and
 * how many were made in all (a reader detects accesses that fell off).
 */
export class Sun50iTlbLog extends BoundedLog<Sun50iTlbAccess> {
  /** Record a write of `value` to `reg`. */
  write(reg: number, value: number): void {
    this.push({ reg, value: value >>> 0, poll: false });
  }

  /** Record the poll of `reg` until it reads 0. */
  poll(reg: number): void {
    this.push({ reg, value: 0, poll: true });
  }

  /** The accesses kept, oldest first. */
  get accesses(): readonly Sun50iTlbAccess[] {
    return this.entries;
  }
}
