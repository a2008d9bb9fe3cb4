/**
 * `enum pt_features` (include/linux/generic_pt/common.h): bit numbers shared by every format,
 * then format-private bits from PT_FEAT_FMT_START (6).
 */
export const PT_FEAT_DMA_INCOHERENT = 0;
export const PT_FEAT_FULL_VA = 1;
export const PT_FEAT_DYNAMIC_TOP = 2;
export const PT_FEAT_SIGN_EXTEND = 3;
export const PT_FEAT_FLUSH_RANGE = 4;
export const PT_FEAT_FLUSH_RANGE_NO_GAPS = 5;
export const PT_FEAT_FMT_START = 6;

export const PT_FEAT_AMDV1_ENCRYPT_TABLES = PT_FEAT_FMT_START;
export const PT_FEAT_AMDV1_FORCE_COHERENCE = PT_FEAT_FMT_START + 1;
export const PT_FEAT_VTDSS_FORCE_COHERENCE = PT_FEAT_FMT_START;
export const PT_FEAT_VTDSS_FORCE_WRITEABLE = PT_FEAT_FMT_START + 1;
export const PT_FEAT_X86_64_AMD_ENCRYPT_TABLES = PT_FEAT_FMT_START;
export const PT_FEAT_RISCV_SVNAPOT_64K = PT_FEAT_FMT_START;

/** Names of the common feature bits, index = bit number. */
export const COMMON_FEATURE_NAMES: readonly string[] = [
  "dma_incoherent",
  "full_va",
  "dynamic_top",
  "sign_extend",
  "flush_range",
  "flush_range_no_gaps",
];

/** `BIT(nr)` for feature masks (all feature numbers are < 31). */
export function bit(nr: number): number {
  return 1 << nr;
}
