import {
  bit,
  COMMON_FEATURE_NAMES,
  PT_FEAT_AMDV1_ENCRYPT_TABLES,
  PT_FEAT_AMDV1_FORCE_COHERENCE,
  PT_FEAT_DYNAMIC_TOP,
  PT_FEAT_FLUSH_RANGE,
  PT_FEAT_FMT_START,
  PT_FEAT_RISCV_SVNAPOT_64K,
  PT_FEAT_SIGN_EXTEND,
} from "../features.js";
import type { PtFormat } from "../format.js";
import { AMDV1 } from "./amdv1.js";
import { RISCV } from "./riscv.js";
import { VTDSS } from "./vtdss.js";
import { X86_64 } from "./x86-64.js";

export { AMDV1, RISCV, VTDSS, X86_64 };

export type PtFormatName = "amdv1" | "vtdss" | "x86_64" | "riscv";

export const PT_FORMATS: Readonly<Record<PtFormatName, PtFormat>> = {
  amdv1: AMDV1,
  vtdss: VTDSS,
  x86_64: X86_64,
  riscv: RISCV,
};

/** The defaults the drivers (and the reference harness) use for each format. */
export interface PtFormatDefaults {
  features: number;
  vaBits: number;
  oaBits: number;
  level?: number;
}

export const PT_FORMAT_DEFAULTS: Readonly<Record<PtFormatName, PtFormatDefaults>> = {
  amdv1: {
    features:
      bit(PT_FEAT_DYNAMIC_TOP) |
      bit(PT_FEAT_AMDV1_ENCRYPT_TABLES) |
      bit(PT_FEAT_AMDV1_FORCE_COHERENCE) |
      bit(PT_FEAT_FLUSH_RANGE),
    vaBits: 64,
    oaBits: 52,
    level: 2,
  },
  vtdss: { features: bit(PT_FEAT_FLUSH_RANGE), vaBits: 48, oaBits: 52 },
  x86_64: { features: bit(PT_FEAT_SIGN_EXTEND) | bit(PT_FEAT_FLUSH_RANGE), vaBits: 48, oaBits: 52 },
  riscv: {
    features: bit(PT_FEAT_SIGN_EXTEND) | bit(PT_FEAT_FLUSH_RANGE) | bit(PT_FEAT_RISCV_SVNAPOT_64K),
    vaBits: 48,
    oaBits: 56,
  },
};

/** Name of feature bit `nr` for a format (`undefined` if the format names none there). */
export function featureName(fmt: PtFormat, nr: number): string | undefined {
  if (nr < PT_FEAT_FMT_START) return COMMON_FEATURE_NAMES[nr];
  return fmt.privateFeatureNames[nr - PT_FEAT_FMT_START];
}

/** Feature bit of a name for a format, or -1. */
export function featureBit(fmt: PtFormat, name: string): number {
  const c = COMMON_FEATURE_NAMES.indexOf(name);
  if (c >= 0) return c;
  const p = fmt.privateFeatureNames.indexOf(name);
  return p >= 0 ? PT_FEAT_FMT_START + p : -1;
}

/** `a,b,c` names of the set bits (unnamed bits are skipped). */
export function featureList(fmt: PtFormat, features: number): string {
  const out: string[] = [];
  for (let b = 0; b < 31; b++) {
    if (!(features & (1 << b))) continue;
    const n = featureName(fmt, b);
    if (n) out.push(n);
  }
  return out.join(",");
}
