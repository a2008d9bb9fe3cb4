/**
 * drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.h: SMMUv3 register fields, feature bits and
 * command encodings. Only what the paging side of the driver reads or emits; values are the
 * architected ones.
 */
/** `ARM_SMMU_IDR0` fields. */
export const IDR0_ST_LVL_SHIFT = 27; // GENMASK(28, 27)
/** `IDR0_ST_LVL_2LVL` */
export const IDR0_ST_LVL_2LVL = 1;
/** `IDR0_STALL_MODEL` */
export const IDR0_STALL_MODEL_SHIFT = 24; // GENMASK(25, 24)
/** `IDR0_STALL_MODEL_STALL` */
export const IDR0_STALL_MODEL_STALL = 0;
/** `IDR0_STALL_MODEL_FORCE` */
export const IDR0_STALL_MODEL_FORCE = 2;
/** `IDR0_TTENDIAN` */
export const IDR0_TTENDIAN_SHIFT = 21; // GENMASK(22, 21)
/** `IDR0_TTENDIAN_MIXED` */
export const IDR0_TTENDIAN_MIXED = 0;
/** `IDR0_TTENDIAN_LE` */
export const IDR0_TTENDIAN_LE = 2;
/** `IDR0_TTENDIAN_BE` */
export const IDR0_TTENDIAN_BE = 3;
/** `IDR0_CD2L` */
export const IDR0_CD2L = 1 << 19;
/** `IDR0_VMID16` */
export const IDR0_VMID16 = 1 << 18;
/** `IDR0_PRI` */
export const IDR0_PRI = 1 << 16;
/** `IDR0_SEV` */
export const IDR0_SEV = 1 << 14;
/** `IDR0_MSI` */
export const IDR0_MSI = 1 << 13;
/** `IDR0_ASID16` */
export const IDR0_ASID16 = 1 << 12;
/** `IDR0_ATS` */
export const IDR0_ATS = 1 << 10;
/** `IDR0_HYP` */
export const IDR0_HYP = 1 << 9;
/** `IDR0_HTTU` */
export const IDR0_HTTU_SHIFT = 6; // GENMASK(7, 6)
/** `IDR0_HTTU_ACCESS` */
export const IDR0_HTTU_ACCESS = 1;
/** `IDR0_HTTU_ACCESS_DIRTY` */
export const IDR0_HTTU_ACCESS_DIRTY = 2;
/** `IDR0_COHACC` */
export const IDR0_COHACC = 1 << 4;
/** `IDR0_TTF` */
export const IDR0_TTF_SHIFT = 2; // GENMASK(3, 2)
/** `IDR0_TTF_AARCH64` */
export const IDR0_TTF_AARCH64 = 2;
/** `IDR0_TTF_AARCH32_64` */
export const IDR0_TTF_AARCH32_64 = 3;
/** `IDR0_S1P` */
export const IDR0_S1P = 1 << 1;
/** `IDR0_S2P` */
export const IDR0_S2P = 1 << 0;

/** `ARM_SMMU_IDR1` fields. */
export const IDR1_ATTR_TYPES_OVR = 1 << 27;
/** `IDR1_CMDQS` */
export const IDR1_CMDQS_SHIFT = 21; // GENMASK(25, 21)
/** `IDR1_SSIDSIZE` */
export const IDR1_SSIDSIZE_SHIFT = 6; // GENMASK(10, 6)
/** `IDR1_SIDSIZE` */
export const IDR1_SIDSIZE_SHIFT = 0; // GENMASK(5, 0)

/** `ARM_SMMU_IDR3` fields. */
export const IDR3_FWB = 1 << 8;
/** `IDR3_RIL` */
export const IDR3_RIL = 1 << 10;

/** `ARM_SMMU_IDR5` fields. */
export const IDR5_GRAN64K = 1 << 6;
/** `IDR5_GRAN16K` */
export const IDR5_GRAN16K = 1 << 5;
/** `IDR5_GRAN4K` */
export const IDR5_GRAN4K = 1 << 4;
/** `IDR5_VAX` */
export const IDR5_VAX_SHIFT = 10; // GENMASK(11, 10)
/** `IDR5_VAX_52_BIT` */
export const IDR5_VAX_52_BIT = 1;
/** `IDR5_OAS_MASK` */
export const IDR5_OAS_MASK = 0x7; // GENMASK(2, 0)
/** `IDR5_OAS_*`: IDR5.OAS encoding → output address bits (index = field value). */
export const IDR5_OAS_BITS: readonly number[] = [32, 36, 40, 42, 44, 48, 52];

/** `ARM_SMMU_IIDR` fields and the implementations whose errata the driver knows. */
export const IIDR_IMPLEMENTER_MASK = 0xfff; // GENMASK(11, 0)
/** `IIDR_REVISION` */
export const IIDR_REVISION_SHIFT = 12; // GENMASK(15, 12)
/** `IIDR_VARIANT` */
export const IIDR_VARIANT_SHIFT = 16; // GENMASK(19, 16)
/** `IIDR_PRODUCTID` */
export const IIDR_PRODUCTID_SHIFT = 20; // GENMASK(31, 20)
/** `IIDR_IMPLEMENTER_ARM` */
export const IIDR_IMPLEMENTER_ARM = 0x43b;
/** `IIDR_PRODUCTID_ARM_MMU_600` */
export const IIDR_PRODUCTID_ARM_MMU_600 = 0x483;
/** `IIDR_PRODUCTID_ARM_MMU_700` */
export const IIDR_PRODUCTID_ARM_MMU_700 = 0x487;

/** `ARM_SMMU_FEAT_*` (smmu->features). */
export const ARM_SMMU_FEAT_2_LVL_STRTAB = 1 << 0;
/** `ARM_SMMU_FEAT_2_LVL_CDTAB` */
export const ARM_SMMU_FEAT_2_LVL_CDTAB = 1 << 1;
/** `ARM_SMMU_FEAT_TT_LE` */
export const ARM_SMMU_FEAT_TT_LE = 1 << 2;
/** `ARM_SMMU_FEAT_TT_BE` */
export const ARM_SMMU_FEAT_TT_BE = 1 << 3;
/** `ARM_SMMU_FEAT_PRI` */
export const ARM_SMMU_FEAT_PRI = 1 << 4;
/** `ARM_SMMU_FEAT_ATS` */
export const ARM_SMMU_FEAT_ATS = 1 << 5;
/** `ARM_SMMU_FEAT_SEV` */
export const ARM_SMMU_FEAT_SEV = 1 << 6;
/** `ARM_SMMU_FEAT_MSI` */
export const ARM_SMMU_FEAT_MSI = 1 << 7;
/** `ARM_SMMU_FEAT_COHERENCY` */
export const ARM_SMMU_FEAT_COHERENCY = 1 << 8;
/** `ARM_SMMU_FEAT_TRANS_S1` */
export const ARM_SMMU_FEAT_TRANS_S1 = 1 << 9;
/** `ARM_SMMU_FEAT_TRANS_S2` */
export const ARM_SMMU_FEAT_TRANS_S2 = 1 << 10;
/** `ARM_SMMU_FEAT_STALLS` */
export const ARM_SMMU_FEAT_STALLS = 1 << 11;
/** `ARM_SMMU_FEAT_HYP` */
export const ARM_SMMU_FEAT_HYP = 1 << 12;
/** `ARM_SMMU_FEAT_STALL_FORCE` */
export const ARM_SMMU_FEAT_STALL_FORCE = 1 << 13;
/** `ARM_SMMU_FEAT_VAX` */
export const ARM_SMMU_FEAT_VAX = 1 << 14;
/** `ARM_SMMU_FEAT_RANGE_INV` */
export const ARM_SMMU_FEAT_RANGE_INV = 1 << 15;
/** `ARM_SMMU_FEAT_BTM` */
export const ARM_SMMU_FEAT_BTM = 1 << 16;
/** `ARM_SMMU_FEAT_SVA` */
export const ARM_SMMU_FEAT_SVA = 1 << 17;
/** `ARM_SMMU_FEAT_E2H` */
export const ARM_SMMU_FEAT_E2H = 1 << 18;
/** `ARM_SMMU_FEAT_NESTING` */
export const ARM_SMMU_FEAT_NESTING = 1 << 19;
/** `ARM_SMMU_FEAT_ATTR_TYPES_OVR` */
export const ARM_SMMU_FEAT_ATTR_TYPES_OVR = 1 << 20;
/** `ARM_SMMU_FEAT_HA` */
export const ARM_SMMU_FEAT_HA = 1 << 21;
/** `ARM_SMMU_FEAT_HD` */
export const ARM_SMMU_FEAT_HD = 1 << 22;
/** `ARM_SMMU_FEAT_S2FWB` */
export const ARM_SMMU_FEAT_S2FWB = 1 << 23;

/** `ARM_SMMU_OPT_*` (smmu->options). */
export const ARM_SMMU_OPT_SKIP_PREFETCH = 1 << 0;
/** `ARM_SMMU_OPT_PAGE0_REGS_ONLY` */
export const ARM_SMMU_OPT_PAGE0_REGS_ONLY = 1 << 1;
/** `ARM_SMMU_OPT_MSIPOLL` */
export const ARM_SMMU_OPT_MSIPOLL = 1 << 2;
/** `ARM_SMMU_OPT_CMDQ_FORCE_SYNC` */
export const ARM_SMMU_OPT_CMDQ_FORCE_SYNC = 1 << 3;

/** `CMDQ_OP_TLBI_NH_ALL`: Command opcodes (`CMDQ_OP_*`) the paging side issues. */
export const CMDQ_OP_TLBI_NH_ALL = 0x10;
/** `CMDQ_OP_TLBI_NH_ASID` */
export const CMDQ_OP_TLBI_NH_ASID = 0x11;
/** `CMDQ_OP_TLBI_NH_VA` */
export const CMDQ_OP_TLBI_NH_VA = 0x12;
/** `CMDQ_OP_TLBI_EL2_ALL` */
export const CMDQ_OP_TLBI_EL2_ALL = 0x20;
/** `CMDQ_OP_TLBI_EL2_ASID` */
export const CMDQ_OP_TLBI_EL2_ASID = 0x21;
/** `CMDQ_OP_TLBI_EL2_VA` */
export const CMDQ_OP_TLBI_EL2_VA = 0x22;
/** `CMDQ_OP_TLBI_S12_VMALL` */
export const CMDQ_OP_TLBI_S12_VMALL = 0x28;
/** `CMDQ_OP_TLBI_S2_IPA` */
export const CMDQ_OP_TLBI_S2_IPA = 0x2a;
/** `CMDQ_OP_TLBI_NSNH_ALL` */
export const CMDQ_OP_TLBI_NSNH_ALL = 0x30;
/** `CMDQ_OP_CMD_SYNC` */
export const CMDQ_OP_CMD_SYNC = 0x46;

/** Model-only: the `CMDQ_OP_*` macro names by opcode, for decoded log entries. */
export const CMDQ_OP_NAMES: Readonly<Record<number, string>> = {
  [CMDQ_OP_TLBI_NH_ALL]: "CMD_TLBI_NH_ALL",
  [CMDQ_OP_TLBI_NH_ASID]: "CMD_TLBI_NH_ASID",
  [CMDQ_OP_TLBI_NH_VA]: "CMD_TLBI_NH_VA",
  [CMDQ_OP_TLBI_EL2_ALL]: "CMD_TLBI_EL2_ALL",
  [CMDQ_OP_TLBI_EL2_ASID]: "CMD_TLBI_EL2_ASID",
  [CMDQ_OP_TLBI_EL2_VA]: "CMD_TLBI_EL2_VA",
  [CMDQ_OP_TLBI_S12_VMALL]: "CMD_TLBI_S12_VMALL",
  [CMDQ_OP_TLBI_S2_IPA]: "CMD_TLBI_S2_IPA",
  [CMDQ_OP_TLBI_NSNH_ALL]: "CMD_TLBI_NSNH_ALL",
  [CMDQ_OP_CMD_SYNC]: "CMD_SYNC",
};

/**
 * `CMDQ_TLBI_0_NUM`: Command fields, split per 32-bit word of the 16-byte entry (w0..w3 = dword0 lo/hi,
 * dword1 lo/hi) so encoding stays in 32-bit integer arithmetic.
 */
export const CMDQ_TLBI_0_NUM_SHIFT = 12; // w0 GENMASK(16, 12)
/** `CMDQ_TLBI_RANGE_NUM_MAX` */
export const CMDQ_TLBI_RANGE_NUM_MAX = 31;
/** `CMDQ_TLBI_0_SCALE` */
export const CMDQ_TLBI_0_SCALE_SHIFT = 20; // w0 GENMASK(24, 20)
// VMID is dword0[47:32] = w1[15:0]; ASID is dword0[63:48] = w1[31:16].
/** `CMDQ_TLBI_1_LEAF` */
export const CMDQ_TLBI_1_LEAF = 1 << 0; // w2 bit 0
/** `CMDQ_TLBI_1_TTL` */
export const CMDQ_TLBI_1_TTL_SHIFT = 8; // w2 GENMASK(9, 8)
/** `CMDQ_TLBI_1_TG` */
export const CMDQ_TLBI_1_TG_SHIFT = 10; // w2 GENMASK(11, 10)
/** `CMDQ_SYNC_0_CS` */
export const CMDQ_SYNC_0_CS_SHIFT = 12; // w0 GENMASK(13, 12)
/** `CMDQ_SYNC_0_CS_IRQ` */
export const CMDQ_SYNC_0_CS_IRQ = 1;
/** `CMDQ_SYNC_0_CS_SEV` */
export const CMDQ_SYNC_0_CS_SEV = 2;
/** `CMDQ_SYNC_0_MSH` */
export const CMDQ_SYNC_0_MSH_SHIFT = 22; // w0 GENMASK(23, 22)
/** `CMDQ_SYNC_0_MSIATTR` */
export const CMDQ_SYNC_0_MSIATTR_SHIFT = 24; // w0 GENMASK(27, 24)
/** `ARM_SMMU_SH_ISH` */
export const ARM_SMMU_SH_ISH = 3;
/** `ARM_SMMU_MEMATTR_OIWB` */
export const ARM_SMMU_MEMATTR_OIWB = 0xf;

/** `CMDQ_BATCH_ENTRIES`: Commands per `arm_smmu_cmdq_batch` (BITS_PER_LONG on arm64). */
export const CMDQ_BATCH_ENTRIES = 64;
/** `CMDQ_ENT_DWORDS`: a command is two 64-bit words. */
export const CMDQ_ENT_BYTES = 16;
