/**
 * drivers/iommu/msm_iommu.c: @iommu/drivers-msm's public surface — the MSM IOMMU (an
 * IommuDriver with its context banks and master), its paging domains on ARM_V7S, the
 * hardware V2P translation, and the register fields it works with.
 */

// The IOTLB model's feed (issue 17): TLBIVA / CTX_TLBIALL as the context bank applies them.
export {
  type MsmIotlbFeedOptions,
  type MsmTlbWrite,
  msmIotlbFeed,
  msmIotlbModel,
  msmIotlbTag,
} from "./iotlb.js";
export { type MsmLengthMode, type MsmPriv, msmIommuHwTranslate } from "./msm-domain.js";
// The IOMMU and its domains.
export {
  MSM_IOMMU_PGSIZES,
  MSM_IOMMU_PGTABLE_CFG,
  MsmContextBank,
  type MsmDomainAllocOptions,
  MsmIommu,
  type MsmIommuMaster,
  type MsmIommuOptions,
  type MsmTlbEvent,
  type MsmTlbSink,
} from "./msm-iommu.js";
// Registers (msm_iommu_hw-8xxx.h) and the hardware table walk behind V2PPR.
export {
  CONTEXTIDR_ASID_MASK,
  CTX_TLBIALL,
  PAR,
  PAR_FAULT,
  PAR_FAULT_AFF,
  PAR_FAULT_TF,
  PAR_NOFAULT_NS,
  PAR_NOFAULT_PA,
  PAR_NOFAULT_SS,
  SCTLR_AFE,
  SCTLR_M,
  SCTLR_TRE,
  TLBIVA,
  TLBIVA_VA,
  V2PPR,
  V2PXX_VA,
} from "./regs.js";
export { type MsmTlbivaKind, msmIommuFlushOps, msmTlbivaCount } from "./tlb.js";
export { msmV2pTranslate } from "./v2p.js";
