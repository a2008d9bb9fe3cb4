/**
 * drivers/iommu/arm/arm-smmu/arm-smmu.h: the SMMUv1/v2 register fields the paging side reads
 * and writes — global ID registers (ID0/ID1/ID2), the global TLB maintenance registers, the
 * context-bank registers used for TLB maintenance, address translation and faults — and the
 * driver's feature bits (`ARM_SMMU_FEAT_*`).
 */

// --- ID0 (global register space 0, offset 0x20) ---
/** `ARM_SMMU_ID0_S1TS`: stage-1 translation supported. */
export const ARM_SMMU_ID0_S1TS = 1 << 30;
/** `ARM_SMMU_ID0_S2TS`: stage-2 translation supported. */
export const ARM_SMMU_ID0_S2TS = 1 << 29;
/** `ARM_SMMU_ID0_NTS`: nested translation supported. */
export const ARM_SMMU_ID0_NTS = 1 << 28;
/** `ARM_SMMU_ID0_SMS`: stream matching (SMRs) rather than indexing. */
export const ARM_SMMU_ID0_SMS = 1 << 27;
/** `ARM_SMMU_ID0_ATOSNS`: address translation operations NOT supported (v2 only). */
export const ARM_SMMU_ID0_ATOSNS = 1 << 26;
/** `ARM_SMMU_ID0_PTFS_NO_AARCH32`: no AArch32 long-descriptor (and no short) format. */
export const ARM_SMMU_ID0_PTFS_NO_AARCH32 = 1 << 25;
/** `ARM_SMMU_ID0_PTFS_NO_AARCH32S`: no AArch32 short-descriptor format. */
export const ARM_SMMU_ID0_PTFS_NO_AARCH32S = 1 << 24;
/** `ARM_SMMU_ID0_CTTW`: coherent translation table walks (the firmware's word wins). */
export const ARM_SMMU_ID0_CTTW = 1 << 14;
/** `ARM_SMMU_ID0_NUMSIDB` GENMASK(12, 9): stream ID bits. */
export const ARM_SMMU_ID0_NUMSIDB_SHIFT = 9;
/** `ARM_SMMU_ID0_EXIDS`: 16-bit extended stream IDs (v2). */
export const ARM_SMMU_ID0_EXIDS = 1 << 8;
/** `ARM_SMMU_ID0_NUMSMRG` GENMASK(7, 0): stream match register groups. */
export const ARM_SMMU_ID0_NUMSMRG_MASK = 0xff;

// --- ID1 (offset 0x24) ---
/** `ARM_SMMU_ID1_PAGESIZE`: 64 KiB register pages (else 4 KiB). */
export const ARM_SMMU_ID1_PAGESIZE = 1 << 31;
/** `ARM_SMMU_ID1_NUMPAGENDXB` GENMASK(30, 28). */
export const ARM_SMMU_ID1_NUMPAGENDXB_SHIFT = 28;
/** `ARM_SMMU_ID1_NUMS2CB` GENMASK(23, 16): stage-2-only context banks. */
export const ARM_SMMU_ID1_NUMS2CB_SHIFT = 16;
/** `ARM_SMMU_ID1_NUMCB` GENMASK(7, 0): context banks. */
export const ARM_SMMU_ID1_NUMCB_MASK = 0xff;

// --- ID2 (offset 0x28) ---
/** `ARM_SMMU_ID2_VMID16`: 16-bit VMIDs. */
export const ARM_SMMU_ID2_VMID16 = 1 << 15;
/** `ARM_SMMU_ID2_PTFS_64K`: AArch64 64 KiB granule. */
export const ARM_SMMU_ID2_PTFS_64K = 1 << 14;
/** `ARM_SMMU_ID2_PTFS_16K`: AArch64 16 KiB granule. */
export const ARM_SMMU_ID2_PTFS_16K = 1 << 13;
/** `ARM_SMMU_ID2_PTFS_4K`: AArch64 4 KiB granule. */
export const ARM_SMMU_ID2_PTFS_4K = 1 << 12;
/** `ARM_SMMU_ID2_UBS` GENMASK(11, 8): upstream bus (stage-1 input) size code. */
export const ARM_SMMU_ID2_UBS_SHIFT = 8;
/** `ARM_SMMU_ID2_OAS` GENMASK(7, 4): stage-2 output size code. */
export const ARM_SMMU_ID2_OAS_SHIFT = 4;
/** `ARM_SMMU_ID2_IAS` GENMASK(3, 0): intermediate (IPA) size code. */
export const ARM_SMMU_ID2_IAS_SHIFT = 0;

// --- Global TLB maintenance (GR0) ---
/** `ARM_SMMU_GR0_TLBIVMID` */
export const ARM_SMMU_GR0_TLBIVMID = 0x64;
/** `ARM_SMMU_GR0_sTLBGSYNC` */
export const ARM_SMMU_GR0_sTLBGSYNC = 0x70;
/** `ARM_SMMU_GR0_sTLBGSTATUS` */
export const ARM_SMMU_GR0_sTLBGSTATUS = 0x74;

// --- Context bank registers ---
/** `ARM_SMMU_CB_SCTLR` */
export const ARM_SMMU_CB_SCTLR = 0x0;
/** `ARM_SMMU_CB_RESUME` */
export const ARM_SMMU_CB_RESUME = 0x8;
/** `ARM_SMMU_CB_TCR2` */
export const ARM_SMMU_CB_TCR2 = 0x10;
/** `ARM_SMMU_CB_TTBR0` */
export const ARM_SMMU_CB_TTBR0 = 0x20;
/** `ARM_SMMU_CB_TTBR1` */
export const ARM_SMMU_CB_TTBR1 = 0x28;
/** `ARM_SMMU_CB_TCR` */
export const ARM_SMMU_CB_TCR = 0x30;
/** `ARM_SMMU_CB_PAR` (64-bit read) */
export const ARM_SMMU_CB_PAR = 0x50;
/** `ARM_SMMU_CB_FSR` */
export const ARM_SMMU_CB_FSR = 0x58;
/** `ARM_SMMU_CB_FAR` */
export const ARM_SMMU_CB_FAR = 0x60;
/** `ARM_SMMU_CB_FSYNR0` */
export const ARM_SMMU_CB_FSYNR0 = 0x68;
/** `ARM_SMMU_CB_S1_TLBIVA` */
export const ARM_SMMU_CB_S1_TLBIVA = 0x600;
/** `ARM_SMMU_CB_S1_TLBIASID` */
export const ARM_SMMU_CB_S1_TLBIASID = 0x610;
/** `ARM_SMMU_CB_S1_TLBIVAL` */
export const ARM_SMMU_CB_S1_TLBIVAL = 0x620;
/** `ARM_SMMU_CB_S2_TLBIIPAS2` */
export const ARM_SMMU_CB_S2_TLBIIPAS2 = 0x630;
/** `ARM_SMMU_CB_S2_TLBIIPAS2L` */
export const ARM_SMMU_CB_S2_TLBIIPAS2L = 0x638;
/** `ARM_SMMU_CB_TLBSYNC` */
export const ARM_SMMU_CB_TLBSYNC = 0x7f0;
/** `ARM_SMMU_CB_TLBSTATUS` */
export const ARM_SMMU_CB_TLBSTATUS = 0x7f4;
/** `ARM_SMMU_CB_ATS1PR`: stage-1 privileged-read address translation operation. */
export const ARM_SMMU_CB_ATS1PR = 0x800;
/** `ARM_SMMU_CB_ATSR`: address translation status. */
export const ARM_SMMU_CB_ATSR = 0x8f0;
/** `ARM_SMMU_CB_ATSR_ACTIVE` */
export const ARM_SMMU_CB_ATSR_ACTIVE = 1 << 0;
/** `ARM_SMMU_CB_PAR_F`: the translation faulted. */
export const ARM_SMMU_CB_PAR_F = 1 << 0;

/** `ARM_SMMU_CB_FSR_*` bits used by the fault path. */
export const ARM_SMMU_CB_FSR_TF = 1 << 1;
/** `ARM_SMMU_CB_FSR_AFF` */
export const ARM_SMMU_CB_FSR_AFF = 1 << 2;
/** `ARM_SMMU_CB_FSR_PF` */
export const ARM_SMMU_CB_FSR_PF = 1 << 3;
/** `ARM_SMMU_CB_FSR_EF` */
export const ARM_SMMU_CB_FSR_EF = 1 << 4;
/** `ARM_SMMU_CB_FSR_TLBMCF` */
export const ARM_SMMU_CB_FSR_TLBMCF = 1 << 5;
/** `ARM_SMMU_CB_FSR_TLBLKF` */
export const ARM_SMMU_CB_FSR_TLBLKF = 1 << 6;
/** `ARM_SMMU_CB_FSR_ASF` */
export const ARM_SMMU_CB_FSR_ASF = 1 << 8;
/** `ARM_SMMU_CB_FSR_UUT` */
export const ARM_SMMU_CB_FSR_UUT = 1 << 9;
/** `ARM_SMMU_CB_FSR_SS`: the faulting transaction is stalled. */
export const ARM_SMMU_CB_FSR_SS = 1 << 30;
/** `ARM_SMMU_CB_FSR_MULTI` */
export const ARM_SMMU_CB_FSR_MULTI = 1 << 31;
/** `ARM_SMMU_CB_FSR_FAULT`: any of the fault bits. */
export const ARM_SMMU_CB_FSR_FAULT =
  (ARM_SMMU_CB_FSR_MULTI |
    ARM_SMMU_CB_FSR_SS |
    ARM_SMMU_CB_FSR_UUT |
    ARM_SMMU_CB_FSR_EF |
    ARM_SMMU_CB_FSR_PF |
    ARM_SMMU_CB_FSR_TF |
    ARM_SMMU_CB_FSR_TLBMCF |
    ARM_SMMU_CB_FSR_TLBLKF |
    ARM_SMMU_CB_FSR_AFF |
    ARM_SMMU_CB_FSR_ASF) >>>
  0;
/** `ARM_SMMU_CB_FSYNR0_WNR`: the faulting access was a write. */
export const ARM_SMMU_CB_FSYNR0_WNR = 1 << 4;
/** `ARM_SMMU_RESUME_TERMINATE` */
export const ARM_SMMU_RESUME_TERMINATE = 1 << 0;

// --- smmu->features ---
/** `ARM_SMMU_FEAT_COHERENT_WALK` */
export const ARM_SMMU_FEAT_COHERENT_WALK = 1 << 0;
/** `ARM_SMMU_FEAT_STREAM_MATCH` */
export const ARM_SMMU_FEAT_STREAM_MATCH = 1 << 1;
/** `ARM_SMMU_FEAT_TRANS_S1` */
export const ARM_SMMU_FEAT_TRANS_S1 = 1 << 2;
/** `ARM_SMMU_FEAT_TRANS_S2` */
export const ARM_SMMU_FEAT_TRANS_S2 = 1 << 3;
/** `ARM_SMMU_FEAT_TRANS_NESTED` */
export const ARM_SMMU_FEAT_TRANS_NESTED = 1 << 4;
/** `ARM_SMMU_FEAT_TRANS_OPS`: ATS1PR/PAR usable (S1TS and, on v2, ATOSNS clear). */
export const ARM_SMMU_FEAT_TRANS_OPS = 1 << 5;
/** `ARM_SMMU_FEAT_VMID16` */
export const ARM_SMMU_FEAT_VMID16 = 1 << 6;
/** `ARM_SMMU_FEAT_FMT_AARCH64_4K` */
export const ARM_SMMU_FEAT_FMT_AARCH64_4K = 1 << 7;
/** `ARM_SMMU_FEAT_FMT_AARCH64_16K` */
export const ARM_SMMU_FEAT_FMT_AARCH64_16K = 1 << 8;
/** `ARM_SMMU_FEAT_FMT_AARCH64_64K` */
export const ARM_SMMU_FEAT_FMT_AARCH64_64K = 1 << 9;
/** `ARM_SMMU_FEAT_FMT_AARCH32_L` */
export const ARM_SMMU_FEAT_FMT_AARCH32_L = 1 << 10;
/** `ARM_SMMU_FEAT_FMT_AARCH32_S` */
export const ARM_SMMU_FEAT_FMT_AARCH32_S = 1 << 11;
/** `ARM_SMMU_FEAT_EXIDS` */
export const ARM_SMMU_FEAT_EXIDS = 1 << 12;

/** `enum arm_smmu_context_fmt`: the descriptor format of a context bank. */
export type ArmSmmuCtxFmt = "none" | "aarch64" | "aarch32-l" | "aarch32-s";
