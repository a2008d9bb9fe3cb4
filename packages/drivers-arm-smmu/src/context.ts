/**
 * drivers/iommu/arm/arm-smmu/arm-smmu.c: the decisions `arm_smmu_init_domain_context()` takes
 * before it allocates anything — the stage the domain really gets, the context bank format,
 * the io-pgtable format, ias/oas and the first usable context bank — as one pure function
 * of the probed capabilities and the kernel configuration. The driver and the script family
 * (`fmt arm-smmu ...`) both derive their io_pgtable_cfg through it.
 */
import { negErrno } from "@iommu/core";
import { IoPgtableFmt } from "@iommu/io-pgtable";
import type { ArmSmmuCaps } from "./hw.js";
import {
  ARM_SMMU_FEAT_FMT_AARCH32_L,
  ARM_SMMU_FEAT_FMT_AARCH32_S,
  ARM_SMMU_FEAT_FMT_AARCH64_4K,
  ARM_SMMU_FEAT_FMT_AARCH64_16K,
  ARM_SMMU_FEAT_FMT_AARCH64_64K,
  ARM_SMMU_FEAT_TRANS_S1,
  ARM_SMMU_FEAT_TRANS_S2,
  type ArmSmmuCtxFmt,
} from "./regs.js";

/**
 * The kernel the driver runs in, as far as the context format depends on it: `arm64`
 * (CONFIG_64BIT), `arm32-lpae` (CONFIG_ARM_LPAE) or `arm32` (neither; with
 * CONFIG_IOMMU_IO_PGTABLE_ARMV7S, the only kernel that picks the short-descriptor format).
 */
export type ArmSmmuKernel = "arm64" | "arm32-lpae" | "arm32";

/** `enum arm_smmu_domain_stage` (paging domains: S1, S2; NESTED is treated as S2). */
export type ArmSmmuDomainStage = "s1" | "s2" | "nested";

/** The context decisions of {@link armSmmuContextCfg}. */
export interface ArmSmmuContextCfg {
  /** The stage after clamping to what the SMMU supports (`nested` is kept; it behaves as S2). */
  stage: ArmSmmuDomainStage;
  /** `cfg->fmt`: the context bank's descriptor format. */
  ctxFmt: Exclude<ArmSmmuCtxFmt, "none">;
  /** The io-pgtable format. */
  fmt: IoPgtableFmt;
  ias: number;
  oas: number;
  /** First context bank the stage may use (S1 skips the stage-2-only banks). */
  cbStart: number;
}

/**
 * `arm_smmu_init_domain_context()`, the part before the context bank is allocated: stage
 * clamping, context format choice (AArch32-L if offered; AArch32-S on a 32-bit non-LPAE
 * kernel for S1; AArch64 on a 64-bit kernel, or when nothing else fits, if any AArch64
 * granule is offered), the io-pgtable format and its ias/oas. -EINVAL when no format fits.
 */
export function armSmmuContextCfg(
  caps: ArmSmmuCaps,
  kernel: ArmSmmuKernel,
  requested: ArmSmmuDomainStage = "s1",
): ArmSmmuContextCfg | number {
  let stage = requested;
  if (!(caps.features & ARM_SMMU_FEAT_TRANS_S1)) stage = "s2";
  if (!(caps.features & ARM_SMMU_FEAT_TRANS_S2)) stage = "s1";

  let ctxFmt: ArmSmmuCtxFmt = "none";
  if (caps.features & ARM_SMMU_FEAT_FMT_AARCH32_L) ctxFmt = "aarch32-l";
  if (kernel === "arm32" && caps.features & ARM_SMMU_FEAT_FMT_AARCH32_S && stage === "s1")
    ctxFmt = "aarch32-s";
  const a64 = ARM_SMMU_FEAT_FMT_AARCH64_4K | ARM_SMMU_FEAT_FMT_AARCH64_16K | ARM_SMMU_FEAT_FMT_AARCH64_64K;
  if ((kernel === "arm64" || ctxFmt === "none") && caps.features & a64) ctxFmt = "aarch64";
  if (ctxFmt === "none") return negErrno("EINVAL");

  if (stage === "s1") {
    if (ctxFmt === "aarch64")
      return {
        stage,
        ctxFmt,
        fmt: IoPgtableFmt.ARM_64_LPAE_S1,
        ias: caps.vaSize,
        oas: caps.ipaSize,
        cbStart: caps.numS2ContextBanks,
      };
    if (ctxFmt === "aarch32-l")
      return {
        stage,
        ctxFmt,
        fmt: IoPgtableFmt.ARM_32_LPAE_S1,
        ias: Math.min(caps.vaSize, 32),
        oas: Math.min(caps.ipaSize, 40),
        cbStart: caps.numS2ContextBanks,
      };
    return {
      stage,
      ctxFmt,
      fmt: IoPgtableFmt.ARM_V7S,
      ias: Math.min(caps.vaSize, 32),
      oas: Math.min(caps.ipaSize, 32),
      cbStart: caps.numS2ContextBanks,
    };
  }
  // Stage 2 (and NESTED, which the driver treats as stage 2).
  if (ctxFmt === "aarch64")
    return {
      stage,
      ctxFmt,
      fmt: IoPgtableFmt.ARM_64_LPAE_S2,
      ias: caps.ipaSize,
      oas: caps.paSize,
      cbStart: 0,
    };
  // An AArch32-S context is only chosen for S1, so this is AArch32-L.
  return {
    stage,
    ctxFmt: "aarch32-l",
    fmt: IoPgtableFmt.ARM_32_LPAE_S2,
    ias: Math.min(caps.ipaSize, 40),
    oas: Math.min(caps.paSize, 40),
    cbStart: 0,
  };
}
