import { IommuCounters, PhysMem, SizeOut, TableAllocator } from "@iommu/core";
import { describe, expect, it } from "vitest";
import { type ArmV7sIoPgtable, armV7sInitFns } from "./arm-v7s.js";
import { type ArmV7sSelftestState, armV7sDoSelftests } from "./selftest.js";

function setup() {
  const counters = new IommuCounters();
  const allocator = new TableAllocator(new PhysMem(), { counters });
  return { counters, allocator };
}

describe("arm_v7s_do_selftests", () => {
  it("passes without a WARN and leaves no table behind", () => {
    const { counters, allocator } = setup();
    const state: ArmV7sSelftestState = { running: false };
    expect(armV7sDoSelftests(allocator, counters, state)).toEqual({ ret: 0 });
    expect(counters.warns).toBe(0);
    expect(allocator.liveCount).toBe(0);
    // L1 + the L2 tables of the 4K (iova 0) and 64K (iova 16M) mappings.
    expect(counters.tablesAllocated).toBe(3);
    expect(counters.tablesFreed).toBe(3);
    expect(state.running).toBe(false);
  });

  it("returns -EINVAL when the table cannot be allocated", () => {
    const { counters, allocator } = setup();
    allocator.failNth(1);
    const state: ArmV7sSelftestState = { running: false };
    expect(armV7sDoSelftests(allocator, counters, state)).toEqual({ ret: -22 });
    // Like the kernel's early return, the flag stays set (in this run's state only).
    expect(state.running).toBe(true);
  });

  it("fails with -EFAULT and one WARN when a check fails (an L2 table cannot be had)", () => {
    const { counters, allocator } = setup();
    allocator.failNth(2); // the L1 succeeds, the first slab block does not
    const state: ArmV7sSelftestState = { running: false };
    expect(armV7sDoSelftests(allocator, counters, state)).toEqual({ ret: -14 });
    expect(counters.warns).toBe(1);
    expect(state.running).toBe(false);
  });

  it("keeps its flag per run: another table mapping over a live entry still WARNs", () => {
    const { counters, allocator } = setup();
    const state: ArmV7sSelftestState = { running: true };
    allocator.failNth(1);
    armV7sDoSelftests(allocator, counters, state);
    expect(state.running).toBe(true);
    // A table of another run (or none) does not see this run's flag.
    const other = setup();
    const cfg = {
      quirks: 0,
      pgsizeBitmap: 0x111_1000,
      ias: 32,
      oas: 32,
      coherentWalk: true,
      allocator: other.allocator,
      counters: other.counters,
    };
    const iop = armV7sInitFns.alloc(cfg, null) as ArmV7sIoPgtable;
    expect(iop.selftestState).toBeNull();
    iop.mapPages(0, 0, 0x1000, 1, 3, 0, new SizeOut());
    expect(iop.mapPages(0, 0, 0x1000, 1, 3, 0, new SizeOut())).toBe(-17);
    expect(other.counters.warns).toBe(1);
  });
});
