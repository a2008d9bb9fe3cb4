/**
 * `struct arm_smmu_domain` (paging) and the driver's `default_domain_ops`: every paging op
 * delegates to the domain's io-pgtable, TLB maintenance goes through {@link armSmmuFlushOps}.
 */
import {
  type Addr,
  ffs,
  type IommuDirtyBitmap,
  type IommuDirtyOps,
  type IommuDomain,
  type IommuDomainOps,
  type IotlbGather,
  negErrno,
  type PhysLength,
  type SizeOut,
  type TableAllocator,
} from "@iommu/core";
import { freeIoPgtableOps, type IoPgtableCfg, type IoPgtableOps } from "@iommu/io-pgtable";
import type { ArmSmmuV3 } from "./arm-smmu-v3.js";
import { armSmmuIotlbSync, armSmmuTlbInvContext } from "./tlb.js";

/** `enum arm_smmu_domain_stage` for paging domains. */
export type ArmSmmuDomainStage = "s1" | "s2";

export interface ArmSmmuDomain extends IommuDomain {
  /** The SMMU the domain was finalised on (`smmu_domain->smmu`). */
  readonly smmu: ArmSmmuV3;
  stage: ArmSmmuDomainStage;
  /** Allocated with IOMMU_HWPT_ALLOC_NEST_PARENT (a stage-2 parent for nesting). */
  nestParent: boolean;
  /** S1: `cd.asid`; 0 for S2. */
  asid: number;
  /** S2: `s2_cfg.vmid`; 0 for S1. */
  vmid: number;
  /** `smmu_domain->pgtbl_ops`; null once freed. */
  pgtblOps: IoPgtableOps | null;
  /** The io_pgtable_cfg after the format filled it (TTBR/TCR, or VTTBR/VTCR; narrowed sizes). */
  pgtblCfg: Readonly<IoPgtableCfg>;
  /** Where the domain's page-table pages live. */
  readonly allocator: TableAllocator;
  /** iommu_iotlb_sync() bound to this domain, for iommu_iotlb_gather_add_page(). */
  readonly syncGather: (gather: IotlbGather) => void;
}

const ENODEV = negErrno("ENODEV");

/** `arm_smmu_dirty_ops`: HTTU keeps dirty state in the PTEs; tracking is always on. */
export const armSmmuDirtyOps: IommuDirtyOps<ArmSmmuDomain> = {
  setDirtyTracking(): number {
    return 0;
  },
  readAndClearDirty(d, iova, size, flags, dirty: IommuDirtyBitmap): number {
    const ops = d.pgtblOps;
    if (!ops?.readAndClearDirty) return negErrno("EOPNOTSUPP");
    return ops.readAndClearDirty(iova, size, flags, dirty);
  },
};

/**
 * Build a `default_domain_ops` table. The kernel has one static table for every SMMUv3;
 * here each {@link ArmSmmuV3} instance owns one, so ops identity (what VFIO compares to
 * reuse a domain) also says "same SMMU instance".
 */
export function createArmSmmuDomainOps(name: string): IommuDomainOps<ArmSmmuDomain> {
  return {
    name,
    /** `arm_smmu_map_pages` */
    mapPages(d, iova: Addr, paddr: Addr, pgsize, pgcount, prot, gfp, mapped: SizeOut): number {
      const ops = d.pgtblOps;
      if (!ops) return ENODEV;
      return ops.mapPages(iova, paddr, pgsize, pgcount, prot, gfp, mapped);
    },
    /** `arm_smmu_unmap_pages` */
    unmapPages(d, iova: Addr, pgsize, pgcount, gather): number {
      const ops = d.pgtblOps;
      if (!ops) return 0;
      return ops.unmapPages(iova, pgsize, pgcount, gather);
    },
    /** `iova_to_phys_length` of the series: the io-pgtable walk reports the leaf size. */
    iovaToPhysLength(d, iova: Addr, out: PhysLength): void {
      const ops = d.pgtblOps;
      if (!ops) {
        out.setUnmapped(2 ** ffs(d.pgsizeBitmap));
        return;
      }
      ops.iovaToPhysLength(iova, out);
    },
    /** `arm_smmu_iova_to_phys` (legacy; kept while callers migrate). */
    iovaToPhys(d, iova: Addr): Addr {
      const ops = d.pgtblOps;
      if (!ops) return 0;
      return ops.iovaToPhys(iova);
    },
    /** `arm_smmu_iotlb_sync` */
    iotlbSync(d, gather): void {
      armSmmuIotlbSync(d, gather);
    },
    /** `arm_smmu_flush_iotlb_all` */
    flushIotlbAll(d): void {
      armSmmuTlbInvContext(d);
    },
    /** `arm_smmu_domain_free_paging`: tear down the table (flushing the context), release the ASID/VMID. */
    free(d): void {
      const ops = d.pgtblOps;
      if (!ops) return;
      freeIoPgtableOps(ops);
      d.pgtblOps = null;
      if (d.stage === "s1") d.smmu.asids.free(d.asid);
      else if (d.vmid) d.smmu.vmids.free(d.vmid);
    },
  };
}
