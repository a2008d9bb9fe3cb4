/**
 * Allocation failure at every table allocation, rolled back: the first attach
 * (arm_smmu_init_domain_context: alloc_io_pgtable_ops fails → -ENOMEM, the context bank is
 * released and the domain stays unfinalised, so a later attach can succeed) and a map into
 * an empty table (each missing level's table in turn).
 */
import {
  ERRNO,
  IOMMU_READ,
  IOMMU_WRITE,
  IommuCounters,
  type IommuError,
  iommuIovaToPhys,
  iommuMap,
  PhysMem,
  SZ_4K,
  TableAllocator,
} from "@iommu/core";
import { describe, expect, it } from "vitest";
import { ArmSmmu, type ArmSmmuOptions } from "./arm-smmu.js";
import type { ArmSmmuDomain } from "./domain.js";
import { QcomIommu } from "./qcom-iommu.js";

const CONFIGS: Array<[string, ArmSmmuOptions]> = [
  ["AArch64 4K S1", { granules: [SZ_4K] }],
  ["AArch64 16K S1", { granules: [0x4000] }],
  ["AArch64 64K S1", { granules: [0x10000] }],
  ["AArch64 4K S2, 40-bit (concatenated pgd)", { stage1: false, ias: 40, oas: 40 }],
  ["AArch32-L S1 (v1)", { version: "v1", ias: 40 }],
  ["AArch32-S S1 (32-bit kernel)", { kernel: "arm32", aarch32S: true }],
];

function fresh(hw: ArmSmmuOptions) {
  const smmu = new ArmSmmu(hw);
  const counters = new IommuCounters();
  const allocator = new TableAllocator(new PhysMem(), { counters });
  const d = smmu.domainAllocPagingFlags(0, { allocator, counters }) as ArmSmmuDomain;
  return { smmu, d, allocator };
}

describe.each(CONFIGS)("%s", (_name, hw) => {
  it("first attach: every allocation failing in turn → -ENOMEM, nothing kept, the next attach works", () => {
    const probe = fresh(hw);
    expect(probe.smmu.attachDev(probe.d)).toBe(0);
    const allocations = probe.allocator.allocatedTotal;
    expect(allocations).toBeGreaterThan(0);
    for (let n = 1; n <= allocations; n++) {
      const { smmu, d, allocator } = fresh(hw);
      allocator.failNth(n);
      expect(smmu.attachDev(d)).toBe(-ERRNO.ENOMEM);
      expect(d.smmu).toBeNull();
      expect(d.pgtblOps).toBeNull();
      expect(d.cfg.cbndx).toBe(-1);
      expect(d.pgsizeBitmap).toBe(smmu.pgsizeBitmap);
      expect(d.geometry.forceAperture).toBe(false);
      expect(smmu.contextMap.every((x) => x === null)).toBe(true);
      expect(allocator.liveCount).toBe(0);
      expect(smmu.attachDev(d)).toBe(0);
      expect(d.cfg.cbndx).toBeGreaterThanOrEqual(0);
    }
  });

  it("a smallest-page map into an empty table: each table allocation failing in turn → ENOMEM, nothing translates, a retry maps", () => {
    const probe = fresh(hw);
    probe.smmu.attachDev(probe.d);
    const page = 2 ** Math.log2(probe.d.pgsizeBitmap & -probe.d.pgsizeBitmap);
    const before = probe.allocator.allocatedTotal;
    iommuMap(probe.d, 0x4000_0000, 0x1000_0000, page, IOMMU_READ | IOMMU_WRITE);
    const tables = probe.allocator.allocatedTotal - before;
    expect(tables).toBeGreaterThan(0);
    for (let n = 1; n <= tables; n++) {
      const { smmu, d, allocator } = fresh(hw);
      smmu.attachDev(d);
      allocator.failNth(n);
      let code = "";
      try {
        iommuMap(d, 0x4000_0000, 0x1000_0000, page, IOMMU_READ | IOMMU_WRITE);
      } catch (e) {
        code = (e as IommuError).code;
      }
      expect(code).toBe("ENOMEM");
      expect(iommuIovaToPhys(d, 0x4000_0000)).toBe(0);
      iommuMap(d, 0x4000_0000, 0x1000_0000, page, IOMMU_READ | IOMMU_WRITE);
      expect(iommuIovaToPhys(d, 0x4000_0123)).toBe(0x1000_0123);
    }
  });
});

describe("qcom_iommu", () => {
  it("qcom_iommu_init_domain: the table allocation failing → -ENOMEM, domain unfinalised, retry works", () => {
    const iommu = new QcomIommu();
    const allocator = new TableAllocator(new PhysMem());
    const d = iommu.domainAllocPagingFlags(0, { allocator });
    if (typeof d === "number") throw new Error("alloc");
    allocator.failNth(1);
    expect(iommu.attachDev(d, [0])).toBe(-ERRNO.ENOMEM);
    expect([d.iommu, d.pgtblOps, d.geometry.forceAperture, iommu.ctxDomain[0]]).toEqual([
      null,
      null,
      false,
      null,
    ]);
    expect(iommu.attachDev(d, [0])).toBe(0);
  });
});
