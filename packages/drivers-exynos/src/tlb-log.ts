/**
 * drivers/iommu/exynos-iommu.c: the TLB maintenance register writes of the SysMMU a domain is
 * attached to — `flush_all`, `flush_entry`, and `flush_start` / `flush_end` / `flush_range` of
 * the version's `struct sysmmu_variant` — kept for the IOTLB feed (iotlb.ts). Off until a feed
 * turns it on: until then the unmap and map paths only test a null.
 */
import { BoundedLog } from "@iommu/core";

/** Model-only: the `struct sysmmu_variant` field naming the register a write went to. */
export type ExynosTlbReg = "flush_all" | "flush_entry" | "flush_start" | "flush_end" | "flush_range";

/** Model-only: one `writel()` of the TLB maintenance path. */
export interface ExynosTlbWrite {
  readonly reg: ExynosTlbReg;
  /** The 32-bit value written. */
  readonly value: number;
}

/**
 * Model-only: the last `capacity` TLB maintenance writes of a domain's SysMMU, oldest first,
 * and how many were made in all (a reader detects writes that fell off).
 */
export class ExynosTlbLog extends BoundedLog<ExynosTlbWrite> {
  /** Record one write. */
  record(reg: ExynosTlbReg, value: number): void {
    this.push({ reg, value: value >>> 0 });
  }

  /** The writes kept, oldest first. */
  get writes(): readonly ExynosTlbWrite[] {
    return this.entries;
  }
}
