/**
 * drivers/iommu/msm_iommu_hw-8xxx.h: the context-bank registers and fields the paging side
 * of msm_iommu uses — TLB invalidation (CTX_TLBIALL, TLBIVA), the hardware V2P translation
 * (V2PPR in, PAR out) and the ASID in CONTEXTIDR. Offsets are within a context bank
 * (bank n at `base + (n << CTX_SHIFT)`).
 */

/** `CTX_SHIFT`: context banks are 4 KiB apart. */
export const CTX_SHIFT = 12;

/** `SCTLR`: Context bank register offsets. */
export const SCTLR = 0x000;
/** `CONTEXTIDR` */
export const CONTEXTIDR = 0x008;
/** `TTBR0` */
export const TTBR0 = 0x010;
/** `TTBCR` */
export const TTBCR = 0x018;
/** `PAR`: the result of a V2P translation. */
export const PAR = 0x01c;
/** `PRRR` */
export const PRRR = 0x034;
/** `NMRR` */
export const NMRR = 0x038;
/** `CTX_TLBIALL` */
export const CTX_TLBIALL = 0x800;
/** `TLBIVA` */
export const TLBIVA = 0x808;
/** `V2PPR`: privileged-read V2P request. */
export const V2PPR = 0x810;

/** `M` (SCTLR bit 0): the context's MMU is on. */
export const SCTLR_M = 1 << 0;
/** `TRE` (SCTLR bit 1): TEX remap. */
export const SCTLR_TRE = 1 << 1;
/** `AFE` (SCTLR bit 2): AP[0] is an access flag. */
export const SCTLR_AFE = 1 << 2;

/** `CONTEXTIDR_ASID` (bits 7:0): the ASID TLB entries of the context are tagged with. */
export const CONTEXTIDR_ASID_MASK = 0xff;

/** `TLBIVA_VA` (bits 31:12) of a TLBIVA write; its bits 7:0 carry the ASID. */
export const TLBIVA_VA = 0xffff_f000;
/** `V2Pxx_VA` (bits 31:12) of a V2P request. */
export const V2PXX_VA = 0xffff_f000;

/** `FAULT` (PAR bit 0): the translation faulted; the fault fields below are then in effect. */
export const PAR_FAULT = 1 << 0;
/** `FAULT_TF`: translation fault. */
export const PAR_FAULT_TF = 1 << 1;
/** `FAULT_AFF`: access flag fault. */
export const PAR_FAULT_AFF = 1 << 2;
/** `PAR_NOFAULT_SS` (bit 1, no fault): the translation came from a supersection. */
export const PAR_NOFAULT_SS = 1 << 1;
/** `PAR_NOFAULT_NS` (bit 9, no fault) */
export const PAR_NOFAULT_NS = 1 << 9;
/** `PAR_NPFAULT_PA` (bits 31:12, no fault): the output address. */
export const PAR_NOFAULT_PA = 0xffff_f000;
