import { describe, expect, it } from "vitest";
import { UserMm } from "./mm.js";

describe("__account_locked_vm", () => {
  it("charges against RLIMIT_MEMLOCK in pages unless bypassed", () => {
    const mm = new UserMm({ rlimitMemlock: 0x3fff }); // 3 pages after >> 12
    expect(mm.memlockLimitPages).toBe(3);
    expect(mm.accountLockedVm(3, true, false)).toBe(0);
    expect(mm.accountLockedVm(1, true, false)).toBe(-12);
    expect(mm.lockedVm).toBe(3);
    expect(mm.accountLockedVm(10, true, true)).toBe(0);
    expect(mm.lockedVm).toBe(13);
  });

  it("clamps an over-uncharge at 0 with a WARN", () => {
    const mm = new UserMm();
    mm.accountLockedVm(2, true, false);
    expect(mm.accountLockedVm(5, false, false)).toBe(0);
    expect(mm.lockedVm).toBe(0);
    expect(mm.counters.warns).toBe(1);
  });

  it("treats the default limit as unlimited (ULONG_MAX >> PAGE_SHIFT)", () => {
    expect(new UserMm().memlockLimitPages).toBe(2 ** 52 - 1);
  });
});
