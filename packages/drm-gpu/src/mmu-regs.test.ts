import { describe, expect, it } from "vitest";
import { lockRegion, mairToMemattr } from "./mmu-regs.js";

describe("lock_region / pack_region_range", () => {
  it("rounds a small region up to AS_LOCK_REGION_MIN_SIZE (32K, width 14)", () => {
    expect(lockRegion(0x1000n, 0x1000n)).toEqual({ lockaddr: 14n, start: 0n, size: 0x8000n });
  });
  it("the smallest naturally aligned block around the range", () => {
    // [0x3e000000, 0x42000000): highest differing bit 30 → a 2 GiB block at 0.
    expect(lockRegion(0x3e00_0000n, 0x400_0000n)).toEqual({ lockaddr: 30n, start: 0n, size: 1n << 31n });
    // [1G + 1M, +64K): bit 15 differs → width 15, a 64K block.
    expect(lockRegion(0x4010_0000n, 0x1_0000n)).toEqual({
      lockaddr: 0x4010_0000n | 15n,
      start: 0x4010_0000n,
      size: 0x1_0000n,
    });
  });
  it("the whole space (0, ~0ULL): end wraps, width 63", () => {
    expect(lockRegion(0n, (1n << 64n) - 1n)).toEqual({ lockaddr: 63n, start: 0n, size: 1n << 64n });
  });
  it("size 0 locks nothing", () => {
    expect(lockRegion(0x1000n, 0n)).toBeNull();
  });
});

describe("mair_to_memattr", () => {
  // io-pgtable-arm S1 MAIR: attr0 NC 0x44, attr1 WBRWA 0xff, attr2 DEVICE 0x04, attr3 0xf4.
  const MAIR = 0xf4_04_ff_44n;
  it("non-coherent: NC → 0x4c, WB RW-allocate → 0x8f, 0xf4 (WB, no hints) → 0x8c", () => {
    // 0xf4: outer 0xf, inner 0x4 → write-back, no allocation hints → 0x80 | 0x0c.
    expect(mairToMemattr(MAIR, false)).toBe(0x4c4c4c4c_8c4c8f4cn);
  });
  it("coherent: write-back attributes get SH_CPU_INNER (0x10)", () => {
    expect(mairToMemattr(MAIR, true)).toBe(0x4c4c4c4c_9c4c9f4cn);
  });
});
