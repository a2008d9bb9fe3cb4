// drivers/iommu/tegra-smmu.c: the README's example runs as written.
import { IOMMU_READ, IOMMU_WRITE, iommuIovaToPhysLength, iommuMap, iommuUnmap } from "@iommu/core";
import { expect, it } from "vitest";
import { TegraSmmu } from "./index.js";

it("README example", () => {
  const smmu = new TegraSmmu({ soc: "tegra210" });
  const d = smmu.domainAllocPagingFlags(0);
  if (typeof d === "number") throw new Error(`errno ${d}`);
  expect(smmu.attach(d)).toBe(0);
  expect([d.id, smmu.readReg(0x20)]).toEqual([0, 0xe0080000]);
  iommuMap(d, 0x3fe000, 0x1000000, 0x4000, IOMMU_READ | IOMMU_WRITE);
  const a = iommuIovaToPhysLength(d, 0x400abc);
  expect([a.mapped, a.phys, a.length]).toEqual([true, 0x1002abc, 0x1000]);
  const b = iommuIovaToPhysLength(d, 0x800000);
  expect([b.mapped, b.length]).toEqual([false, 0x400000]);
  expect(iommuUnmap(d, 0x3fe000, 0x4000)).toBe(0x4000);
  expect([d.pts[0], d.pts[1]]).toEqual([-1, -1]);
});
