// drivers/iommu/omap-iommu.c: the README's example runs as written.
import { IOMMU_READ, IOMMU_WRITE, iommuIovaToPhysLength, iommuMap, iommuUnmap } from "@iommu/core";
import { expect, it } from "vitest";
import { MMU_CNTL, MMU_TTB, OmapIommu } from "./index.js";

it("README example", () => {
  const omap = new OmapIommu({ soc: "omap4" });
  const d = omap.domainAllocPagingFlags(0);
  if (typeof d === "number") throw new Error(`errno ${d}`);
  expect(omap.attach(d)).toBe(0);
  expect([d.iommus[0]!.pgtable, omap.mmus[0]!.peek(MMU_TTB), omap.mmus[0]!.peek(MMU_CNTL)]).toEqual([
    0x80000000, 0x80000000, 6,
  ]);
  iommuMap(d, 0x1000000, 0x81000000, 0x1111000, IOMMU_READ | IOMMU_WRITE);
  const a = iommuIovaToPhysLength(d, 0x1abcdef);
  expect([a.mapped, a.phys, a.length]).toEqual([true, 0x81abcdef, 0x1000000]);
  const b = iommuIovaToPhysLength(d, 0x210abcd);
  expect([b.mapped, b.phys, b.length]).toEqual([true, 0x8210abcd, 0x10000]);
  expect(iommuUnmap(d, 0x4abc000, 0x1000)).toBe(0);
  expect(iommuUnmap(d, 0x1abc000, 0x1000)).toBe(0x1000000);
});
