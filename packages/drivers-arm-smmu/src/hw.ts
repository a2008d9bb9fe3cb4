/**
 * drivers/iommu/arm/arm-smmu/arm-smmu.c: the hardware description of an SMMUv1/v2 and
 * `arm_smmu_device_cfg_probe()` — what the driver derives from the ID registers: supported
 * stages, translation operations, context formats and granules, address sizes and the
 * SMMU-wide `pgsize_bitmap`. Pure functions of the register values.
 */
import { IommuError, SZ_1G, SZ_1M, SZ_2M, SZ_4K, SZ_16K, SZ_16M, SZ_32M, SZ_64K, SZ_512M } from "@iommu/core";
import {
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
  ARM_SMMU_ID1_NUMS2CB_SHIFT,
  ARM_SMMU_ID2_IAS_SHIFT,
  ARM_SMMU_ID2_OAS_SHIFT,
  ARM_SMMU_ID2_PTFS_4K,
  ARM_SMMU_ID2_PTFS_16K,
  ARM_SMMU_ID2_PTFS_64K,
  ARM_SMMU_ID2_UBS_SHIFT,
  ARM_SMMU_ID2_VMID16,
} from "./regs.js";

/** `enum arm_smmu_arch_version` (`ARM_SMMU_V1`, `ARM_SMMU_V1_64K`, `ARM_SMMU_V2`), from the compatible string. */
export type ArmSmmuVersion = "v1" | "v1-64k" | "v2";

/** An address size the ID registers can encode (`arm_smmu_id_size_to_bits`). */
export type ArmSmmuAddrBits = 32 | 36 | 40 | 42 | 44 | 48;

/** The AArch64 granules ID2.PTFS_4K/16K/64K advertise. */
export type ArmSmmuGranule = 0x1000 | 0x4000 | 0x10000;

/** Model-only: a hardware description, encoded into ID0/ID1/ID2 by {@link encodeIdRegs}. */
export interface ArmSmmuHwConfig {
  /** Architecture version (default `v2`, e.g. MMU-500). */
  version?: ArmSmmuVersion;
  /** ID0.S1TS (default true). */
  stage1?: boolean;
  /** ID0.S2TS (default true). */
  stage2?: boolean;
  /** ID0.NTS (default false). */
  nested?: boolean;
  /** Address translation operations (ID0.ATOSNS clear; default true). */
  atos?: boolean;
  /** AArch32 long-descriptor format (ID0.PTFS_NO_AARCH32 clear; default false; always on v1). */
  aarch32L?: boolean;
  /** AArch32 short-descriptor format too (ID0.PTFS_NO_AARCH32S clear; default false). */
  aarch32S?: boolean;
  /** AArch64 granules (ID2.PTFS_*; v2 only; default [4K]). */
  granules?: readonly ArmSmmuGranule[];
  /** ID2.IAS: IPA size (default 48). */
  ias?: ArmSmmuAddrBits;
  /** ID2.OAS: PA size (default 48). */
  oas?: ArmSmmuAddrBits;
  /** ID2.UBS: stage-1 input size, v2 (default 48). */
  ubs?: ArmSmmuAddrBits;
  /** ID0.CTTW: the walker claims coherency (default true). */
  cttw?: boolean;
  /** ID1.NUMCB (default 8). */
  contextBanks?: number;
  /** ID1.NUMS2CB: stage-2-only banks among them (default 0). */
  s2ContextBanks?: number;
  /** ID2.VMID16 (default false). */
  vmid16?: boolean;
  /** ID0.EXIDS (default false). */
  exids?: boolean;
  /** ID0.SMS with this many SMR groups (default 16); 0 = stream indexing. */
  smrGroups?: number;
  /** ID0.NUMSIDB (default 15). */
  sidBits?: number;
}

/** The raw ID registers. */
export interface ArmSmmuIdRegs {
  id0: number;
  id1: number;
  id2: number;
}

const SIZE_CODE: Readonly<Record<number, number>> = { 32: 0, 36: 1, 40: 2, 42: 3, 44: 4, 48: 5 };

/** `arm_smmu_id_size_to_bits()`: codes 0..5 are 32, 36, 40, 42, 44, 48; larger codes read as 48. */
export function armSmmuIdSizeToBits(code: number): ArmSmmuAddrBits {
  switch (code) {
    case 0:
      return 32;
    case 1:
      return 36;
    case 2:
      return 40;
    case 3:
      return 42;
    case 4:
      return 44;
    default:
      return 48;
  }
}

function sizeCode(bits: number, what: string): number {
  const c = SIZE_CODE[bits];
  if (c === undefined) throw new IommuError("EINVAL", "encodeIdRegs", { [what]: bits }, "not an ID2 size");
  return c;
}

/** Model-only: the ID0/ID1/ID2 values a hardware description reads back as. */
export function encodeIdRegs(hw: ArmSmmuHwConfig = {}): ArmSmmuIdRegs {
  const v2 = (hw.version ?? "v2") === "v2";
  let id0 = 0;
  if (hw.stage1 ?? true) id0 |= ARM_SMMU_ID0_S1TS;
  if (hw.stage2 ?? true) id0 |= ARM_SMMU_ID0_S2TS;
  if (hw.nested) id0 |= ARM_SMMU_ID0_NTS;
  if (!(hw.atos ?? true)) id0 |= ARM_SMMU_ID0_ATOSNS;
  const a32l = hw.aarch32L ?? hw.aarch32S ?? false;
  if (!a32l) id0 |= ARM_SMMU_ID0_PTFS_NO_AARCH32;
  if (!(hw.aarch32S ?? false)) id0 |= ARM_SMMU_ID0_PTFS_NO_AARCH32S;
  if (hw.cttw ?? true) id0 |= ARM_SMMU_ID0_CTTW;
  id0 |= ((hw.sidBits ?? 15) & 0xf) << ARM_SMMU_ID0_NUMSIDB_SHIFT;
  if (hw.exids) id0 |= ARM_SMMU_ID0_EXIDS;
  const smrs = hw.smrGroups ?? 16;
  if (smrs > 0) id0 |= ARM_SMMU_ID0_SMS | (smrs & ARM_SMMU_ID0_NUMSMRG_MASK);

  const cbs = hw.contextBanks ?? 8;
  const id1 = ((hw.s2ContextBanks ?? 0) << ARM_SMMU_ID1_NUMS2CB_SHIFT) | (cbs & ARM_SMMU_ID1_NUMCB_MASK);

  let id2 =
    (sizeCode(hw.ias ?? 48, "ias") << ARM_SMMU_ID2_IAS_SHIFT) |
    (sizeCode(hw.oas ?? 48, "oas") << ARM_SMMU_ID2_OAS_SHIFT) |
    (sizeCode(hw.ubs ?? 48, "ubs") << ARM_SMMU_ID2_UBS_SHIFT);
  if (hw.vmid16) id2 |= ARM_SMMU_ID2_VMID16;
  if (v2) {
    const g = hw.granules ?? [SZ_4K];
    if (g.includes(SZ_4K)) id2 |= ARM_SMMU_ID2_PTFS_4K;
    if (g.includes(SZ_16K)) id2 |= ARM_SMMU_ID2_PTFS_16K;
    if (g.includes(SZ_64K)) id2 |= ARM_SMMU_ID2_PTFS_64K;
  }
  return { id0: id0 >>> 0, id1: id1 >>> 0, id2: id2 >>> 0 };
}

/** What `arm_smmu_device_cfg_probe()` leaves in `struct arm_smmu_device` (paging side). */
export interface ArmSmmuCaps {
  readonly version: ArmSmmuVersion;
  /** `smmu->features` (ARM_SMMU_FEAT_*). */
  readonly features: number;
  /** `smmu->ipa_size` (ID2.IAS). */
  readonly ipaSize: number;
  /** `smmu->pa_size` (ID2.OAS). */
  readonly paSize: number;
  /** `smmu->va_size` (ID2.UBS; SMMUv1: the IPA size). */
  readonly vaSize: number;
  /** `smmu->pgsize_bitmap`: the union over every supported context format. */
  readonly pgsizeBitmap: number;
  readonly numContextBanks: number;
  readonly numS2ContextBanks: number;
  readonly streamidMask: number;
  readonly numMappingGroups: number;
}

/** Model-only inputs of the probe that are not ID register bits. */
export interface ArmSmmuProbeOptions {
  /** Firmware says the SMMU is dma-coherent (`cttw_fw`; default: what ID0.CTTW says). */
  coherent?: boolean;
  /** The `arm-smmu.force_stage` module parameter (1 or 2; other values are ignored). */
  forceStage?: number;
}

/**
 * `arm_smmu_device_cfg_probe()`: decode ID0/ID1/ID2. Throws IommuError ENODEV where the
 * kernel refuses the SMMU (no translation stage; SMS with no SMRs; more S2 banks than banks).
 */
export function armSmmuDeviceCfgProbe(
  regs: ArmSmmuIdRegs,
  version: ArmSmmuVersion = "v2",
  options: ArmSmmuProbeOptions = {},
): ArmSmmuCaps {
  let features = 0;
  let id = regs.id0;
  if (options.forceStage === 1) id &= ~(ARM_SMMU_ID0_S2TS | ARM_SMMU_ID0_NTS);
  else if (options.forceStage === 2) id &= ~(ARM_SMMU_ID0_S1TS | ARM_SMMU_ID0_NTS);
  if (id & ARM_SMMU_ID0_S1TS) features |= ARM_SMMU_FEAT_TRANS_S1;
  if (id & ARM_SMMU_ID0_S2TS) features |= ARM_SMMU_FEAT_TRANS_S2;
  if (id & ARM_SMMU_ID0_NTS) features |= ARM_SMMU_FEAT_TRANS_NESTED;
  if (!(features & (ARM_SMMU_FEAT_TRANS_S1 | ARM_SMMU_FEAT_TRANS_S2)))
    throw new IommuError("ENODEV", "arm_smmu_device_cfg_probe", { id0: regs.id0 }, "no translation support");
  if (id & ARM_SMMU_ID0_S1TS && (version !== "v2" || !(id & ARM_SMMU_ID0_ATOSNS)))
    features |= ARM_SMMU_FEAT_TRANS_OPS;
  // The firmware's dma-coherent property decides; ID0.CTTW is only reported.
  const cttwFw = options.coherent ?? (id & ARM_SMMU_ID0_CTTW) !== 0;
  if (cttwFw) features |= ARM_SMMU_FEAT_COHERENT_WALK;

  let size: number;
  if (version === "v2" && id & ARM_SMMU_ID0_EXIDS) {
    features |= ARM_SMMU_FEAT_EXIDS;
    size = 1 << 16;
  } else size = 1 << ((id >>> ARM_SMMU_ID0_NUMSIDB_SHIFT) & 0xf);
  const streamidMask = size - 1;
  if (id & ARM_SMMU_ID0_SMS) {
    features |= ARM_SMMU_FEAT_STREAM_MATCH;
    size = id & ARM_SMMU_ID0_NUMSMRG_MASK;
    if (size === 0)
      throw new IommuError("ENODEV", "arm_smmu_device_cfg_probe", {}, "stream matching without SMRs");
  }
  const numMappingGroups = size;
  if (version !== "v2" || !(id & ARM_SMMU_ID0_PTFS_NO_AARCH32)) {
    features |= ARM_SMMU_FEAT_FMT_AARCH32_L;
    if (!(id & ARM_SMMU_ID0_PTFS_NO_AARCH32S)) features |= ARM_SMMU_FEAT_FMT_AARCH32_S;
  }

  const numS2ContextBanks = (regs.id1 >>> ARM_SMMU_ID1_NUMS2CB_SHIFT) & 0xff;
  const numContextBanks = regs.id1 & ARM_SMMU_ID1_NUMCB_MASK;
  if (numS2ContextBanks > numContextBanks)
    throw new IommuError("ENODEV", "arm_smmu_device_cfg_probe", { id1: regs.id1 }, "impossible S2 banks");

  const id2 = regs.id2;
  const ipaSize = armSmmuIdSizeToBits((id2 >>> ARM_SMMU_ID2_IAS_SHIFT) & 0xf);
  const paSize = armSmmuIdSizeToBits((id2 >>> ARM_SMMU_ID2_OAS_SHIFT) & 0xf);
  if (id2 & ARM_SMMU_ID2_VMID16) features |= ARM_SMMU_FEAT_VMID16;
  let vaSize: number;
  if (version !== "v2") {
    vaSize = ipaSize;
    if (version === "v1-64k") features |= ARM_SMMU_FEAT_FMT_AARCH64_64K;
  } else {
    vaSize = armSmmuIdSizeToBits((id2 >>> ARM_SMMU_ID2_UBS_SHIFT) & 0xf);
    if (id2 & ARM_SMMU_ID2_PTFS_4K) features |= ARM_SMMU_FEAT_FMT_AARCH64_4K;
    if (id2 & ARM_SMMU_ID2_PTFS_16K) features |= ARM_SMMU_FEAT_FMT_AARCH64_16K;
    if (id2 & ARM_SMMU_ID2_PTFS_64K) features |= ARM_SMMU_FEAT_FMT_AARCH64_64K;
  }

  // Every size of every format the SMMU can walk (the domain narrows it at first attach).
  let pgsizeBitmap = 0;
  if (features & ARM_SMMU_FEAT_FMT_AARCH32_S) pgsizeBitmap |= SZ_4K | SZ_64K | SZ_1M | SZ_16M;
  if (features & (ARM_SMMU_FEAT_FMT_AARCH32_L | ARM_SMMU_FEAT_FMT_AARCH64_4K))
    pgsizeBitmap |= SZ_4K | SZ_2M | SZ_1G;
  if (features & ARM_SMMU_FEAT_FMT_AARCH64_16K) pgsizeBitmap |= SZ_16K | SZ_32M;
  if (features & ARM_SMMU_FEAT_FMT_AARCH64_64K) pgsizeBitmap |= SZ_64K | SZ_512M;

  return {
    version,
    features,
    ipaSize,
    paSize,
    vaSize,
    pgsizeBitmap: pgsizeBitmap >>> 0,
    numContextBanks,
    numS2ContextBanks,
    streamidMask,
    numMappingGroups,
  };
}
