/**
 * The arm-smmu paging domain's life: allocation (no table), behaviour before the first attach
 * (arm_smmu_map_pages → -ENODEV, unmap → 0, iova_to_phys → 0), the first attach
 * (arm_smmu_init_domain_context: context bank, ASID/VMID, page sizes, geometry), later
 * attaches, free, and the geometry edges.
 */
import {
  ERRNO,
  IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
  IOMMU_READ,
  IOMMU_WRITE,
  IommuError,
  iommuIovaToPhys,
  iommuIovaToPhysLength,
  iommuMap,
  iommuUnmap,
  PhysLength,
  SizeOut,
  SZ_1G,
  SZ_2M,
  SZ_4K,
} from "@iommu/core";
import { describe, expect, it } from "vitest";
import { ArmSmmu, ArmSmmuMaster } from "./arm-smmu.js";
import type { ArmSmmuDomain } from "./domain.js";

const RW = IOMMU_READ | IOMMU_WRITE;

function alloc(smmu: ArmSmmu): ArmSmmuDomain {
  const d = smmu.domainAllocPagingFlags(0);
  if (typeof d === "number") throw new Error(`alloc ${d}`);
  return d;
}

describe("before the first attach (no page table)", () => {
  const smmu = new ArmSmmu({ granules: [SZ_4K, 0x10000] });
  const d = alloc(smmu);

  it("the domain has the SMMU-wide pgsize_bitmap, no geometry, no context bank", () => {
    expect(d.pgsizeBitmap).toBe(smmu.pgsizeBitmap);
    expect(d.geometry).toEqual({ apertureStart: 0, apertureEnd: 0, forceAperture: false });
    expect(d.smmu).toBeNull();
    expect(d.cfg.cbndx).toBe(-1);
    expect(d.pgtblOps).toBeNull();
  });

  it("arm_smmu_map_pages: -ENODEV (raw op and through iommu_map)", () => {
    const mapped = new SizeOut();
    expect(d.ops!.mapPages(d, 0, 0, SZ_4K, 1, RW, 0, mapped)).toBe(-ERRNO.ENODEV);
    expect(mapped.value).toBe(0);
    expect(() => iommuMap(d, 0, 0x1000, SZ_4K, RW)).toThrow(IommuError);
  });

  it("arm_smmu_unmap_pages: 0; iommu_iova_to_phys: 0; iova_to_phys_length: unmapped, smallest page", () => {
    expect(d.ops!.unmapPages(d, 0, SZ_4K, 1, null)).toBe(0);
    expect(iommuUnmap(d, 0, SZ_4K)).toBe(0);
    expect(iommuIovaToPhys(d, 0x1234)).toBe(0);
    const out = iommuIovaToPhysLength(d, 0x1234, new PhysLength());
    expect(out.mapped).toBe(false);
    expect(out.length).toBe(SZ_4K);
    expect(d.ops!.inspect!(d)).toBeNull();
  });

  it("arm_smmu_iotlb_sync and flush_iotlb_all do nothing without a context", () => {
    d.ops!.flushIotlbAll!(d);
    expect(smmu.hw.totals.invalidations + smmu.hw.totals.tlbsync + smmu.hw.totals.tlbgsync).toBe(0);
  });

  it("freeing a never-attached domain releases nothing", () => {
    const e = alloc(smmu);
    e.ops!.free!(e);
    expect(smmu.contextMap.every((x) => x === null)).toBe(true);
  });

  it("domain_alloc_paging only: any iommufd flag is -EOPNOTSUPP", () => {
    expect(smmu.domainAllocPagingFlags(IOMMU_HWPT_ALLOC_DIRTY_TRACKING)).toBe(-ERRNO.EOPNOTSUPP);
  });
});

describe("first attach and after", () => {
  it("S1 banks start after the stage-2-only ones; ASID = cbndx; S2 VMID = cbndx + 1", () => {
    const smmu = new ArmSmmu({ contextBanks: 4, s2ContextBanks: 2 });
    const a = alloc(smmu);
    const b = alloc(smmu);
    expect(smmu.attachDev(a)).toBe(0);
    expect(smmu.attachDev(b)).toBe(0);
    expect([a.cfg.cbndx, a.cfg.asid, b.cfg.cbndx, b.cfg.asid]).toEqual([2, 2, 3, 3]);
    // Both S1 banks are used: the next S1 domain has none (-ENOSPC), though banks 0-1 are free.
    const c = alloc(smmu);
    expect(smmu.attachDev(c)).toBe(-ERRNO.ENOSPC);
    expect(c.smmu).toBeNull();
    // Freeing a domain returns its bank.
    a.ops!.free!(a);
    expect(smmu.attachDev(c)).toBe(0);
    expect(c.cfg.cbndx).toBe(2);

    const s2 = new ArmSmmu({ stage1: false, contextBanks: 4 });
    const v = alloc(s2);
    expect(s2.attachDev(v)).toBe(0);
    expect([v.stage, v.cfg.cbndx, v.cfg.vmid, v.cfg.asid]).toEqual(["s2", 0, 1, 0]);
  });

  it("a second attach keeps the context; another SMMU refuses the domain (-EINVAL)", () => {
    const smmu = new ArmSmmu();
    const d = alloc(smmu);
    expect(smmu.attachDev(d)).toBe(0);
    const ops = d.pgtblOps;
    expect(smmu.attachDev(d)).toBe(0);
    expect(d.pgtblOps).toBe(ops);
    expect(new ArmSmmu({ name: "other" }).attachDev(d)).toBe(-ERRNO.EINVAL);
  });

  it("context bank registers: TCR (T0SZ, TG0, EPD1), TTBR0 with the ASID in [63:48]", () => {
    const smmu = new ArmSmmu({ contextBanks: 8, s2ContextBanks: 3 });
    const d = new ArmSmmuMaster(smmu).domainAllocPagingFlags(0) as ArmSmmuDomain;
    const cb = smmu.hw.cbs[3]!;
    expect(cb.enabled).toBe(true);
    expect(cb.tcr & 0x3f).toBe(16); // T0SZ = 64 - 48
    expect((cb.tcr >>> 14) & 3).toBe(0); // TG0 = 4K
    expect(cb.tcr & (1 << 23)).not.toBe(0); // EPD1: no TTBR1 walks
    expect(cb.ttbr0 >> 48n).toBe(3n);
    expect(Number(cb.ttbr0 & 0xffff_ffff_ffffn)).toBe(Number(d.pgtblCfg!.armLpaeS1Cfg!.ttbr));
    d.ops!.free!(d);
    expect(cb.enabled).toBe(false);
  });
});

describe("geometry edges", () => {
  it("48-bit S1: the last page below 2^48 maps and translates; the aperture ends at 2^48 - 1", () => {
    const smmu = new ArmSmmu();
    const d = new ArmSmmuMaster(smmu).domainAllocPagingFlags(0) as ArmSmmuDomain;
    expect(d.geometry.apertureEnd).toBe(2 ** 48 - 1);
    iommuMap(d, 2 ** 48 - SZ_4K, 0x8000_0000, SZ_4K, RW);
    expect(iommuIovaToPhys(d, 2 ** 48 - 1)).toBe(0x8000_0fff);
    // One past the end: the format refuses the IOVA (-ERANGE from io-pgtable-arm).
    expect(d.ops!.mapPages(d, 2 ** 48, 0, SZ_4K, 1, RW, 0, new SizeOut())).toBe(-ERRNO.ERANGE);
  });

  it("32-bit v7s context: aperture [0, 2^32 - 1]; a 16M supersection at the top translates", () => {
    const smmu = new ArmSmmu({ kernel: "arm32", aarch32S: true });
    const d = new ArmSmmuMaster(smmu).domainAllocPagingFlags(0) as ArmSmmuDomain;
    expect(d.geometry).toEqual({ apertureStart: 0, apertureEnd: 2 ** 32 - 1, forceAperture: true });
    iommuMap(d, 2 ** 32 - 0x100_0000, 0x4000_0000, 0x100_0000, RW);
    const out = iommuIovaToPhysLength(d, 2 ** 32 - 1, new PhysLength());
    expect([out.mapped, out.phys, out.length]).toEqual([true, 0x40ff_ffff, 0x100_0000]);
  });

  it("1G and 2M blocks on a 4K AArch64 context report their block as the length", () => {
    const smmu = new ArmSmmu();
    const d = new ArmSmmuMaster(smmu).domainAllocPagingFlags(0) as ArmSmmuDomain;
    iommuMap(d, SZ_1G, 0x1_0000_0000, SZ_1G, RW);
    iommuMap(d, 2 * SZ_1G, 0x2_0000_0000, SZ_2M, RW);
    const out = new PhysLength();
    iommuIovaToPhysLength(d, SZ_1G + 0x1234_5678, out);
    expect([out.phys, out.length]).toEqual([0x1_1234_5678, SZ_1G]);
    iommuIovaToPhysLength(d, 2 * SZ_1G + 0x1_0001, out);
    expect([out.phys, out.length]).toEqual([0x2_0001_0001, SZ_2M]);
  });
});
