/**
 * drivers/iommu/arm/arm-smmu-v3/: @iommu/drivers-arm-smmu-v3's public surface — the SMMU
 * instance (an IommuDriver), its paging domains, the descriptors built from them, and the
 * command queue tests and tools inspect.
 */

// The driver instance and its domains.
export { ArmSmmuV3, type ArmSmmuV3Options } from "./arm-smmu-v3.js";
// The command queue as the invalidation code fills it.
export type { ArmSmmuCmdq, ArmSmmuCmdqOptions, CmdqEntry, TlbiCmd } from "./cmdq.js";
// Descriptors (CD / STE) of a domain.
export { armSmmuMakeS1Cd, armSmmuMakeS2DomainSte, type MasterOptions } from "./descriptors.js";
export type { ArmSmmuDomain, ArmSmmuDomainStage } from "./domain.js";
// The hardware description and the probe.
export {
  type ArmSmmuV3Caps,
  type ArmSmmuV3HwConfig,
  type ArmSmmuV3Regs,
  encodeIdRegs,
  probeHw,
  type SmmuGranule,
} from "./hw.js";
export { IdAllocator } from "./id-alloc.js";
// Model-only: the queue's TLBI commands applied to the core's IOTLB model.
export {
  type ArmSmmuV3IotlbFeedOptions,
  armSmmuV3DecodeTlbi,
  armSmmuV3IotlbFeed,
  armSmmuV3IotlbModel,
  armSmmuV3IotlbTag,
} from "./iotlb.js";

// What `smmu.features`, `smmu.options` and `smmu.cmdq.count()` are read with.
export {
  ARM_SMMU_FEAT_2_LVL_CDTAB,
  ARM_SMMU_FEAT_2_LVL_STRTAB,
  ARM_SMMU_FEAT_ATS,
  ARM_SMMU_FEAT_ATTR_TYPES_OVR,
  ARM_SMMU_FEAT_BTM,
  ARM_SMMU_FEAT_COHERENCY,
  ARM_SMMU_FEAT_E2H,
  ARM_SMMU_FEAT_HA,
  ARM_SMMU_FEAT_HD,
  ARM_SMMU_FEAT_HYP,
  ARM_SMMU_FEAT_MSI,
  ARM_SMMU_FEAT_NESTING,
  ARM_SMMU_FEAT_PRI,
  ARM_SMMU_FEAT_RANGE_INV,
  ARM_SMMU_FEAT_S2FWB,
  ARM_SMMU_FEAT_SEV,
  ARM_SMMU_FEAT_STALL_FORCE,
  ARM_SMMU_FEAT_STALLS,
  ARM_SMMU_FEAT_SVA,
  ARM_SMMU_FEAT_TRANS_S1,
  ARM_SMMU_FEAT_TRANS_S2,
  ARM_SMMU_FEAT_TT_BE,
  ARM_SMMU_FEAT_TT_LE,
  ARM_SMMU_FEAT_VAX,
  ARM_SMMU_OPT_CMDQ_FORCE_SYNC,
  ARM_SMMU_OPT_MSIPOLL,
  ARM_SMMU_OPT_PAGE0_REGS_ONLY,
  ARM_SMMU_OPT_SKIP_PREFETCH,
  CMDQ_OP_CMD_SYNC,
  CMDQ_OP_TLBI_EL2_ALL,
  CMDQ_OP_TLBI_EL2_ASID,
  CMDQ_OP_TLBI_EL2_VA,
  CMDQ_OP_TLBI_NH_ALL,
  CMDQ_OP_TLBI_NH_ASID,
  CMDQ_OP_TLBI_NH_VA,
  CMDQ_OP_TLBI_NSNH_ALL,
  CMDQ_OP_TLBI_S2_IPA,
  CMDQ_OP_TLBI_S12_VMALL,
} from "./regs.js";
