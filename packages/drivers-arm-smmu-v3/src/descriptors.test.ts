import {
  IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
  IOMMU_HWPT_ALLOC_NEST_PARENT,
  IOMMU_READ,
  IOMMU_WRITE,
  iommuMap,
  iommuPagingDomainAllocFlags,
} from "@iommu/core";
import { describe, expect, it } from "vitest";
import { ArmSmmuV3 } from "./arm-smmu-v3.js";
import { armSmmuMakeS1Cd, armSmmuMakeS2DomainSte } from "./descriptors.js";

describe("arm_smmu_make_s1_cd", () => {
  it("packs TCR, ASID, TTBR0 and MAIR of a coherent 4K/48-bit domain", () => {
    const d = new ArmSmmuV3().domainAllocPaging();
    const cd = armSmmuMakeS1Cd(d);
    // T0SZ 16, TG0 4K, IRGN0/ORGN0 WBWA, SH0 inner, EPD1, V, IPS 48-bit (5), AA64, R, A, ASET, ASID 1.
    expect(cd[0]).toBe(0x0001_e205_c000_3510n);
    expect(cd[1]).toBe(d.pgtblCfg.armLpaeS1Cfg!.ttbr);
    expect(cd[1]! & 0xfffn).toBe(0n);
    // MAIR: NC, WBRWA, device, inner-NC/outer-WBRWA in attribute indices 0..3.
    expect(cd[3]).toBe(0xf404ff44n);
    expect([cd[2], cd[4], cd[5], cd[6], cd[7]]).toEqual([0n, 0n, 0n, 0n, 0n]);
  });

  it("sets HA|HD for a dirty-tracking domain and S for a stalling master; 64K granule TG0", () => {
    const smmu = new ArmSmmuV3({ httu: "access-dirty", granules: [0x10000], oas: 40 });
    const d = iommuPagingDomainAllocFlags(smmu, IOMMU_HWPT_ALLOC_DIRTY_TRACKING);
    const w = armSmmuMakeS1Cd(d, { stallEnabled: true })[0]!;
    expect((w >> 42n) & 3n).toBe(3n); // HD, HA
    expect((w >> 44n) & 1n).toBe(1n); // S
    expect((w >> 6n) & 3n).toBe(1n); // TG0 = 64K
    expect((w >> 32n) & 7n).toBe(2n); // IPS = 40-bit
    expect(w & 0x3fn).toBe(16n); // T0SZ = 64 - 48
  });

  it("describes a non-coherent walker as outer shareable, non-cacheable", () => {
    const w = armSmmuMakeS1Cd(new ArmSmmuV3({ coherent: false }).domainAllocPaging())[0]!;
    expect([(w >> 8n) & 3n, (w >> 10n) & 3n, (w >> 12n) & 3n]).toEqual([0n, 0n, 2n]);
  });
});

describe("arm_smmu_make_s2_domain_ste", () => {
  it("packs VMID, VTCR and VTTBR of a 4K/48-bit stage-2 domain", () => {
    const d = new ArmSmmuV3({ stage1: false }).domainAllocPaging();
    iommuMap(d, 0x4000_0000, 0x1_0000_0000, 0x1000, IOMMU_READ | IOMMU_WRITE);
    const ste = armSmmuMakeS2DomainSte(d);
    expect(ste[0]).toBe(0xdn); // V, Config = S2 translate
    expect(ste[1]).toBe(0n);
    // VMID 1; VTCR: T0SZ 16, SL0 2 (start at level 0), IR0/OR0 WBWA, SH0 inner, TG 4K, PS 48-bit;
    // S2AA64, S2PTW, S2R.
    expect(ste[2]).toBe(0x044d_3590_0000_0001n);
    expect(ste[3]).toBe(d.pgtblCfg.armLpaeS2Cfg!.vttbr);
  });

  it("sets S2FWB for a nest parent with FWB, SHCFG with ATTR_TYPES_OVR, EATS with ATS, S2S when stalling", () => {
    const d = iommuPagingDomainAllocFlags(
      new ArmSmmuV3({ fwb: true, attrTypesOvr: true }),
      IOMMU_HWPT_ALLOC_NEST_PARENT,
    );
    const ste = armSmmuMakeS2DomainSte(d, { atsEnabled: true, stallEnabled: true });
    expect(ste[1]).toBe((1n << 25n) | (1n << 28n) | (1n << 44n));
    expect((ste[2]! >> 57n) & 1n).toBe(1n);
  });

  it("refuses the wrong stage", () => {
    const s1 = new ArmSmmuV3().domainAllocPaging();
    expect(() => armSmmuMakeS2DomainSte(s1)).toThrow(TypeError);
    expect(() => armSmmuMakeS1Cd(new ArmSmmuV3({ stage1: false }).domainAllocPaging())).toThrow(TypeError);
  });
});
