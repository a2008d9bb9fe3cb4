/**
 * drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.c: the SMMU's identification registers and
 * `arm_smmu_device_hw_probe()` — a friendly hardware description is encoded into
 * IDR0/IDR1/IDR3/IDR5/IIDR values, and the probe decodes those registers exactly as the
 * driver does (features, ias/oas, pgsize_bitmap, ASID/VMID widths, errata from IIDR). Tests
 * can also feed raw register values.
 */
import { IommuError, or64, SZ_1G, SZ_2M, SZ_4K, SZ_4T, SZ_16K, SZ_32M, SZ_64K, SZ_512M } from "@iommu/core";
import {
  ARM_SMMU_FEAT_2_LVL_CDTAB,
  ARM_SMMU_FEAT_2_LVL_STRTAB,
  ARM_SMMU_FEAT_ATS,
  ARM_SMMU_FEAT_ATTR_TYPES_OVR,
  ARM_SMMU_FEAT_BTM,
  ARM_SMMU_FEAT_COHERENCY,
  ARM_SMMU_FEAT_E2H,
  ARM_SMMU_FEAT_HA,
  ARM_SMMU_FEAT_HD,
  ARM_SMMU_FEAT_HYP,
  ARM_SMMU_FEAT_MSI,
  ARM_SMMU_FEAT_NESTING,
  ARM_SMMU_FEAT_PRI,
  ARM_SMMU_FEAT_RANGE_INV,
  ARM_SMMU_FEAT_S2FWB,
  ARM_SMMU_FEAT_SEV,
  ARM_SMMU_FEAT_STALL_FORCE,
  ARM_SMMU_FEAT_STALLS,
  ARM_SMMU_FEAT_TRANS_S1,
  ARM_SMMU_FEAT_TRANS_S2,
  ARM_SMMU_FEAT_TT_BE,
  ARM_SMMU_FEAT_TT_LE,
  ARM_SMMU_FEAT_VAX,
  ARM_SMMU_OPT_CMDQ_FORCE_SYNC,
  ARM_SMMU_OPT_MSIPOLL,
  CMDQ_BATCH_ENTRIES,
  IDR0_ASID16,
  IDR0_ATS,
  IDR0_CD2L,
  IDR0_COHACC,
  IDR0_HTTU_ACCESS,
  IDR0_HTTU_ACCESS_DIRTY,
  IDR0_HTTU_SHIFT,
  IDR0_HYP,
  IDR0_MSI,
  IDR0_PRI,
  IDR0_S1P,
  IDR0_S2P,
  IDR0_SEV,
  IDR0_ST_LVL_2LVL,
  IDR0_ST_LVL_SHIFT,
  IDR0_STALL_MODEL_FORCE,
  IDR0_STALL_MODEL_SHIFT,
  IDR0_STALL_MODEL_STALL,
  IDR0_TTENDIAN_BE,
  IDR0_TTENDIAN_LE,
  IDR0_TTENDIAN_MIXED,
  IDR0_TTENDIAN_SHIFT,
  IDR0_TTF_AARCH32_64,
  IDR0_TTF_AARCH64,
  IDR0_TTF_SHIFT,
  IDR0_VMID16,
  IDR1_ATTR_TYPES_OVR,
  IDR1_CMDQS_SHIFT,
  IDR1_SIDSIZE_SHIFT,
  IDR1_SSIDSIZE_SHIFT,
  IDR3_FWB,
  IDR3_RIL,
  IDR5_GRAN4K,
  IDR5_GRAN16K,
  IDR5_GRAN64K,
  IDR5_OAS_BITS,
  IDR5_OAS_MASK,
  IDR5_VAX_52_BIT,
  IDR5_VAX_SHIFT,
  IIDR_IMPLEMENTER_ARM,
  IIDR_IMPLEMENTER_MASK,
  IIDR_PRODUCTID_ARM_MMU_600,
  IIDR_PRODUCTID_ARM_MMU_700,
  IIDR_PRODUCTID_SHIFT,
  IIDR_REVISION_SHIFT,
  IIDR_VARIANT_SHIFT,
} from "./regs.js";

/** `CMDQ_MAX_SZ_SHIFT` with 4 KiB pages and MAX_PAGE_ORDER 10. */
const CMDQ_MAX_SZ_SHIFT = 12 + 10 - 4;

/** `IDR5_GRAN4K` / `IDR5_GRAN16K` / `IDR5_GRAN64K`: a translation granule the SMMU may offer. */
export type SmmuGranule = 0x1000 | 0x4000 | 0x10000;

/** Model-only: what an SMMUv3 implementation offers, in the terms of its ID registers. */
export interface ArmSmmuV3HwConfig {
  /** IDR0.S1P / IDR0.S2P (default both). */
  stage1?: boolean;
  stage2?: boolean;
  /** IDR0.TTF = AArch32+AArch64 (sets the minimum ias to 40). Default AArch64 only. */
  aarch32?: boolean;
  /** IDR5.GRAN4K/16K/64K (default all three). */
  granules?: readonly SmmuGranule[];
  /** IDR5.OAS in bits: 32, 36, 40, 42, 44, 48 or 52 (default 48). */
  oas?: number;
  /** IDR5.VAX = 52-bit input addresses for stage 1 (default false). */
  vax52?: boolean;
  /** Firmware says the SMMU's table walks are coherent (DT dma-coherent / IORT COHACC; default true). */
  coherent?: boolean;
  /** IDR0.COHACC (default = `coherent`; a mismatch is only reported, firmware wins). */
  cohacc?: boolean;
  /** IDR0.HTTU: hardware access flag / dirty state updates (default "none"). */
  httu?: "none" | "access" | "access-dirty";
  /** IDR0.ASID16 / VMID16 (default true). */
  asid16?: boolean;
  vmid16?: boolean;
  /** IDR3.RIL: range invalidation commands (default false). */
  rangeInv?: boolean;
  /** IDR3.FWB: stage-2 forced write-back (default false). */
  fwb?: boolean;
  /** IDR0.MSI (default true); with coherency it enables MSI-based CMD_SYNC polling. */
  msi?: boolean;
  /** IDR0.HYP, and whether the host runs VHE so the driver uses EL2 TLBI commands (E2H). */
  hyp?: boolean;
  hostVhe?: boolean;
  ats?: boolean;
  pri?: boolean;
  sev?: boolean;
  /** IDR0.TTENDIAN (default "mixed"); "be" cannot be probed by a little-endian kernel. */
  ttEndian?: "mixed" | "le" | "be";
  /** IDR1.ATTR_TYPES_OVR: STEs may override incoming shareability (default false). */
  attrTypesOvr?: boolean;
  /** IDR1.CMDQS: log2 of the command queue entries (default 8). */
  cmdqShift?: number;
  /** IIDR value (implementer/product/variant/revision) for errata (default 0). */
  iidr?: number;
  /** The CPU's VA_BITS, capping stage-1 ias (default 48). */
  vaBits?: number;
  /** Disable MSI polling of CMD_SYNC (the module parameter `disable_msipolling`). */
  disableMsiPolling?: boolean;
}

/** `ARM_SMMU_IDR0/1/3/5`, `ARM_SMMU_IIDR`: the registers the probe reads. */
export interface ArmSmmuV3Regs {
  idr0: number;
  idr1: number;
  idr3: number;
  idr5: number;
  iidr: number;
}

/** `struct arm_smmu_device` as `arm_smmu_device_hw_probe()` leaves it (paging-relevant part). */
export interface ArmSmmuV3Caps {
  features: number;
  options: number;
  /** Intermediate (stage-2 input) address size: max(40 if AArch32 tables, oas). */
  ias: number;
  oas: number;
  /** All page sizes of all supported granules (the formats narrow it to one granule). */
  pgsizeBitmap: number;
  asidBits: number;
  vmidBits: number;
  ssidBits: number;
  sidBits: number;
  cmdqShift: number;
  vaBits: number;
}

/** Model-only: encode a hardware description as ID register values. */
export function encodeIdRegs(hw: ArmSmmuV3HwConfig = {}): ArmSmmuV3Regs {
  const coherent = hw.coherent ?? true;
  let idr0 = 0;
  if (hw.stage1 ?? true) idr0 |= IDR0_S1P;
  if (hw.stage2 ?? true) idr0 |= IDR0_S2P;
  idr0 |= (hw.aarch32 ? IDR0_TTF_AARCH32_64 : IDR0_TTF_AARCH64) << IDR0_TTF_SHIFT;
  if (hw.cohacc ?? coherent) idr0 |= IDR0_COHACC;
  const httu = hw.httu ?? "none";
  if (httu !== "none")
    idr0 |= (httu === "access" ? IDR0_HTTU_ACCESS : IDR0_HTTU_ACCESS_DIRTY) << IDR0_HTTU_SHIFT;
  if (hw.asid16 ?? true) idr0 |= IDR0_ASID16;
  if (hw.vmid16 ?? true) idr0 |= IDR0_VMID16;
  if (hw.msi ?? true) idr0 |= IDR0_MSI;
  if (hw.hyp) idr0 |= IDR0_HYP;
  if (hw.ats) idr0 |= IDR0_ATS;
  if (hw.pri) idr0 |= IDR0_PRI;
  if (hw.sev) idr0 |= IDR0_SEV;
  const endian = hw.ttEndian ?? "mixed";
  idr0 |=
    (endian === "mixed" ? IDR0_TTENDIAN_MIXED : endian === "le" ? IDR0_TTENDIAN_LE : IDR0_TTENDIAN_BE) <<
    IDR0_TTENDIAN_SHIFT;
  idr0 |= IDR0_ST_LVL_2LVL << IDR0_ST_LVL_SHIFT;
  idr0 |= IDR0_CD2L;

  let idr1 =
    ((hw.cmdqShift ?? 8) << IDR1_CMDQS_SHIFT) | (20 << IDR1_SSIDSIZE_SHIFT) | (16 << IDR1_SIDSIZE_SHIFT);
  if (hw.attrTypesOvr) idr1 |= IDR1_ATTR_TYPES_OVR;

  let idr3 = 0;
  if (hw.rangeInv) idr3 |= IDR3_RIL;
  if (hw.fwb) idr3 |= IDR3_FWB;

  let idr5 = 0;
  const granules = hw.granules ?? [SZ_4K, SZ_16K, SZ_64K];
  if (granules.includes(SZ_4K)) idr5 |= IDR5_GRAN4K;
  if (granules.includes(SZ_16K)) idr5 |= IDR5_GRAN16K;
  if (granules.includes(SZ_64K)) idr5 |= IDR5_GRAN64K;
  if (hw.vax52) idr5 |= IDR5_VAX_52_BIT << IDR5_VAX_SHIFT;
  const oasField = IDR5_OAS_BITS.indexOf(hw.oas ?? 48);
  if (oasField < 0)
    throw new IommuError("EINVAL", "encodeIdRegs", { oas: hw.oas }, "OAS must be 32/36/40/42/44/48/52");
  idr5 |= oasField;

  return { idr0: idr0 >>> 0, idr1: idr1 >>> 0, idr3, idr5, iidr: hw.iidr ?? 0 };
}

function field(reg: number, shift: number, width: number): number {
  return (reg >>> shift) & ((1 << width) - 1);
}

function noProbe(why: string): never {
  throw new IommuError("ENXIO", "arm_smmu_device_hw_probe", {}, why);
}

/**
 * `arm_smmu_device_hw_probe()` + `arm_smmu_device_iidr_probe()` for a little-endian kernel
 * probed through DT. Throws IommuError ENXIO where the driver refuses the SMMU.
 */
export function probeHw(
  regs: ArmSmmuV3Regs,
  fw: { coherent: boolean; vaBits?: number; hostVhe?: boolean; disableMsiPolling?: boolean },
): ArmSmmuV3Caps {
  let features = fw.coherent ? ARM_SMMU_FEAT_COHERENCY : 0;
  let options = 0;
  let ias = 0;
  const { idr0, idr1, idr3, idr5, iidr } = regs;

  if (field(idr0, IDR0_ST_LVL_SHIFT, 2) === IDR0_ST_LVL_2LVL) features |= ARM_SMMU_FEAT_2_LVL_STRTAB;
  if (idr0 & IDR0_CD2L) features |= ARM_SMMU_FEAT_2_LVL_CDTAB;

  // The table endianness must match the (little-endian) CPU.
  switch (field(idr0, IDR0_TTENDIAN_SHIFT, 2)) {
    case IDR0_TTENDIAN_MIXED:
      features |= ARM_SMMU_FEAT_TT_LE | ARM_SMMU_FEAT_TT_BE;
      break;
    case IDR0_TTENDIAN_LE:
      features |= ARM_SMMU_FEAT_TT_LE;
      break;
    default:
      noProbe("unknown/unsupported TT endianness");
  }

  if (idr0 & IDR0_PRI) features |= ARM_SMMU_FEAT_PRI;
  if (idr0 & IDR0_ATS) features |= ARM_SMMU_FEAT_ATS;
  if (idr0 & IDR0_SEV) features |= ARM_SMMU_FEAT_SEV;
  if (idr0 & IDR0_MSI) {
    features |= ARM_SMMU_FEAT_MSI;
    if (fw.coherent && !fw.disableMsiPolling) options |= ARM_SMMU_OPT_MSIPOLL;
  }
  if (idr0 & IDR0_HYP) {
    features |= ARM_SMMU_FEAT_HYP;
    if (fw.hostVhe) features |= ARM_SMMU_FEAT_E2H;
  }
  // HTTU: the DT path takes the register as is (ACPI cross-checks it against IORT).
  const httu = field(idr0, IDR0_HTTU_SHIFT, 2);
  if (httu === IDR0_HTTU_ACCESS_DIRTY) features |= ARM_SMMU_FEAT_HD | ARM_SMMU_FEAT_HA;
  else if (httu === IDR0_HTTU_ACCESS) features |= ARM_SMMU_FEAT_HA;
  // IDR0.COHACC disagreeing with firmware only earns a dev_warn: firmware wins.

  const stall = field(idr0, IDR0_STALL_MODEL_SHIFT, 2);
  if (stall === IDR0_STALL_MODEL_FORCE) features |= ARM_SMMU_FEAT_STALL_FORCE | ARM_SMMU_FEAT_STALLS;
  else if (stall === IDR0_STALL_MODEL_STALL) features |= ARM_SMMU_FEAT_STALLS;

  if (idr0 & IDR0_S1P) features |= ARM_SMMU_FEAT_TRANS_S1;
  if (idr0 & IDR0_S2P) features |= ARM_SMMU_FEAT_TRANS_S2;
  if (!(idr0 & (IDR0_S1P | IDR0_S2P))) noProbe("no translation support");

  switch (field(idr0, IDR0_TTF_SHIFT, 2)) {
    case IDR0_TTF_AARCH32_64:
      ias = 40;
      break;
    case IDR0_TTF_AARCH64:
      break;
    default:
      noProbe("AArch64 table format not supported");
  }

  const asidBits = idr0 & IDR0_ASID16 ? 16 : 8;
  const vmidBits = idr0 & IDR0_VMID16 ? 16 : 8;

  if (idr1 & IDR1_ATTR_TYPES_OVR) features |= ARM_SMMU_FEAT_ATTR_TYPES_OVR;
  const cmdqShift = Math.min(CMDQ_MAX_SZ_SHIFT, field(idr1, IDR1_CMDQS_SHIFT, 5));
  // One batch plus its CMD_SYNC must fit in the queue.
  if (cmdqShift <= Math.log2(CMDQ_BATCH_ENTRIES))
    noProbe(`command queue size <= ${CMDQ_BATCH_ENTRIES} entries`);
  const ssidBits = field(idr1, IDR1_SSIDSIZE_SHIFT, 5);
  const sidBits = field(idr1, IDR1_SIDSIZE_SHIFT, 6);
  if (sidBits <= 8) features &= ~ARM_SMMU_FEAT_2_LVL_STRTAB;

  if (idr3 & IDR3_FWB) features |= ARM_SMMU_FEAT_S2FWB;
  if (idr3 & IDR3_RIL) features |= ARM_SMMU_FEAT_RANGE_INV;

  let pgsizeBitmap = 0;
  if (idr5 & IDR5_GRAN64K) pgsizeBitmap |= SZ_64K | SZ_512M;
  if (idr5 & IDR5_GRAN16K) pgsizeBitmap |= SZ_16K | SZ_32M;
  if (idr5 & IDR5_GRAN4K) pgsizeBitmap |= SZ_4K | SZ_2M | SZ_1G;
  if (field(idr5, IDR5_VAX_SHIFT, 2) === IDR5_VAX_52_BIT) features |= ARM_SMMU_FEAT_VAX;

  // Reserved OAS encodings are truncated to 48 bits (dev_info only).
  const oas = IDR5_OAS_BITS[idr5 & IDR5_OAS_MASK] ?? 48;
  if (oas === 52) pgsizeBitmap = or64(pgsizeBitmap, SZ_4T);

  ias = Math.max(ias, oas);

  if (features & ARM_SMMU_FEAT_TRANS_S1 && features & ARM_SMMU_FEAT_TRANS_S2)
    features |= ARM_SMMU_FEAT_NESTING;

  // arm_smmu_device_iidr_probe(): errata of Arm's own implementations.
  if ((iidr & IIDR_IMPLEMENTER_MASK) === IIDR_IMPLEMENTER_ARM) {
    const product = iidr >>> IIDR_PRODUCTID_SHIFT;
    const variant = field(iidr, IIDR_VARIANT_SHIFT, 4);
    const revision = field(iidr, IIDR_REVISION_SHIFT, 4);
    if (product === IIDR_PRODUCTID_ARM_MMU_600) {
      if (variant === 0 && revision <= 2) features &= ~ARM_SMMU_FEAT_SEV; // erratum 1076982
      if (variant < 2) features &= ~ARM_SMMU_FEAT_NESTING; // erratum 1209401
    } else if (product === IIDR_PRODUCTID_ARM_MMU_700) {
      features &= ~ARM_SMMU_FEAT_BTM; // erratum 2812531
      options |= ARM_SMMU_OPT_CMDQ_FORCE_SYNC;
      features &= ~ARM_SMMU_FEAT_NESTING; // errata 2268618, 2812531
    }
  }

  return {
    features,
    options,
    ias,
    oas,
    pgsizeBitmap,
    asidBits,
    vmidBits,
    ssidBits,
    sidBits,
    cmdqShift,
    vaBits: fw.vaBits ?? 48,
  };
}
