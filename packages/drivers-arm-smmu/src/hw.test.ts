/**
 * arm_smmu_device_cfg_probe() and arm_smmu_init_domain_context(): what the ID registers and
 * the kernel configuration make of a paging domain. One row per capability combination,
 * each naming the kernel rule it checks; expected values are written out from the rule, not
 * computed by the code under test.
 */
import {
  IOMMU_CAP_CACHE_COHERENCY,
  IOMMU_CAP_DEFERRED_FLUSH,
  IOMMU_CAP_DIRTY_TRACKING,
  IOMMU_CAP_NOEXEC,
  type IommuError,
  SZ_1G,
  SZ_1M,
  SZ_2M,
  SZ_4K,
  SZ_16K,
  SZ_16M,
  SZ_32M,
  SZ_64K,
  SZ_512M,
} from "@iommu/core";
import { IO_PGTABLE_QUIRK_ARM_TTBR1, IoPgtableFmt } from "@iommu/io-pgtable";
import { describe, expect, it } from "vitest";
import { ArmSmmu, ArmSmmuMaster, type ArmSmmuOptions } from "./arm-smmu.js";
import { armSmmuDeviceCfgProbe, armSmmuIdSizeToBits, encodeIdRegs } from "./hw.js";
import {
  ARM_SMMU_FEAT_COHERENT_WALK,
  ARM_SMMU_FEAT_FMT_AARCH32_L,
  ARM_SMMU_FEAT_FMT_AARCH32_S,
  ARM_SMMU_FEAT_FMT_AARCH64_4K,
  ARM_SMMU_FEAT_TRANS_OPS,
  ARM_SMMU_FEAT_TRANS_S1,
  ARM_SMMU_FEAT_TRANS_S2,
} from "./regs.js";

const LPAE_4K = SZ_4K + SZ_2M + SZ_1G;
const V7S = SZ_4K + SZ_64K + SZ_1M + SZ_16M;

interface Row {
  rule: string;
  hw: ArmSmmuOptions;
  /** smmu->pgsize_bitmap (the union). */
  smmuPgsizes: number;
  transOps: boolean;
  /** After the first attach. */
  stage: "s1" | "s2";
  ctxFmt: string;
  fmt: IoPgtableFmt;
  ias: number;
  oas: number;
  domainPgsizes: number;
}

const ROWS: Row[] = [
  {
    rule: "v2, AArch64 4K on a 64-bit kernel: ARM_64_LPAE_S1, ias = va_size (UBS), oas = ipa_size (IAS)",
    hw: { granules: [SZ_4K], ubs: 48, ias: 44, oas: 48 },
    smmuPgsizes: LPAE_4K,
    transOps: true,
    stage: "s1",
    ctxFmt: "aarch64",
    fmt: IoPgtableFmt.ARM_64_LPAE_S1,
    ias: 48,
    oas: 44,
    domainPgsizes: LPAE_4K,
  },
  {
    rule: "v2 with all three granules: the union, narrowed to the PAGE_SIZE (4K) granule at first attach",
    hw: { granules: [SZ_4K, SZ_16K, SZ_64K], ubs: 48, ias: 48 },
    smmuPgsizes: LPAE_4K + SZ_16K + SZ_32M + SZ_64K + SZ_512M,
    transOps: true,
    stage: "s1",
    ctxFmt: "aarch64",
    fmt: IoPgtableFmt.ARM_64_LPAE_S1,
    ias: 48,
    oas: 48,
    domainPgsizes: LPAE_4K,
  },
  {
    rule: "v2 PTFS_16K only: 16K|32M",
    hw: { granules: [SZ_16K], ubs: 42, ias: 40 },
    smmuPgsizes: SZ_16K + SZ_32M,
    transOps: true,
    stage: "s1",
    ctxFmt: "aarch64",
    fmt: IoPgtableFmt.ARM_64_LPAE_S1,
    ias: 42,
    oas: 40,
    domainPgsizes: SZ_16K + SZ_32M,
  },
  {
    rule: "v2 PTFS_64K only, ID0.ATOSNS set: no FEAT_TRANS_OPS",
    hw: { granules: [SZ_64K], atos: false },
    smmuPgsizes: SZ_64K + SZ_512M,
    transOps: false,
    stage: "s1",
    ctxFmt: "aarch64",
    fmt: IoPgtableFmt.ARM_64_LPAE_S1,
    ias: 48,
    oas: 48,
    domainPgsizes: SZ_64K + SZ_512M,
  },
  {
    rule: "v2 AArch32-L + AArch64 64K on a 64-bit kernel: AArch64 wins, and its granule is 4K from AArch32-L's sizes (quirk aarch64-granule-from-aarch32)",
    hw: { granules: [SZ_64K], aarch32L: true },
    smmuPgsizes: LPAE_4K + SZ_64K + SZ_512M,
    transOps: true,
    stage: "s1",
    ctxFmt: "aarch64",
    fmt: IoPgtableFmt.ARM_64_LPAE_S1,
    ias: 48,
    oas: 48,
    domainPgsizes: LPAE_4K,
  },
  {
    rule: "v1 (always AArch32-L, no AArch64) on a 64-bit kernel: ARM_32_LPAE_S1, va_size = ipa_size, ias ≤ 32, oas ≤ 40; ATOSNS ignored on v1",
    hw: { version: "v1", ias: 48, atos: false },
    smmuPgsizes: LPAE_4K,
    transOps: true,
    stage: "s1",
    ctxFmt: "aarch32-l",
    fmt: IoPgtableFmt.ARM_32_LPAE_S1,
    ias: 32,
    oas: 40,
    domainPgsizes: LPAE_4K,
  },
  {
    rule: "v1-64k (ARM_SMMU_V1_64K): AArch64 64K next to AArch32-L; AArch64 on a 64-bit kernel with ias = ipa_size",
    hw: { version: "v1-64k", ias: 40, oas: 40 },
    smmuPgsizes: LPAE_4K + SZ_64K + SZ_512M,
    transOps: true,
    stage: "s1",
    ctxFmt: "aarch64",
    fmt: IoPgtableFmt.ARM_64_LPAE_S1,
    ias: 40,
    oas: 40,
    domainPgsizes: LPAE_4K,
  },
  {
    rule: "32-bit non-LPAE kernel, AArch32-S offered, stage 1: ARM_V7S with ias, oas ≤ 32",
    hw: { kernel: "arm32", aarch32S: true, granules: [SZ_4K], ubs: 40, ias: 36 },
    smmuPgsizes: V7S + SZ_2M + SZ_1G,
    transOps: true,
    stage: "s1",
    ctxFmt: "aarch32-s",
    fmt: IoPgtableFmt.ARM_V7S,
    ias: 32,
    oas: 32,
    domainPgsizes: V7S,
  },
  {
    rule: "32-bit LPAE kernel with AArch32-L and AArch64: AArch32-L (AArch64 only on 64-bit kernels or when nothing else fits)",
    hw: { kernel: "arm32-lpae", aarch32L: true, granules: [SZ_4K] },
    smmuPgsizes: LPAE_4K,
    transOps: true,
    stage: "s1",
    ctxFmt: "aarch32-l",
    fmt: IoPgtableFmt.ARM_32_LPAE_S1,
    ias: 32,
    oas: 40,
    domainPgsizes: LPAE_4K,
  },
  {
    rule: "32-bit kernel, AArch64 only: nothing else fits, so AArch64",
    hw: { kernel: "arm32", granules: [SZ_4K], ubs: 32, ias: 32 },
    smmuPgsizes: LPAE_4K,
    transOps: true,
    stage: "s1",
    ctxFmt: "aarch64",
    fmt: IoPgtableFmt.ARM_64_LPAE_S1,
    ias: 32,
    oas: 32,
    domainPgsizes: LPAE_4K,
  },
  {
    rule: "stage-2-only SMMU (ID0.S1TS clear): S1 request becomes S2, ias = ipa_size, oas = pa_size, no TRANS_OPS",
    hw: { stage1: false, ias: 40, oas: 44 },
    smmuPgsizes: LPAE_4K,
    transOps: false,
    stage: "s2",
    ctxFmt: "aarch64",
    fmt: IoPgtableFmt.ARM_64_LPAE_S2,
    ias: 40,
    oas: 44,
    domainPgsizes: LPAE_4K,
  },
  {
    rule: "32-bit non-LPAE kernel, stage 2: AArch32-S is S1-only, so ARM_32_LPAE_S2 with ias, oas ≤ 40",
    hw: { kernel: "arm32", stage1: false, aarch32S: true, ias: 48, oas: 48 },
    smmuPgsizes: V7S + SZ_2M + SZ_1G,
    transOps: false,
    stage: "s2",
    ctxFmt: "aarch32-l",
    fmt: IoPgtableFmt.ARM_32_LPAE_S2,
    ias: 40,
    oas: 40,
    domainPgsizes: LPAE_4K,
  },
  {
    rule: "force_stage=2 on an S1+S2 SMMU: stage 2 (and no TRANS_OPS: S1TS is masked first)",
    hw: { forceStage: 2, ias: 40, oas: 40 },
    smmuPgsizes: LPAE_4K,
    transOps: false,
    stage: "s2",
    ctxFmt: "aarch64",
    fmt: IoPgtableFmt.ARM_64_LPAE_S2,
    ias: 40,
    oas: 40,
    domainPgsizes: LPAE_4K,
  },
];

describe("cfg derivation per capability combination (arm_smmu_device_cfg_probe + arm_smmu_init_domain_context)", () => {
  it.each(ROWS.map((r) => [r.rule, r] as const))("%s", (_rule, r) => {
    const smmu = new ArmSmmu(r.hw);
    expect(smmu.pgsizeBitmap).toBe(r.smmuPgsizes);
    expect((smmu.features & ARM_SMMU_FEAT_TRANS_OPS) !== 0).toBe(r.transOps);
    const d = new ArmSmmuMaster(smmu).domainAllocPagingFlags(0);
    if (typeof d === "number") throw new Error(`attach: ${d}`);
    expect(d.stage).toBe(r.stage);
    expect(d.cfg.ctxFmt).toBe(r.ctxFmt);
    expect(d.pgtblCfg!.fmt).toBe(r.fmt);
    expect(d.pgtblCfg!.ias).toBe(r.ias);
    expect(d.pgtblCfg!.oas).toBe(r.oas);
    expect(d.pgsizeBitmap).toBe(r.domainPgsizes);
    expect(d.geometry).toEqual({ apertureStart: 0, apertureEnd: 2 ** r.ias - 1, forceAperture: true });
  });

  it("no context format at all (v2, PTFS_NO_AARCH32, no AArch64 granule): attach fails -EINVAL", () => {
    const smmu = new ArmSmmu({ granules: [] });
    expect(smmu.pgsizeBitmap).toBe(0);
    const d = smmu.domainAllocPagingFlags(0);
    if (typeof d === "number") throw new Error("alloc");
    expect(smmu.attachDev(d)).toBe(-22);
    expect(d.smmu).toBeNull();
  });

  it("coherent_walk follows the firmware, not ID0.CTTW", () => {
    const hwNo = new ArmSmmu({ cttw: true, coherent: false });
    expect(hwNo.features & ARM_SMMU_FEAT_COHERENT_WALK).toBe(0);
    const d = new ArmSmmuMaster(hwNo).domainAllocPagingFlags(0);
    if (typeof d === "number") throw new Error("alloc");
    expect(d.pgtblCfg!.coherentWalk).toBe(false);
    expect(new ArmSmmu({ cttw: false, coherent: true }).features & ARM_SMMU_FEAT_COHERENT_WALK).not.toBe(0);
    expect(new ArmSmmu({ cttw: true }).features & ARM_SMMU_FEAT_COHERENT_WALK).not.toBe(0);
  });

  it("TTBR1 (set_pgtable_quirks before attach, as the Adreno impl): aperture ~0UL << ias .. ~0UL", () => {
    const smmu = new ArmSmmu({ granules: [SZ_4K], ubs: 48 });
    const d = smmu.domainAllocPagingFlags(0);
    if (typeof d === "number") throw new Error("alloc");
    expect(smmu.setPgtableQuirks(d, IO_PGTABLE_QUIRK_ARM_TTBR1)).toBe(0);
    expect(smmu.attachDev(d)).toBe(0);
    expect(d.geometry.apertureStart).toBe(0xffff_0000_0000_0000n);
    expect(d.geometry.apertureEnd).toBe(0xffff_ffff_ffff_ffffn);
    expect(smmu.setPgtableQuirks(d, 0)).toBe(-1); // -EPERM once finalised
  });
});

describe("arm_smmu_device_cfg_probe", () => {
  it("arm_smmu_id_size_to_bits: 0..5 → 32, 36, 40, 42, 44, 48; larger codes read as 48", () => {
    expect([0, 1, 2, 3, 4, 5, 6, 15].map(armSmmuIdSizeToBits)).toEqual([32, 36, 40, 42, 44, 48, 48, 48]);
  });

  it("decodes the fields encodeIdRegs wrote (ID0 S1TS/S2TS/NTS/SMS/NUMSMRG, ID1 NUMCB/NUMS2CB, ID2)", () => {
    const regs = encodeIdRegs({
      nested: true,
      smrGroups: 12,
      contextBanks: 6,
      s2ContextBanks: 2,
      ias: 40,
      oas: 42,
      ubs: 36,
    });
    expect(regs.id0 & 0xff).toBe(12);
    expect(regs.id1).toBe((2 << 16) | 6);
    // ID2: UBS 36 → 1, OAS 42 → 3, IAS 40 → 2, PTFS_4K
    expect(regs.id2).toBe((1 << 12) | (1 << 8) | (3 << 4) | 2);
    const caps = armSmmuDeviceCfgProbe(regs, "v2");
    expect(caps).toMatchObject({
      ipaSize: 40,
      paSize: 42,
      vaSize: 36,
      numContextBanks: 6,
      numS2ContextBanks: 2,
      numMappingGroups: 12,
    });
    expect(caps.features & (ARM_SMMU_FEAT_TRANS_S1 | ARM_SMMU_FEAT_TRANS_S2)).toBe(
      ARM_SMMU_FEAT_TRANS_S1 | ARM_SMMU_FEAT_TRANS_S2,
    );
    expect(caps.features & ARM_SMMU_FEAT_FMT_AARCH64_4K).not.toBe(0);
    expect(caps.features & (ARM_SMMU_FEAT_FMT_AARCH32_L | ARM_SMMU_FEAT_FMT_AARCH32_S)).toBe(0);
  });

  it("refuses: no stage (ENODEV), SMS with zero SMRs (ENODEV), NUMS2CB > NUMCB (ENODEV)", () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as IommuError).code;
      }
      return "ok";
    };
    expect(code(() => new ArmSmmu({ stage1: false, stage2: false }))).toBe("ENODEV");
    expect(code(() => new ArmSmmu({ regs: { id0: (1 << 30) | (1 << 27) } }))).toBe("ENODEV");
    expect(code(() => new ArmSmmu({ contextBanks: 2, s2ContextBanks: 3 }))).toBe("ENODEV");
    expect(code(() => new ArmSmmu({ forceStage: 2, stage2: false }))).toBe("ENODEV");
    expect(code(() => encodeIdRegs({ ias: 39 as 40 }))).toBe("EINVAL");
  });

  it("arm_smmu_capable: coherency from the walker or a coherent master; NOEXEC and DEFERRED_FLUSH; nothing else", () => {
    const nc = new ArmSmmu({ coherent: false });
    expect(nc.capable(IOMMU_CAP_CACHE_COHERENCY)).toBe(false);
    expect(nc.capable(IOMMU_CAP_CACHE_COHERENCY, true)).toBe(true);
    expect(nc.capable(IOMMU_CAP_NOEXEC)).toBe(true);
    expect(nc.capable(IOMMU_CAP_DEFERRED_FLUSH)).toBe(true);
    expect(nc.capable(IOMMU_CAP_DIRTY_TRACKING)).toBe(false);
    expect(new ArmSmmu().capable(IOMMU_CAP_CACHE_COHERENCY)).toBe(true);
  });
});
