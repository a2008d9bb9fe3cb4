/**
 * include/linux/generic_pt/common.h `enum pt_features`: bit numbers shared by every format,
 * then format-private bits from PT_FEAT_FMT_START (6), and their names as the harness prints them.
 */
import type { PtFormat } from "./pt-common.js";

/** `PT_FEAT_DMA_INCOHERENT` */
export const PT_FEAT_DMA_INCOHERENT = 0;
/** `PT_FEAT_FULL_VA` */
export const PT_FEAT_FULL_VA = 1;
/** `PT_FEAT_DYNAMIC_TOP` */
export const PT_FEAT_DYNAMIC_TOP = 2;
/** `PT_FEAT_SIGN_EXTEND` */
export const PT_FEAT_SIGN_EXTEND = 3;
/** `PT_FEAT_FLUSH_RANGE` */
export const PT_FEAT_FLUSH_RANGE = 4;
/** `PT_FEAT_FLUSH_RANGE_NO_GAPS` */
export const PT_FEAT_FLUSH_RANGE_NO_GAPS = 5;
/** `PT_FEAT_FMT_START`: the first format-private bit. */
export const PT_FEAT_FMT_START = 6;

/** `PT_FEAT_AMDV1_ENCRYPT_TABLES` */
export const PT_FEAT_AMDV1_ENCRYPT_TABLES = PT_FEAT_FMT_START;
/** `PT_FEAT_AMDV1_FORCE_COHERENCE` */
export const PT_FEAT_AMDV1_FORCE_COHERENCE = PT_FEAT_FMT_START + 1;
/** `PT_FEAT_VTDSS_FORCE_COHERENCE` */
export const PT_FEAT_VTDSS_FORCE_COHERENCE = PT_FEAT_FMT_START;
/** `PT_FEAT_VTDSS_FORCE_WRITEABLE` */
export const PT_FEAT_VTDSS_FORCE_WRITEABLE = PT_FEAT_FMT_START + 1;
/** `PT_FEAT_X86_64_AMD_ENCRYPT_TABLES` */
export const PT_FEAT_X86_64_AMD_ENCRYPT_TABLES = PT_FEAT_FMT_START;
/** `PT_FEAT_RISCV_SVNAPOT_64K` */
export const PT_FEAT_RISCV_SVNAPOT_64K = PT_FEAT_FMT_START;

/** `enum pt_features` names of the common bits (index = bit number), as the harness prints them. */
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

/** `enum pt_features` name of bit `nr` for a format (`undefined` if the format names none there). */
export function featureName(fmt: PtFormat, nr: number): string | undefined {
  if (nr < PT_FEAT_FMT_START) return COMMON_FEATURE_NAMES[nr];
  return fmt.privateFeatureNames[nr - PT_FEAT_FMT_START];
}

/** `enum pt_features` bit of a name for a format, or -1. */
export function featureBit(fmt: PtFormat, name: string): number {
  const c = COMMON_FEATURE_NAMES.indexOf(name);
  if (c >= 0) return c;
  const p = fmt.privateFeatureNames.indexOf(name);
  return p >= 0 ? PT_FEAT_FMT_START + p : -1;
}

/** `enum pt_features` names of the set bits, `a,b,c` (unnamed bits are skipped). */
export function featureList(fmt: PtFormat, features: number): string {
  const out: string[] = [];
  for (let b = 0; b < 31; b++) {
    if (!(features & (1 << b))) continue;
    const n = featureName(fmt, b);
    if (n) out.push(n);
  }
  return out.join(",");
}
