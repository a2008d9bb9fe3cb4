/**
 * drivers/iommu/arm/arm-smmu/: @iommu/drivers-arm-smmu's public surface — the SMMUv1/v2 driver
 * (arm-smmu.c) with its ID-register probe, context decisions, TLB maintenance and hardware
 * translation; qcom_iommu.c; and the Qualcomm fault-debug path (arm-smmu-qcom-debug.c).
 */

// The SMMU, its domains and masters.
export { ArmSmmu, ArmSmmuMaster, type ArmSmmuOptions } from "./arm-smmu.js";
// The hardware model: registers, counts, ATS walker result.
export { type AtsResult, type AtsWalkRegs, atsWalk } from "./ats-walk.js";
// Context decisions (stage, context format, io-pgtable fmt, ias/oas).
export {
  type ArmSmmuContextCfg,
  type ArmSmmuDomainStage,
  type ArmSmmuKernel,
  armSmmuContextCfg,
} from "./context.js";
export { ArmSmmuContextBank, ArmSmmuHw, type ArmSmmuRegWrite, ArmSmmuTlbiCounts } from "./context-bank.js";
// Context faults.
export {
  type ArmSmmuContextFaultInfo,
  armSmmuContextFault,
  armSmmuInjectContextFault,
  armSmmuReadContextFaultInfo,
  type ContextFaultOutcome,
  type ContextFaultSpec,
  IOMMU_FAULT_READ,
  IOMMU_FAULT_WRITE,
  noFaultHandler,
  type ReportIommuFault,
} from "./context-fault.js";
export type { ArmSmmuCfg, ArmSmmuDomain } from "./domain.js";
// ID registers and the probe.
export {
  type ArmSmmuAddrBits,
  type ArmSmmuCaps,
  type ArmSmmuGranule,
  type ArmSmmuHwConfig,
  type ArmSmmuIdRegs,
  type ArmSmmuProbeOptions,
  type ArmSmmuVersion,
  armSmmuDeviceCfgProbe,
  armSmmuIdSizeToBits,
  encodeIdRegs,
} from "./hw.js";
// Model-only: the TLB maintenance writes applied to the core's IOTLB model.
export {
  type ArmSmmuIotlbFeedOptions,
  armSmmuDecodeWrite,
  armSmmuIotlbFeed,
  armSmmuIotlbModel,
  armSmmuIotlbTag,
} from "./iotlb.js";
// Qualcomm: the fault-debug path and qcom_iommu.
export { type QcomContextFaultOutcome, QcomSmmuDebug, QcomTbu, type QcomTbuOptions } from "./qcom-debug.js";
export {
  QcomIommu,
  type QcomIommuDomain,
  QcomIommuMaster,
  type QcomIommuOptions,
  qcomFlushOps,
} from "./qcom-iommu.js";
// Register offsets and fields, feature bits.
export {
  ARM_SMMU_CB_ATS1PR,
  ARM_SMMU_CB_ATSR,
  ARM_SMMU_CB_ATSR_ACTIVE,
  ARM_SMMU_CB_FAR,
  ARM_SMMU_CB_FSR,
  ARM_SMMU_CB_FSR_AFF,
  ARM_SMMU_CB_FSR_ASF,
  ARM_SMMU_CB_FSR_EF,
  ARM_SMMU_CB_FSR_FAULT,
  ARM_SMMU_CB_FSR_MULTI,
  ARM_SMMU_CB_FSR_PF,
  ARM_SMMU_CB_FSR_SS,
  ARM_SMMU_CB_FSR_TF,
  ARM_SMMU_CB_FSR_TLBLKF,
  ARM_SMMU_CB_FSR_TLBMCF,
  ARM_SMMU_CB_FSR_UUT,
  ARM_SMMU_CB_FSYNR0,
  ARM_SMMU_CB_FSYNR0_WNR,
  ARM_SMMU_CB_PAR,
  ARM_SMMU_CB_PAR_F,
  ARM_SMMU_CB_RESUME,
  ARM_SMMU_CB_S1_TLBIASID,
  ARM_SMMU_CB_S1_TLBIVA,
  ARM_SMMU_CB_S1_TLBIVAL,
  ARM_SMMU_CB_S2_TLBIIPAS2,
  ARM_SMMU_CB_S2_TLBIIPAS2L,
  ARM_SMMU_CB_SCTLR,
  ARM_SMMU_CB_TCR,
  ARM_SMMU_CB_TCR2,
  ARM_SMMU_CB_TLBSTATUS,
  ARM_SMMU_CB_TLBSYNC,
  ARM_SMMU_CB_TTBR0,
  ARM_SMMU_CB_TTBR1,
  ARM_SMMU_FEAT_COHERENT_WALK,
  ARM_SMMU_FEAT_EXIDS,
  ARM_SMMU_FEAT_FMT_AARCH32_L,
  ARM_SMMU_FEAT_FMT_AARCH32_S,
  ARM_SMMU_FEAT_FMT_AARCH64_4K,
  ARM_SMMU_FEAT_FMT_AARCH64_16K,
  ARM_SMMU_FEAT_FMT_AARCH64_64K,
  ARM_SMMU_FEAT_STREAM_MATCH,
  ARM_SMMU_FEAT_TRANS_NESTED,
  ARM_SMMU_FEAT_TRANS_OPS,
  ARM_SMMU_FEAT_TRANS_S1,
  ARM_SMMU_FEAT_TRANS_S2,
  ARM_SMMU_FEAT_VMID16,
  ARM_SMMU_GR0_sTLBGSTATUS,
  ARM_SMMU_GR0_sTLBGSYNC,
  ARM_SMMU_GR0_TLBIVMID,
  ARM_SMMU_ID0_ATOSNS,
  ARM_SMMU_ID0_CTTW,
  ARM_SMMU_ID0_EXIDS,
  ARM_SMMU_ID0_NTS,
  ARM_SMMU_ID0_NUMSIDB_SHIFT,
  ARM_SMMU_ID0_NUMSMRG_MASK,
  ARM_SMMU_ID0_PTFS_NO_AARCH32,
  ARM_SMMU_ID0_PTFS_NO_AARCH32S,
  ARM_SMMU_ID0_S1TS,
  ARM_SMMU_ID0_S2TS,
  ARM_SMMU_ID0_SMS,
  ARM_SMMU_ID1_NUMCB_MASK,
  ARM_SMMU_ID1_NUMPAGENDXB_SHIFT,
  ARM_SMMU_ID1_NUMS2CB_SHIFT,
  ARM_SMMU_ID1_PAGESIZE,
  ARM_SMMU_ID2_IAS_SHIFT,
  ARM_SMMU_ID2_OAS_SHIFT,
  ARM_SMMU_ID2_PTFS_4K,
  ARM_SMMU_ID2_PTFS_16K,
  ARM_SMMU_ID2_PTFS_64K,
  ARM_SMMU_ID2_UBS_SHIFT,
  ARM_SMMU_ID2_VMID16,
  ARM_SMMU_RESUME_TERMINATE,
  type ArmSmmuCtxFmt,
} from "./regs.js";
export {
  armSmmuFlushIotlbAll,
  armSmmuIotlbSync,
  armSmmuS1TlbOps,
  armSmmuS2TlbOpsV1,
  armSmmuS2TlbOpsV2,
} from "./tlb.js";
