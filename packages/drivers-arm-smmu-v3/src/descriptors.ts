/**
 * drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.c: how a paging domain's io_pgtable_cfg reaches
 * the SMMU — the stage-1 context descriptor (`arm_smmu_make_s1_cd`) and the stage-2 stream
 * table entry (`arm_smmu_make_s2_domain_ste`), as the eight little-endian 64-bit words the
 * driver writes (little-endian CPU). Built off the hot path, so plain bigints.
 */
import { IO_PGTABLE_QUIRK_ARM_HD, IO_PGTABLE_QUIRK_ARM_S2FWB } from "@iommu/io-pgtable";
import type { ArmSmmuDomain } from "./domain.js";
import { ARM_SMMU_FEAT_ATTR_TYPES_OVR } from "./regs.js";

// Context descriptor, dword 0 (CTXDESC_CD_0_*).
const CD_0_TCR_T0SZ = 0n; // GENMASK(5, 0)
const CD_0_TCR_TG0 = 6n; // GENMASK(7, 6)
const CD_0_TCR_IRGN0 = 8n; // GENMASK(9, 8)
const CD_0_TCR_ORGN0 = 10n; // GENMASK(11, 10)
const CD_0_TCR_SH0 = 12n; // GENMASK(13, 12)
const CD_0_TCR_EPD1 = 1n << 30n;
const CD_0_V = 1n << 31n;
const CD_0_TCR_IPS = 32n; // GENMASK(34, 32)
const CD_0_AA64 = 1n << 41n;
const CD_0_TCR_HD = 1n << 42n;
const CD_0_TCR_HA = 1n << 43n;
const CD_0_S = 1n << 44n;
const CD_0_R = 1n << 45n;
const CD_0_A = 1n << 46n;
const CD_0_ASET = 1n << 47n;
const CD_0_ASID = 48n; // GENMASK(63, 48)
const CD_1_TTB0_MASK = ((1n << 52n) - 1n) & ~0xfn; // GENMASK(51, 4)

// Stream table entry (STRTAB_STE_*).
const STE_0_V = 1n;
const STE_0_CFG = 1n; // GENMASK(3, 1)
const STE_0_CFG_S2_TRANS = 6n;
const STE_1_S2FWB = 1n << 25n;
const STE_1_EATS = 28n; // GENMASK(29, 28)
const STE_1_EATS_TRANS = 1n;
const STE_1_SHCFG = 44n; // GENMASK(45, 44)
const STE_1_SHCFG_INCOMING = 1n;
const STE_2_S2VMID = 0n; // GENMASK(15, 0)
const STE_2_VTCR = 32n; // GENMASK(50, 32)
const VTCR_S2T0SZ = 0n; // GENMASK(5, 0)
const VTCR_S2SL0 = 6n; // GENMASK(7, 6)
const VTCR_S2IR0 = 8n; // GENMASK(9, 8)
const VTCR_S2OR0 = 10n; // GENMASK(11, 10)
const VTCR_S2SH0 = 12n; // GENMASK(13, 12)
const VTCR_S2TG = 14n; // GENMASK(15, 14)
const VTCR_S2PS = 16n; // GENMASK(18, 16)
const STE_2_S2AA64 = 1n << 51n;
const STE_2_S2PTW = 1n << 54n;
const STE_2_S2S = 1n << 57n;
const STE_2_S2R = 1n << 58n;
const STE_3_S2TTB_MASK = ((1n << 52n) - 1n) & ~0xfn; // GENMASK(51, 4)

/** `struct arm_smmu_master`, what the attaching master contributes to its CD / STE. */
export interface MasterOptions {
  /** `master->stall_enabled` (dma-can-stall, or a STALL_FORCE SMMU). */
  stallEnabled?: boolean;
  /** ATS enabled for the master (STE.EATS = translated). */
  atsEnabled?: boolean;
}

function f(value: number, shift: bigint): bigint {
  return BigInt(value) << shift;
}

/** `arm_smmu_make_s1_cd`: the context descriptor of a stage-1 paging domain. */
export function armSmmuMakeS1Cd(d: ArmSmmuDomain, master: MasterOptions = {}): bigint[] {
  const cfg = d.pgtblCfg;
  const s1 = cfg.armLpaeS1Cfg;
  if (d.stage !== "s1" || !s1) throw new TypeError("arm_smmu_make_s1_cd: not a stage-1 domain");
  const tcr = s1.tcr;
  const cd = new Array<bigint>(8).fill(0n);
  cd[0] =
    f(tcr.tsz, CD_0_TCR_T0SZ) |
    f(tcr.tg, CD_0_TCR_TG0) |
    f(tcr.irgn, CD_0_TCR_IRGN0) |
    f(tcr.orgn, CD_0_TCR_ORGN0) |
    f(tcr.sh, CD_0_TCR_SH0) |
    CD_0_TCR_EPD1 |
    CD_0_V |
    f(tcr.ips, CD_0_TCR_IPS) |
    CD_0_AA64 |
    (master.stallEnabled ? CD_0_S : 0n) |
    CD_0_R |
    CD_0_A |
    CD_0_ASET |
    f(d.asid, CD_0_ASID);
  // Hardware dirty state needs the access flag updates too.
  if (cfg.quirks & IO_PGTABLE_QUIRK_ARM_HD) cd[0] |= CD_0_TCR_HA | CD_0_TCR_HD;
  cd[1] = s1.ttbr & CD_1_TTB0_MASK;
  cd[3] = s1.mair;
  return cd;
}

/** `arm_smmu_make_s2_domain_ste`: the stream table entry of a stage-2 paging domain. */
export function armSmmuMakeS2DomainSte(d: ArmSmmuDomain, master: MasterOptions = {}): bigint[] {
  const cfg = d.pgtblCfg;
  const s2 = cfg.armLpaeS2Cfg;
  if (d.stage !== "s2" || !s2) throw new TypeError("arm_smmu_make_s2_domain_ste: not a stage-2 domain");
  const vtcr = s2.vtcr;
  const ste = new Array<bigint>(8).fill(0n);
  ste[0] = STE_0_V | (STE_0_CFG_S2_TRANS << STE_0_CFG);
  ste[1] = (master.atsEnabled ? STE_1_EATS_TRANS : 0n) << STE_1_EATS;
  if (cfg.quirks & IO_PGTABLE_QUIRK_ARM_S2FWB) ste[1] |= STE_1_S2FWB;
  if (d.smmu.features & ARM_SMMU_FEAT_ATTR_TYPES_OVR) ste[1] |= STE_1_SHCFG_INCOMING << STE_1_SHCFG;
  const vtcrVal =
    f(vtcr.tsz, VTCR_S2T0SZ) |
    f(vtcr.sl, VTCR_S2SL0) |
    f(vtcr.irgn, VTCR_S2IR0) |
    f(vtcr.orgn, VTCR_S2OR0) |
    f(vtcr.sh, VTCR_S2SH0) |
    f(vtcr.tg, VTCR_S2TG) |
    f(vtcr.ps, VTCR_S2PS);
  ste[2] =
    f(d.vmid, STE_2_S2VMID) |
    (vtcrVal << STE_2_VTCR) |
    STE_2_S2AA64 |
    STE_2_S2PTW |
    (master.stallEnabled ? STE_2_S2S : 0n) |
    STE_2_S2R;
  ste[3] = s2.vttbr & STE_3_S2TTB_MASK;
  return ste;
}
