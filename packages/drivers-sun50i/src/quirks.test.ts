/**
 * drivers/iommu/sun50i-iommu.c: every quirk of README "Known kernel quirks", pinned twice —
 * as the kernel behaves (the default) and as a `strict` domain reports it.
 */
import { IOMMU_READ, IOMMU_WRITE, iommuIovaToPhys, iommuMap, iommuUnmap } from "@iommu/core";
import { describe, expect, it } from "vitest";
import { Sun50iQuirkError } from "./quirks.js";
import { leaves, lookup, pte, rawMap, setup } from "./testing/harness.js";

const RW = IOMMU_READ | IOMMU_WRITE;
const K4 = 0x1000;
const G4 = 2 ** 32;

function quirkOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof Sun50iQuirkError) return e.quirk;
    throw e;
  }
  return "none";
}

describe("iova-aliased", () => {
  it("default: IOVA bits above 31 are ignored", () => {
    const { d } = setup();
    iommuMap(d, G4, 0x4200_0000, K4, RW);
    expect(iommuIovaToPhys(d, 0xff0)).toBe(0x4200_0ff0);
    expect(iommuIovaToPhys(d, G4 + 0xff0)).toBe(0x4200_0ff0);
    expect(iommuUnmap(d, 3 * G4, K4)).toBe(K4);
  });

  it("strict: map and unmap throw; lookups above 4 GiB are unmapped", () => {
    const { d } = setup({}, true);
    iommuMap(d, 0, 0x4200_0000, K4, RW);
    expect(quirkOf(() => iommuMap(d, G4 + K4, 0x4200_0000, K4, RW))).toBe("iova-aliased");
    expect(quirkOf(() => iommuUnmap(d, G4, K4))).toBe("iova-aliased");
    expect(lookup(d, G4)).toEqual({ mapped: false, phys: 0n, length: G4 }); // [4G, 8G): beyond the table
    expect(iommuIovaToPhys(d, G4)).toBe(0);
  });
});

describe("pa-truncated and pa-unaligned", () => {
  it("default: PA bits above 31 and below 12 are dropped", () => {
    const { d } = setup();
    iommuMap(d, 0x1f_f000, 0x1_c000_0000, K4, 0);
    expect(pte(d, 0x1f_f000) >>> 0).toBe(0xc000_0012);
    expect(iommuIovaToPhys(d, 0x1f_f000)).toBe(0xc000_0000);
    expect(rawMap(d, 0, 0x4000_0abc, K4, RW).ret).toBe(0);
    expect(iommuIovaToPhys(d, 0x10)).toBe(0x4000_0010);
  });

  it("strict: -EINVAL, as later kernels answer a PA above 4 GiB", () => {
    const { d } = setup({}, true);
    expect(rawMap(d, 0, 0x1_c000_0000, K4, RW).ret).toBe(-22);
    expect(rawMap(d, 0, 0x4000_0abc, K4, RW).ret).toBe(-22);
    expect(() => iommuMap(d, 0, G4, K4, RW)).toThrow(/EINVAL/);
    expect(leaves(d).size).toBe(0);
  });
});

describe("mapped-overreport", () => {
  it("default: one PTE written, pgsize reported", () => {
    const { d } = setup();
    expect(rawMap(d, 0x30_1000, 0x4300_0000, 0x1_0000, RW, 2)).toEqual({ ret: 0, mapped: 0x1_0000 });
    expect(leaves(d).size).toBe(1);
  });

  it("strict: -EINVAL for any page size but 4 KiB", () => {
    const { d } = setup({}, true);
    expect(rawMap(d, 0x30_1000, 0x4300_0000, 0x1_0000, RW, 2)).toEqual({ ret: -22, mapped: 0 });
    expect(rawMap(d, 0x30_1000, 0x4300_0000, K4, RW, 2)).toEqual({ ret: 0, mapped: K4 });
  });
});
