/**
 * drivers/iommu/sprd-iommu.c: every quirk of README "Known kernel quirks", pinned twice — as
 * the kernel behaves (the default) and as a `strict` domain reports it.
 */
import { IOMMU_READ, IOMMU_WRITE, iommuIovaToPhys, iommuMap, iommuUnmap } from "@iommu/core";
import { describe, expect, it } from "vitest";
import { SprdQuirkError } from "./quirks.js";
import { entry, leaves, lookup, rawMap, rawUnmap, setup } from "./testing/harness.js";

const RW = IOMMU_READ | IOMMU_WRITE;
const K4 = 0x1000;

function quirkOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof SprdQuirkError) return e.quirk;
    throw e;
  }
  return "none";
}

describe("silent-overwrite", () => {
  it("default: a live entry is overwritten", () => {
    const { d } = setup();
    iommuMap(d, 0, 0x4000_0000, K4, RW);
    iommuMap(d, 0, 0x5000_0000, K4, RW);
    expect(iommuIovaToPhys(d, 0)).toBe(0x5000_0000);
  });

  it("strict: -EEXIST, nothing written", () => {
    const { d } = setup({}, true);
    iommuMap(d, 0x1000, 0x4000_0000, K4, RW);
    expect(() => iommuMap(d, 0, 0x5000_0000, 0x2000, RW)).toThrow(/EEXIST/);
    expect([entry(d, 0), entry(d, 1)]).toEqual([0, 0x4_0000]);
  });
});

describe("hole-unmap", () => {
  it("default: unmapping a hole clears nothing and reports the full size", () => {
    const { d } = setup();
    iommuMap(d, 0x10_000, 0x4000_0000, K4, RW);
    expect(iommuUnmap(d, 0x10_000, 0x5000)).toBe(0x5000);
    expect(iommuUnmap(d, 0x10_000, 0x1000)).toBe(0x1000);
  });

  it("strict: only the mapped run from the IOVA", () => {
    const { d } = setup({}, true);
    iommuMap(d, 0x10_000, 0x4000_0000, 0x2000, RW);
    expect(iommuUnmap(d, 0x10_000, 0x5000)).toBe(0x2000);
    expect(iommuUnmap(d, 0x10_000, 0x1000)).toBe(0);
  });
});

describe("an empty entry inside the aperture (the pre-series op's phys-offset-unmapped)", () => {
  it("default: iommu_iova_to_phys answers 0, the length op unmapped", () => {
    const { d } = setup();
    expect(iommuIovaToPhys(d, 0x5123)).toBe(0);
    expect(lookup(d, 0x5123)).toEqual({ mapped: false, phys: 0n, length: K4 });
    expect(d.counters.warns).toBe(0);
  });

  it("strict: 0 too", () => {
    const { d } = setup({}, true);
    expect(iommuIovaToPhys(d, 0x5123)).toBe(0);
  });
});

describe("pa-zero", () => {
  it("default: a page at PA 0 (mod 4 GiB) is entry 0, which reads as unmapped", () => {
    const { d } = setup();
    iommuMap(d, 0x30_000, 0, K4, RW);
    iommuMap(d, 0x31_000, 2 ** 32, K4, RW);
    expect([entry(d, 0x30), entry(d, 0x31)]).toEqual([0, 0]);
    expect(iommuIovaToPhys(d, 0x30_010)).toBe(0);
    expect(lookup(d, 0x30_010).mapped).toBe(false);
    expect(leaves(d).size).toBe(0);
  });

  it("strict: throws", () => {
    const { d } = setup({}, true);
    expect(quirkOf(() => iommuMap(d, 0x30_000, 0, K4, RW))).toBe("pa-zero");
  });
});

describe("pa-truncated and pa-unaligned", () => {
  it("default: PA bits above 31 and below 12 are dropped; a run crossing 4 GiB wraps to 0", () => {
    const { d } = setup();
    iommuMap(d, 0x20_000, 0x1_c000_3000, 0x2000, RW);
    expect([entry(d, 0x20), entry(d, 0x21)]).toEqual([0xc_0003, 0xc_0004]);
    rawMap(d, 0x40_000, 0xffff_f000, K4, RW, 2);
    expect([entry(d, 0x40), entry(d, 0x41)]).toEqual([0xf_ffff, 0]);
    rawMap(d, 0x50_000, 0x4000_0abc, K4, RW);
    expect(iommuIovaToPhys(d, 0x50_010)).toBe(0x4000_0010);
  });

  it("strict: throws for PAs beyond 32 bits, -EINVAL for unaligned ones", () => {
    const { d } = setup({}, true);
    expect(quirkOf(() => iommuMap(d, 0x20_000, 0x1_c000_3000, 0x2000, RW))).toBe("pa-truncated");
    expect(quirkOf(() => rawMap(d, 0x40_000, 0xffff_f000, K4, RW, 2))).toBe("pa-truncated");
    expect(rawMap(d, 0x50_000, 0x4000_0abc, K4, RW).ret).toBe(-22);
    expect(leaves(d).size).toBe(0);
  });
});

describe("aperture-wrap", () => {
  it("default: a range ending past 2^64 wraps, passes the check and is written far past the table (here: a fault)", () => {
    const { d } = setup();
    expect(() => rawMap(d, 0xffff_ffff_ffff_f000n, 0x4000_0000, K4, RW, 1)).toThrow(/EFAULT/);
    expect(() => rawUnmap(d, 0xffff_ffff_ffff_f000n, K4, 1)).toThrow(/EFAULT/);
  });

  it("strict: -EINVAL / 0", () => {
    const { d } = setup({}, true);
    expect(rawMap(d, 0xffff_ffff_ffff_f000n, 0x4000_0000, K4, RW, 1).ret).toBe(-22);
    expect(rawUnmap(d, 0xffff_ffff_ffff_f000n, K4, 1)).toBe(0);
  });
});

describe("prot-ignored", () => {
  it("default: a read-only map is read/write in the table", () => {
    const { d } = setup();
    iommuMap(d, 0, 0x4000_0000, K4, IOMMU_READ);
    expect(d.ops!.inspect!(d)!.walk(0).steps[0]!.prot).toBe(RW);
  });

  it("strict: throws unless the map asks for read/write", () => {
    const { d } = setup({}, true);
    expect(quirkOf(() => iommuMap(d, 0, 0x4000_0000, K4, IOMMU_READ))).toBe("prot-ignored");
    expect(quirkOf(() => iommuMap(d, 0, 0x4000_0000, K4, 0))).toBe("prot-ignored");
    iommuMap(d, 0, 0x4000_0000, K4, RW);
  });
});
