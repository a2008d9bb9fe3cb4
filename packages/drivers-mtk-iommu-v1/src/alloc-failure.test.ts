// drivers/iommu/mtk_iommu_v1.c: the only table allocation is the 4 MiB table at the first attach; maps never allocate.
import { IOMMU_READ, iommuMap, iommuUnmap, PhysMem, TableAllocator } from "@iommu/core";
import { describe, expect, it } from "vitest";
import { MtkIommuV1 } from "./mtk-iommu-v1.js";
import { makeMtk } from "./testing/make.js";

describe("mtk_iommu_v1: table allocation", () => {
  it("a failed first attach (-ENOMEM) leaves nothing allocated and the next attach succeeds", () => {
    const allocator = new TableAllocator(new PhysMem());
    const m4u = new MtkIommuV1({ allocator });
    const d = m4u.domainAllocPagingFlags(0);
    if (typeof d === "number") throw new Error("alloc");
    allocator.failNth(1);
    expect(m4u.attach(d)).toBe(-12);
    expect([allocator.liveCount, d.counters.tablesAllocated, m4u.m4uDom]).toEqual([0, 0, null]);
    expect(m4u.attach(d)).toBe(0);
    expect(allocator.liveCount).toBe(1);
  });

  it("maps and unmaps never allocate: an armed failure is never consumed", () => {
    for (const strict of [false, true]) {
      const t = makeMtk({ strict });
      t.allocator.failNth(1);
      iommuMap(t.d, 0, 0x1000_0000, 0x40_0000, IOMMU_READ);
      iommuUnmap(t.d, 0, 0x40_0000);
      expect([t.allocator.failedTotal, t.allocator.liveCount, t.d.counters.tablesAllocated]).toEqual([
        0, 1, 1,
      ]);
      t.allocator.failNth(0);
    }
  });
});
