import { IommuCounters, PhysMem, TableAllocator } from "@iommu/core";
import { describe, expect, it } from "vitest";
import { armV7sSelftestState } from "./arm-v7s.js";
import { armV7sDoSelftests } from "./selftest.js";

function setup() {
  const counters = new IommuCounters();
  const allocator = new TableAllocator(new PhysMem(), { counters });
  return { counters, allocator };
}

describe("arm_v7s_do_selftests", () => {
  it("passes without a WARN and leaves no table behind", () => {
    const { counters, allocator } = setup();
    expect(armV7sDoSelftests(allocator, counters)).toEqual({ ret: 0 });
    expect(counters.warns).toBe(0);
    expect(allocator.liveCount).toBe(0);
    // L1 + the L2 tables of the 4K (iova 0) and 64K (iova 16M) mappings.
    expect(counters.tablesAllocated).toBe(3);
    expect(counters.tablesFreed).toBe(3);
    expect(armV7sSelftestState.running).toBe(false);
  });

  it("returns -EINVAL when the table cannot be allocated", () => {
    const { counters, allocator } = setup();
    allocator.failNth(1);
    expect(armV7sDoSelftests(allocator, counters)).toEqual({ ret: -22 });
    // Like the kernel's early return, the flag stays set; put it back for the other tests.
    expect(armV7sSelftestState.running).toBe(true);
    armV7sSelftestState.running = false;
  });

  it("fails with -EFAULT and one WARN when a check fails (an L2 table cannot be had)", () => {
    const { counters, allocator } = setup();
    allocator.failNth(2); // the L1 succeeds, the first slab block does not
    expect(armV7sDoSelftests(allocator, counters)).toEqual({ ret: -14 });
    expect(counters.warns).toBe(1);
    expect(armV7sSelftestState.running).toBe(false);
  });
});
