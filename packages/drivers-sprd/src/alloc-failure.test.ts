/**
 * drivers/iommu/sprd-iommu.c: allocation failure. The flat table is allocated once, at attach;
 * maps allocate nothing, so an injected failure cannot reach them. The two allocations that
 * exist — the fault page at probe and the table at attach — fail cleanly.
 */
import { IOMMU_READ, IOMMU_WRITE, IommuError, iommuMap, PhysMem, TableAllocator } from "@iommu/core";
import { describe, expect, it } from "vitest";
import { SprdIommu } from "./driver.js";
import { leaves, setup } from "./testing/harness.js";

describe("allocation failure", () => {
  it("maps allocate no table: a pending failure is not consumed", () => {
    const { iommu, d } = setup();
    iommu.allocator.failNth(1);
    const before = d.counters.tablesAllocated;
    iommuMap(d, 0, 0x4000_0000, 0x10_0000, IOMMU_READ | IOMMU_WRITE);
    expect(d.counters.tablesAllocated).toBe(before);
    expect(leaves(d).size).toBe(256);
    expect(iommu.allocator.alloc(0x1000)).toBe(-1); // still armed
  });

  it("attach: the table allocation fails → -ENOMEM, nothing leaked", () => {
    const iommu = new SprdIommu();
    iommu.allocator.failNth(1);
    expect(iommu.domainAllocPagingFlags(0)).toBe(-12);
    expect(iommu.allocator.liveCount).toBe(1); // the fault page only
  });

  it("probe: the fault page allocation fails → ENOMEM", () => {
    const allocator = new TableAllocator(new PhysMem());
    allocator.failNth(1);
    expect(() => new SprdIommu({ allocator })).toThrow(IommuError);
    expect(allocator.liveCount).toBe(0);
  });
});
