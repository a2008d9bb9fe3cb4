/**
 * drivers/iommu/rockchip-iommu.c: every quirk of README "Known kernel quirks", pinned twice —
 * as the kernel behaves (the default) and as a `strict` domain reports it.
 */
import { IOMMU_READ, IOMMU_WRITE, iommuIovaToPhys, iommuMap, iommuUnmap } from "@iommu/core";
import { describe, expect, it } from "vitest";
import { RockchipQuirkError } from "./quirks.js";
import { leaves, lookup, pte, rawMap, rawUnmap, setup } from "./testing/harness.js";

const RW = IOMMU_READ | IOMMU_WRITE;
const K4 = 0x1000;
const G4 = 2 ** 32;

function quirkOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof RockchipQuirkError) return e.quirk;
    throw e;
  }
  return "none";
}

describe("iova-aliased", () => {
  it("default: IOVA bits above 31 are ignored", () => {
    const { d } = setup();
    iommuMap(d, G4 + 0x1000, 0x7000_0000, K4, RW);
    expect(iommuIovaToPhys(d, 0x1234)).toBe(0x7000_0234);
    expect(lookup(d, 5 * G4 + 0x1234)).toEqual({ mapped: true, phys: 0x7000_0234n, length: K4 });
    expect(() => iommuMap(d, 0x1000, 0x7100_0000, K4, RW)).toThrow(); // EADDRINUSE: the same PTE
    expect(iommuUnmap(d, 7 * G4 + 0x1000, K4)).toBe(K4);
  });

  it("strict: map and unmap throw; lookups above 4 GiB are unmapped", () => {
    const { d } = setup({}, true);
    iommuMap(d, 0x1000, 0x7000_0000, K4, RW);
    expect(quirkOf(() => iommuMap(d, G4 + 0x2000, 0x7000_0000, K4, RW))).toBe("iova-aliased");
    expect(quirkOf(() => iommuUnmap(d, G4 + 0x1000, K4))).toBe("iova-aliased");
    expect(iommuIovaToPhys(d, G4 + 0x1000)).toBe(0);
    expect(lookup(d, G4 + 0x1000)).toEqual({ mapped: false, phys: 0n, length: G4 }); // [4G, 8G): beyond the table
    expect(leaves(d).size).toBe(1);
  });
});

describe("pa-truncated", () => {
  it("default: v1 keeps PA bits 31:12, v2 bits 39:12", () => {
    const v1 = setup().d;
    iommuMap(v1, 0, 0x1_f000_0000, 0x2000, RW);
    expect(pte(v1, 0x1000) >>> 0).toBe(0xf000_1007);
    expect(iommuIovaToPhys(v1, 0x1000)).toBe(0xf000_1000);
    const v2 = setup({ variant: "v2" }).d;
    iommuMap(v2, 0, 2 ** 40 + 0x3000_0000, K4, RW);
    expect(iommuIovaToPhys(v2, 0)).toBe(0x3000_0000);
  });

  it("strict: throws, nothing written", () => {
    const v1 = setup({}, true).d;
    expect(quirkOf(() => iommuMap(v1, 0, G4, K4, RW))).toBe("pa-truncated");
    iommuMap(v1, 0, G4 - K4, K4, RW);
    const v2 = setup({ variant: "v2" }, true).d;
    expect(quirkOf(() => iommuMap(v2, 0, 2 ** 40, K4, RW))).toBe("pa-truncated");
    iommuMap(v2, 0, 2 ** 40 - K4, K4, RW);
    expect(leaves(v2).size).toBe(1);
  });
});

describe("pa-unaligned", () => {
  it("default: PA bits 11:0 are dropped", () => {
    const { d } = setup();
    expect(rawMap(d, 0, 0x7000_0abc, K4, RW).ret).toBe(0);
    expect(iommuIovaToPhys(d, 0x10)).toBe(0x7000_0010);
  });

  it("strict: -EINVAL", () => {
    const { d } = setup({}, true);
    expect(rawMap(d, 0, 0x7000_0abc, K4, RW).ret).toBe(-22);
    expect(leaves(d).size).toBe(0);
  });
});

describe("pgsize-unsupported", () => {
  it("default: a size below 4 KiB writes nothing but reports mapped; a misaligned run writes past its page table", () => {
    const { iommu, d } = setup();
    expect(rawMap(d, 0, 0x7000_0000, 0x800, RW)).toEqual({ ret: 0, mapped: 0x800 });
    expect(leaves(d).size).toBe(0);
    // 0x3ff000 + 8 KiB: the second PTE lands in the next 4 KiB block (the following page table)
    iommuMap(d, 0x40_0000, 0x6000_0000, K4, RW); // page table of slot 1, right after slot 0's
    expect(rawMap(d, 0x3f_f000, 0x7000_0000, 0x2000, RW)).toEqual({ ret: -98, mapped: 0 });
    expect(rawMap(d, 0x3f_e000, 0x7000_0000, 0x2000, RW)).toEqual({ ret: 0, mapped: 0x2000 });
    expect(iommu.allocator.liveCount).toBe(3);
    // an overrun into memory that does not exist faults (the kernel would corrupt it)
    expect(() => rawMap(d, 0x7f_f000, 0x7000_0000, 0x2000, RW)).toThrow(/EFAULT/);
  });

  it("strict: -EINVAL for sizes outside the bitmap or IOVAs not aligned to them; unmap returns 0", () => {
    const { d } = setup({}, true);
    expect(rawMap(d, 0, 0x7000_0000, 0x800, RW).ret).toBe(-22);
    expect(rawMap(d, 0x3f_f000, 0x7000_0000, 0x2000, RW).ret).toBe(-22);
    expect(rawMap(d, 0, 0x7000_0000, 0x80_0000, RW).ret).toBe(-22);
    expect(rawMap(d, 0, 0x7000_0000, 0x3000, RW).ret).toBe(-22);
    iommuMap(d, 0, 0x7000_0000, 0x2000, RW);
    expect(rawUnmap(d, 0x1000, 0x2000)).toBe(0);
    expect(rawUnmap(d, 0, 0x2000)).toBe(0x2000);
  });
});
