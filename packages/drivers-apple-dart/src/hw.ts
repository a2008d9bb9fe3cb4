/**
 * drivers/iommu/apple-dart.c: the SoC variants (`struct apple_dart_hw`: apple_dart_hw_t8103,
 * _t8103_usb4, _t6000, _t8110) and what `apple_dart_probe()` reads from the PARAMS registers.
 * A friendly description is encoded into register values ({@link encodeDartParams}) and the
 * probe decodes them exactly as the driver does; tests may pass raw values instead.
 */
import { IommuError, SZ_4K, SZ_16K } from "@iommu/core";
import { IoPgtableFmt } from "@iommu/io-pgtable";
import {
  DART_MAX_STREAMS,
  DART_PARAMS1_PAGE_SHIFT_SHIFT,
  DART_PARAMS2_BYPASS_SUPPORT,
  DART_T8020_CONFIG_LOCK,
  DART_T8020_TCR_BYPASS_DAPF,
  DART_T8020_TCR_BYPASS_DART,
  DART_T8020_TCR_TRANSLATE_ENABLE,
  DART_T8020_TTBR_ADDR_FIELD_SHIFT,
  DART_T8020_TTBR_SHIFT,
  DART_T8020_TTBR_VALID,
  DART_T8110_PARAMS3_PA_WIDTH_SHIFT,
  DART_T8110_PARAMS3_VA_WIDTH_SHIFT,
  DART_T8110_PARAMS4_NUM_SIDS_MASK,
  DART_T8110_PROTECT_TTBR_TCR,
  DART_T8110_TCR_BYPASS_DAPF,
  DART_T8110_TCR_BYPASS_DART,
  DART_T8110_TCR_FOUR_LEVEL,
  DART_T8110_TCR_TRANSLATE_ENABLE,
  DART_T8110_TTBR_ADDR_FIELD_SHIFT,
  DART_T8110_TTBR_SHIFT,
  DART_T8110_TTBR_VALID,
} from "./regs.js";

/** `enum dart_type`: the register layout family. */
export type AppleDartType = "T8020" | "T6000" | "T8110";

/** The `apple,<variant>-dart` compatibles the driver matches. */
export type AppleDartVariant = "t8103" | "t8103-usb4" | "t6000" | "t8110";

/** `struct apple_dart_hw`: the paging-relevant members of one variant's match data. */
export interface AppleDartHw {
  readonly variant: AppleDartVariant;
  readonly type: AppleDartType;
  /** io-pgtable format of its tables. */
  readonly fmt: typeof IoPgtableFmt.APPLE_DART | typeof IoPgtableFmt.APPLE_DART2;
  /** `oas`; 0 for T8110, which reads it from PARAMS3. */
  readonly oas: number;
  /** `max_sid_count` (T8020/T6000 stream count; T8110 reads PARAMS4). */
  readonly maxSidCount: number;
  /** `lock_bit` of the lock register (CONFIG / PROTECT). */
  readonly lockBit: number;
  readonly tcrEnabled: number;
  readonly tcrDisabled: number;
  /** `tcr_bypass`: 0 for the USB4 DART, which has no bypass encoding. */
  readonly tcrBypass: number;
  /** `tcr_4level`: 0 where four-level tables do not exist. */
  readonly tcr4level: number;
  readonly ttbrValid: number;
  readonly ttbrAddrFieldShift: number;
  readonly ttbrShift: number;
  /** `ttbr_count`: TTBR registers per stream. */
  readonly ttbrCount: number;
}

const T8020_COMMON = {
  lockBit: DART_T8020_CONFIG_LOCK,
  tcrEnabled: DART_T8020_TCR_TRANSLATE_ENABLE,
  tcrDisabled: 0,
  tcr4level: 0,
  ttbrValid: DART_T8020_TTBR_VALID,
  ttbrAddrFieldShift: DART_T8020_TTBR_ADDR_FIELD_SHIFT,
  ttbrShift: DART_T8020_TTBR_SHIFT,
  ttbrCount: 4,
} as const;

/** `apple_dart_of_match[]`: every variant's `struct apple_dart_hw`. */
export const APPLE_DART_HW: Readonly<Record<AppleDartVariant, AppleDartHw>> = {
  /** apple_dart_hw_t8103 (M1): DART1 tables, 36-bit PAs, 16 streams. */
  t8103: {
    variant: "t8103",
    type: "T8020",
    fmt: IoPgtableFmt.APPLE_DART,
    oas: 36,
    maxSidCount: 16,
    tcrBypass: DART_T8020_TCR_BYPASS_DAPF | DART_T8020_TCR_BYPASS_DART,
    ...T8020_COMMON,
  },
  /** apple_dart_hw_t8103_usb4: 64 streams, no bypass encoding (TTBRs at another offset). */
  "t8103-usb4": {
    variant: "t8103-usb4",
    type: "T8020",
    fmt: IoPgtableFmt.APPLE_DART,
    oas: 36,
    maxSidCount: 64,
    tcrBypass: 0,
    ...T8020_COMMON,
  },
  /** apple_dart_hw_t6000 (M1 Pro/Max): DART2 tables, 42-bit PAs, the T8020 registers. */
  t6000: {
    variant: "t6000",
    type: "T6000",
    fmt: IoPgtableFmt.APPLE_DART2,
    oas: 42,
    maxSidCount: 16,
    tcrBypass: DART_T8020_TCR_BYPASS_DAPF | DART_T8020_TCR_BYPASS_DART,
    ...T8020_COMMON,
  },
  /** apple_dart_hw_t8110 (M2 and later): DART2 tables, sizes from PARAMS3/4, one TTBR, 4-level. */
  t8110: {
    variant: "t8110",
    type: "T8110",
    fmt: IoPgtableFmt.APPLE_DART2,
    oas: 0,
    maxSidCount: 256,
    lockBit: DART_T8110_PROTECT_TTBR_TCR,
    tcrEnabled: DART_T8110_TCR_TRANSLATE_ENABLE,
    tcrDisabled: 0,
    tcrBypass: DART_T8110_TCR_BYPASS_DAPF | DART_T8110_TCR_BYPASS_DART,
    tcr4level: DART_T8110_TCR_FOUR_LEVEL,
    ttbrValid: DART_T8110_TTBR_VALID,
    ttbrAddrFieldShift: DART_T8110_TTBR_ADDR_FIELD_SHIFT,
    ttbrShift: DART_T8110_TTBR_SHIFT,
    ttbrCount: 1,
  },
};

/** Model-only: what a DART instance reports in its registers. */
export interface AppleDartHwConfig {
  /** The `compatible` (default `t8103`). */
  variant?: AppleDartVariant;
  /** PARAMS1 page size: 4K or 16K (default 16K, as on the M1 and later). */
  pgsize?: typeof SZ_4K | typeof SZ_16K;
  /** PARAMS2 BYPASS_SUPPORT (default true). */
  bypass?: boolean;
  /** T8110 PARAMS3 VA width (ias; default 32). Ignored by the other variants (ias 32). */
  vaBits?: number;
  /** T8110 PARAMS3 PA width (oas; default 42). Ignored by the other variants. */
  paBits?: number;
  /** T8110 PARAMS4 stream count (default 256). Ignored by the other variants. */
  numSids?: number;
  /** The lock bit (CONFIG.LOCK / PROTECT.TTBR_TCR) set by the boot firmware (default false). */
  locked?: boolean;
}

/** The registers `apple_dart_probe()` and `apple_dart_hw_reset()` read. */
export interface AppleDartParams {
  params1: number;
  params2: number;
  /** T8110 only (0 elsewhere). */
  params3: number;
  params4: number;
  /** The lock register (CONFIG or PROTECT). */
  lock: number;
}

/** What the probe leaves in `struct apple_dart`. */
export interface AppleDartCaps {
  /** `dart->pgsize`: the one page size (1 << PARAMS1.PAGE_SHIFT). */
  pgsize: number;
  supportsBypass: boolean;
  ias: number;
  oas: number;
  numStreams: number;
  /** `four_level`: T8110 with ias > 36. */
  fourLevel: boolean;
}

/** Model-only: encode a description as the PARAMS/lock register values of `variant`. */
export function encodeDartParams(hw: AppleDartHwConfig = {}): AppleDartParams {
  const v = APPLE_DART_HW[hw.variant ?? "t8103"];
  const pgsize = hw.pgsize ?? SZ_16K;
  if (pgsize !== SZ_4K && pgsize !== SZ_16K)
    throw new IommuError("EINVAL", "encodeDartParams", { pgsize }, "PARAMS1 page size is 4K or 16K");
  const params1 = (Math.log2(pgsize) << DART_PARAMS1_PAGE_SHIFT_SHIFT) >>> 0;
  const params2 = hw.bypass === false ? 0 : DART_PARAMS2_BYPASS_SUPPORT;
  let params3 = 0;
  let params4 = 0;
  if (v.type === "T8110") {
    const va = hw.vaBits ?? 32;
    const pa = hw.paBits ?? 42;
    const sids = hw.numSids ?? 256;
    if (va < 0 || va > 63 || pa < 0 || pa > 63 || sids < 0 || sids > DART_T8110_PARAMS4_NUM_SIDS_MASK)
      throw new IommuError("EINVAL", "encodeDartParams", { va, pa, sids }, "field out of range");
    params3 = ((pa << DART_T8110_PARAMS3_PA_WIDTH_SHIFT) | (va << DART_T8110_PARAMS3_VA_WIDTH_SHIFT)) >>> 0;
    params4 = sids;
  }
  return { params1, params2, params3, params4, lock: hw.locked ? v.lockBit : 0 };
}

/**
 * `apple_dart_probe()` (the register reads) and the lock check of `apple_dart_hw_reset()`.
 * Throws IommuError EINVAL where the driver refuses the DART: more than 256 streams, or a DART
 * locked down by the firmware.
 */
export function probeDart(hw: AppleDartHw, regs: AppleDartParams): AppleDartCaps {
  const pgsize = 2 ** ((regs.params1 >>> DART_PARAMS1_PAGE_SHIFT_SHIFT) & 0xf);
  const supportsBypass = (regs.params2 & DART_PARAMS2_BYPASS_SUPPORT) !== 0;
  let ias: number;
  let oas: number;
  let numStreams: number;
  let fourLevel = false;
  if (hw.type === "T8110") {
    ias = (regs.params3 >>> DART_T8110_PARAMS3_VA_WIDTH_SHIFT) & 0x3f;
    oas = (regs.params3 >>> DART_T8110_PARAMS3_PA_WIDTH_SHIFT) & 0x3f;
    numStreams = regs.params4 & DART_T8110_PARAMS4_NUM_SIDS_MASK;
    fourLevel = ias > 36;
  } else {
    ias = 32;
    oas = hw.oas;
    numStreams = hw.maxSidCount;
  }
  if (numStreams > DART_MAX_STREAMS)
    throw new IommuError(
      "EINVAL",
      "apple_dart_probe",
      { numStreams },
      `too many streams (> ${DART_MAX_STREAMS})`,
    );
  if (regs.lock & hw.lockBit)
    throw new IommuError(
      "EINVAL",
      "apple_dart_hw_reset",
      { lock: regs.lock },
      "DART is locked down until reboot",
    );
  return { pgsize, supportsBypass, ias, oas, numStreams, fourLevel };
}
