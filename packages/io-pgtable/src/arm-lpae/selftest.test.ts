import { IommuCounters, PhysMem, TableAllocator } from "@iommu/core";
import { describe, expect, it } from "vitest";
import { armLpaeDoSelftests } from "./selftest.js";

describe("the kernel's io-pgtable-arm selftest, ported", () => {
  it("passes all 63 configurations on ARM_64_LPAE_S1 and S2 without a WARN", () => {
    const counters = new IommuCounters();
    const allocator = new TableAllocator(new PhysMem(), { counters });
    const log: string[] = [];
    expect(armLpaeDoSelftests({ allocator, counters, log: (l) => log.push(l) })).toEqual({
      pass: 63,
      fail: 0,
    });
    expect(counters.warns).toBe(0);
    expect(log[0]).toBe("pgsize_bitmap 0x40201000, IAS 32 OAS 32");
    expect(log.at(-1)).toBe("completed with 63 PASS 0 FAIL");
    // Every table of every run was freed again.
    expect(allocator.liveCount).toBe(0);
    expect(counters.tablesAllocated).toBe(counters.tablesFreed);
  });
});
