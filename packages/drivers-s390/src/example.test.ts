// drivers/iommu/s390-iommu.c: the README's example runs as written.
import { IOMMU_READ, iommuIovaToPhys, iommuIovaToPhysLength, iommuMap } from "@iommu/core";
import { expect, it } from "vitest";
import { S390Iommu } from "./index.js";

it("README example", () => {
  const zdev = new S390Iommu({ memoryBytes: 16 * 2 ** 30 });
  const d = zdev.domainAllocPagingFlags(0);
  if (typeof d === "number") throw new Error(`errno ${d}`);
  expect(zdev.attach(d)).toBe(0);
  expect([d.levels, zdev.iota]).toEqual([3, 0x80000804n]);
  iommuMap(d, 0x100000000, 0x90000000, 0x1000, IOMMU_READ);
  expect(iommuIovaToPhys(d, 0x100000123)).toBe(0x90000000);
  const a = iommuIovaToPhysLength(d, 0x100000123);
  expect([a.mapped, a.phys, a.length]).toEqual([true, 0x90000123, 0x1000]);
  const b = iommuIovaToPhysLength(d, 0x180000000);
  expect([b.mapped, b.length]).toEqual([false, 0x80000000]);
});
