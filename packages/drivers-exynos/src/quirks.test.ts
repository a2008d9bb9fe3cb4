/**
 * drivers/iommu/exynos-iommu.c: every quirk of README "Known kernel quirks", pinned twice —
 * as the kernel behaves (the default) and as a `strict` domain reports it.
 */
import { IOMMU_READ, IOMMU_WRITE, IommuError, iommuIovaToPhys, iommuMap, iommuUnmap } from "@iommu/core";
import { describe, expect, it } from "vitest";
import { ExynosQuirkError } from "./quirks.js";
import { l1, l2, leaves, lookup, rawMap, rawUnmap, setup } from "./testing/harness.js";

const RW = IOMMU_READ | IOMMU_WRITE;
const M = 0x10_0000;
const K64 = 0x1_0000;
const K4 = 0x1000;
const G4 = 2 ** 32;

function quirkOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof ExynosQuirkError) return e.quirk;
    throw e;
  }
  return "none";
}

describe("iova-truncated", () => {
  it("default: IOVAs ≥ 4 GiB alias the low 4 GiB in map, unmap and lookups", () => {
    const { d } = setup();
    iommuMap(d, G4 + M, 0x4000_0000, K4, RW);
    expect(lookup(d, M)).toEqual({ mapped: true, phys: 0x4000_0000n, length: K4 });
    expect(iommuIovaToPhys(d, 3 * G4 + M + 0x10)).toBe(0x4000_0010);
    expect(lookup(d, 0xffff_ffff_0000_0000n + BigInt(M))).toEqual({
      mapped: true,
      phys: 0x4000_0000n,
      length: K4,
    });
    expect(iommuUnmap(d, 2 * G4 + M, K4)).toBe(K4);
    expect(leaves(d).size).toBe(0);
  });

  it("strict: map and unmap throw, lookups above 4 GiB are unmapped", () => {
    const { d } = setup({}, true);
    iommuMap(d, M, 0x4000_0000, K4, RW);
    expect(quirkOf(() => iommuMap(d, G4 + 2 * M, 0x4000_0000, K4, RW))).toBe("iova-truncated");
    expect(quirkOf(() => iommuUnmap(d, G4 + M, K4))).toBe("iova-truncated");
    expect(iommuIovaToPhys(d, G4 + M)).toBe(0);
    expect(lookup(d, G4 + M)).toEqual({ mapped: false, phys: 0n, length: G4 }); // [4G, 8G): beyond the table
    expect([...leaves(d).keys()]).toEqual([BigInt(M)]);
  });
});

describe("pa-truncated", () => {
  it("default: v5 keeps PA bits 35:4, v1–v3 bits 31:0", () => {
    const v5 = setup().d;
    iommuMap(v5, M, 2 ** 36 + 0x4000_0000, K4, RW);
    expect(lookup(v5, M).phys).toBe(0x4000_0000n);
    const v3 = setup({ version: "3.3" }).d;
    iommuMap(v3, M, 2 ** 32 + 0x4000_0000, K4, RW);
    expect(lookup(v3, M).phys).toBe(0x4000_0000n);
    iommuMap(v3, 2 * M, 0x8_4000_0000, K4, RW); // 36-bit PAs do not fit v1–v3 either
    expect(lookup(v3, 2 * M).phys).toBe(0x4000_0000n);
  });

  it("strict: throws, nothing written", () => {
    const v5 = setup({}, true).d;
    expect(quirkOf(() => iommuMap(v5, M, 2 ** 36, K4, RW))).toBe("pa-truncated");
    iommuMap(v5, M, 2 ** 36 - K4, K4, RW); // the last page that fits
    const v3 = setup({ version: "3.3" }, true).d;
    expect(quirkOf(() => iommuMap(v3, M, G4, M, RW))).toBe("pa-truncated");
    expect(l1(v3, 1) & 3).toBe(1); // still the zero link
  });
});

describe("pa-unaligned and iova-unaligned (raw calls)", () => {
  it("default: the PA's low bits land in the entry — a v5 section with PA bit 4 set has type 3 (a fault)", () => {
    const { d } = setup();
    expect(rawMap(d, M, 0x4000_0010, M, RW)).toEqual({ ret: 0, mapped: M });
    expect(l1(d, 1) >>> 0).toBe(0x0400_0033);
    expect(lookup(d, M)).toEqual({ mapped: false, phys: 0n, length: M });
    // and the next page map there treats it as empty: a level-2 table replaces it
    expect(rawMap(d, M, 0x5000_0000, K4, RW).ret).toBe(0);
    expect(l1(d, 1) & 3).toBe(1);
  });

  it("default: a 64 KiB page at an unaligned IOVA is written from its own slot", () => {
    const { d } = setup();
    rawMap(d, M + 5 * K4, 0x4100_0000, K64, RW);
    for (let j = 5; j < 21; j++) expect(l2(d, 1, j) >>> 0).toBe(0x0410_000d);
    expect(l2(d, 1, 4)).toBe(0);
    expect(l2(d, 1, 21)).toBe(0);
    // every replica answers for its 64 KiB-aligned window
    expect(lookup(d, M + 0x1_0000)).toEqual({ mapped: true, phys: 0x4100_0000n, length: K64 });
  });

  it("strict: -EINVAL, nothing written", () => {
    const { d } = setup({}, true);
    expect(rawMap(d, M, 0x4000_0010, M, RW).ret).toBe(-22);
    expect(rawMap(d, M + 5 * K4, 0x4100_0000, K64, RW).ret).toBe(-22);
    expect(rawMap(d, M, 0x4100_8000, K64, RW).ret).toBe(-22);
    expect(leaves(d).size).toBe(0);
  });
});

describe("pgsize-unsupported", () => {
  it("default: any size but 4 KiB and 1 MiB is a 64 KiB page, reported mapped in full", () => {
    const { d } = setup();
    expect(rawMap(d, M, 0x4000_0000, 0x2_0000, RW)).toEqual({ ret: 0, mapped: 0x2_0000 });
    expect(leaves(d).size).toBe(16);
    expect(lookup(d, M + K64).mapped).toBe(false);
    expect(rawMap(d, 2 * M, 0x4000_0000, 0, RW)).toEqual({ ret: 0, mapped: 0 });
    expect(leaves(d).size).toBe(32);
  });

  it("strict: -EINVAL", () => {
    const { d } = setup({}, true);
    expect(rawMap(d, M, 0x4000_0000, 0x2_0000, RW).ret).toBe(-22);
    expect(rawMap(d, M, 0x4000_0000, 0, RW).ret).toBe(-22);
    expect(leaves(d).size).toBe(0);
  });
});

describe("hole-unmap", () => {
  it("default: unmapping holes reports their size; the core goes on over them", () => {
    const { d } = setup();
    iommuMap(d, 2 * M, 0x4000_0000, K4, RW);
    expect(iommuUnmap(d, 0, 4 * M)).toBe(4 * M);
    expect(leaves(d).size).toBe(0);
  });

  it("strict: 0 at a hole, so the core stops there", () => {
    const { d } = setup({}, true);
    iommuMap(d, 2 * M, 0x4000_0000, 2 * K4, RW);
    expect(iommuUnmap(d, 0, 4 * M)).toBe(0);
    expect(rawUnmap(d, 2 * M + 2 * K4, K4)).toBe(0);
    expect(iommuUnmap(d, 2 * M, 4 * M)).toBe(2 * K4);
    expect(leaves(d).size).toBe(0);
  });
});

describe("lpage-unmap-replica", () => {
  it("default: unmapping at a replica clears 16 slots from there and credits 16 free slots", () => {
    const { d } = setup();
    iommuMap(d, M, 0x4000_0000, K64, RW);
    iommuMap(d, M + K64, 0x4100_0000, K4, RW);
    expect(d.lv2entcnt[1]).toBe(256 - 17);
    expect(rawUnmap(d, M + 5 * K4, K64)).toBe(K64);
    for (let j = 0; j < 5; j++) expect(l2(d, 1, j) >>> 0).toBe(0x0400_000d); // replicas left behind
    expect(l2(d, 1, 16)).toBe(0); // the next page went too
    expect(d.lv2entcnt[1]).toBe(256 - 1);
    // clearing the leftovers credits 16 more: the table is empty but counts 271 free slots,
    // so a section over it is refused
    expect(rawUnmap(d, M, K64)).toBe(K64);
    expect(leaves(d).size).toBe(0);
    expect(d.lv2entcnt[1]).toBe(271);
    expect(() => iommuMap(d, M, 0x4300_0000, M, RW)).toThrow(IommuError);
  });

  it("strict: throws, nothing changed", () => {
    const { d } = setup({}, true);
    iommuMap(d, M, 0x4000_0000, K64, RW);
    expect(quirkOf(() => rawUnmap(d, M + 5 * K4, K64))).toBe("lpage-unmap-replica");
    expect(leaves(d).size).toBe(16);
    expect(iommuUnmap(d, M + 5 * K4, K4)).toBe(0); // below 64 KiB: the kernel's own WARN and 0
    expect(d.counters.warns).toBe(1);
  });
});

describe("write-only-promoted", () => {
  it("default (v1–v3): IOMMU_WRITE alone maps read/write", () => {
    const { d } = setup({ version: "3.3" });
    iommuMap(d, M, 0x4000_0000, K4, IOMMU_WRITE);
    expect(l2(d, 1, 0) >>> 0).toBe(0x4000_0012);
    expect(d.ops!.inspect!(d)!.walk(M).steps[1]!.prot).toBe(RW);
  });

  it("strict: throws on v1–v3; v5 has write-only", () => {
    const v3 = setup({ version: "3.3" }, true).d;
    expect(quirkOf(() => iommuMap(v3, M, 0x4000_0000, K4, IOMMU_WRITE))).toBe("write-only-promoted");
    const v5 = setup({}, true).d;
    iommuMap(v5, M, 0x4000_0000, K4, IOMMU_WRITE);
    expect(v5.ops!.inspect!(v5)!.walk(M).steps[1]!.prot).toBe(IOMMU_WRITE);
  });
});

it("the quirk error is not an IommuError (it is no kernel errno)", () => {
  const { d } = setup({}, true);
  let err: unknown;
  try {
    iommuMap(d, G4, 0, K4, RW);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ExynosQuirkError);
  expect(err).not.toBeInstanceOf(IommuError);
  expect((err as ExynosQuirkError).op).toBe("exynos_iommu_map");
});
