// drivers/iommu/mtk_iommu_v1.c: the README's example runs as written.
import { IOMMU_READ, IOMMU_WRITE, iommuIovaToPhys, iommuIovaToPhysLength, iommuMap } from "@iommu/core";
import { expect, it } from "vitest";
import { MtkIommuV1 } from "./index.js";

it("README example", () => {
  const m4u = new MtkIommuV1();
  const d = m4u.domainAllocPagingFlags(0);
  if (typeof d === "number") throw new Error(`errno ${d}`);
  expect(m4u.attach(d)).toBe(0);
  expect([d.pgtPa, m4u.readReg(0)]).toEqual([0x80000000, 0x80000000]);
  iommuMap(d, 0x70000, 0x123456000, 0x2000, IOMMU_READ | IOMMU_WRITE);
  expect([d.allocator.mem.read32(d.pgtPa + 0x1c0), d.allocator.mem.read32(d.pgtPa + 0x1c4)]).toEqual([
    0x2345600a, 0x2345700a,
  ]);
  expect(iommuIovaToPhys(d, 0x70abc)).toBe(0x23456000);
  const o = iommuIovaToPhysLength(d, 0x70abc);
  expect([o.mapped, o.phys, o.length]).toEqual([true, 0x23456abc, 0x1000]);
});
