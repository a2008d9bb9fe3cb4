/**
 * drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.c: `struct arm_smmu_domain` (paging) and the
 * driver's `default_domain_ops`, built on io-pgtable's domain-ops base: every paging op
 * delegates to the domain's io-pgtable, TLB maintenance goes through {@link armSmmuFlushOps}.
 */
import type { IommuDirtyOps, IommuDomainOps, IotlbGather, TableAllocator } from "@iommu/core";
import {
  freeIoPgtableOps,
  IO_PGTABLE_DIRTY_OPS,
  type IoPgtableCfg,
  type IoPgtableDomain,
  ioPgtableDomainOps,
} from "@iommu/io-pgtable";
import type { ArmSmmuV3 } from "./arm-smmu-v3.js";
import { armSmmuIotlbSync, armSmmuTlbInvContext } from "./tlb.js";

/** `enum arm_smmu_domain_stage` for paging domains (`ARM_SMMU_DOMAIN_S1` / `_S2`). */
export type ArmSmmuDomainStage = "s1" | "s2";

/** `struct arm_smmu_domain`, paging side; `pgtblOps` is `smmu_domain->pgtbl_ops` (null once freed). */
export interface ArmSmmuDomain extends IoPgtableDomain {
  /** The SMMU the domain was finalised on (`smmu_domain->smmu`). */
  readonly smmu: ArmSmmuV3;
  stage: ArmSmmuDomainStage;
  /** Allocated with IOMMU_HWPT_ALLOC_NEST_PARENT (a stage-2 parent for nesting). */
  nestParent: boolean;
  /** S1: `cd.asid`; 0 for S2. */
  asid: number;
  /** S2: `s2_cfg.vmid`; 0 for S1. */
  vmid: number;
  /** The io_pgtable_cfg after the format filled it (TTBR/TCR, or VTTBR/VTCR; narrowed sizes). */
  pgtblCfg: Readonly<IoPgtableCfg>;
  /** Where the domain's page-table pages live. */
  readonly allocator: TableAllocator;
  /** iommu_iotlb_sync() bound to this domain, for iommu_iotlb_gather_add_page(). */
  readonly syncGather: (gather: IotlbGather) => void;
}

/**
 * `arm_smmu_dirty_ops`: HTTU keeps dirty state in the PTEs, so tracking is always on and
 * reading goes through the format (io-pgtable's dirty ops).
 */
export const armSmmuDirtyOps: IommuDirtyOps<ArmSmmuDomain> = IO_PGTABLE_DIRTY_OPS;

/**
 * `arm_smmu_ops.default_domain_ops`: io-pgtable's forwarding ops (`arm_smmu_map_pages`,
 * `arm_smmu_unmap_pages` and iova_to_phys_length — the series' only lookup op, the legacy
 * `arm_smmu_iova_to_phys` is gone — with their `if (!ops)` guards) plus the driver's
 * `iotlb_sync`, `flush_iotlb_all` and `free` (`arm_smmu_domain_free_paging`). The kernel has
 * one static table for every SMMUv3; here each {@link ArmSmmuV3} instance owns one, so ops
 * identity (what VFIO compares to reuse a domain) also says "same SMMU instance".
 */
export function createArmSmmuDomainOps(name: string): IommuDomainOps<ArmSmmuDomain> {
  return ioPgtableDomainOps<ArmSmmuDomain>(name, {
    iotlbSync: armSmmuIotlbSync,
    flushIotlbAll: armSmmuTlbInvContext,
    free: armSmmuDomainFreePaging,
  });
}

/** `arm_smmu_domain_free_paging`: tear down the table (flushing the context), release the ASID/VMID. */
function armSmmuDomainFreePaging(d: ArmSmmuDomain): void {
  const ops = d.pgtblOps;
  if (!ops) return;
  freeIoPgtableOps(ops);
  d.pgtblOps = null;
  if (d.stage === "s1") d.smmu.asids.free(d.asid);
  else if (d.vmid) d.smmu.vmids.free(d.vmid);
}
