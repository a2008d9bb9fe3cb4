/**
 * drivers/iommu/ipmmu-vmsa.c: the context and micro-TLB registers the paging side programs
 * (offsets within a context / the uTLB block, and their bits).
 */

/** `IPMMU_CTX_MAX`: contexts the driver can track. */
export const IPMMU_CTX_MAX = 16;
/** `IPMMU_CTX_INVALID`: a micro-TLB bound to no context. */
export const IPMMU_CTX_INVALID = -1;
/** `IPMMU_UTLB_MAX`: micro-TLBs the driver can track. */
export const IPMMU_UTLB_MAX = 64;
/** `IM_NS_ALIAS_OFFSET`: the non-secure register alias (Gen2). */
export const IM_NS_ALIAS_OFFSET = 0x800;

/** `IMCTR`: context control (INTEN bit 2, FLUSH bit 1, MMUEN bit 0). */
export const IMCTR = 0x0000;
export const IMCTR_INTEN = 1 << 2;
export const IMCTR_FLUSH = 1 << 1;
export const IMCTR_MMUEN = 1 << 0;

/** `IMTTBCR`: translation table control. */
export const IMTTBCR = 0x0008;
export const IMTTBCR_EAE = 0x8000_0000;
/** Gen2: inner shareable, outer/inner write-back write-allocate walks (with `cache_snoop`). */
export const IMTTBCR_SH0_INNER_SHAREABLE = 3 << 12;
export const IMTTBCR_ORGN0_WB_WA = 1 << 10;
export const IMTTBCR_IRGN0_WB_WA = 1 << 8;
/** Start level 1: the Gen3 two-bit SL0 encoding and the Gen2 one-bit one. */
export const IMTTBCR_SL0_TWOBIT_LVL_1 = 2 << 6;
export const IMTTBCR_SL0_LVL_1 = 1 << 4;

/** `IMBUSCR` (Gen2): DVM bit 2, BUSSEL bits 1:0 (cleared at context setup). */
export const IMBUSCR = 0x000c;
export const IMBUSCR_DVM = 1 << 2;
export const IMBUSCR_BUSSEL_MASK = 3 << 0;

/** `IMTTLBR0` / `IMTTUBR0`: TTBR0, low and high words. */
export const IMTTLBR0 = 0x0010;
export const IMTTUBR0 = 0x0014;
/** `IMSTR`: status (fault flags). */
export const IMSTR = 0x0020;
/** `IMMAIR0`: memory attributes. */
export const IMMAIR0 = 0x0028;

/** `IMUCTR(n)`: micro-TLB control (TTSEL context in bits 7:4, FLUSH bit 1, MMUEN bit 0). */
export function IMUCTR(n: number): number {
  return n < 32 ? 0x0300 + n * 16 : 0x0600 + (n - 32) * 16;
}
/** `IMUASID(n)`: micro-TLB ASID. */
export function IMUASID(n: number): number {
  return n < 32 ? 0x0308 + n * 16 : 0x0608 + (n - 32) * 16;
}
/** `IMUCTR_TTSEL_MMU(n)`: the context a micro-TLB translates through. */
export function IMUCTR_TTSEL_MMU(n: number): number {
  return n << 4;
}
export const IMUCTR_FLUSH = 1 << 1;
export const IMUCTR_MMUEN = 1 << 0;
