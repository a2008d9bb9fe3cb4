/**
 * iova_to_phys_length outside the top range (docs/iova-to-phys-length.md in @iommu/core,
 * "Unmapped IOVA"): unmapped, length = the largest naturally aligned block around the IOVA
 * that misses every range the lookup accepts (`pt.translatableRanges`, `holeSpanOutside`).
 * amdv1: what the current top level covers, recomputed when the top grows. SIGN_EXTEND
 * (x86_64, riscv): the lower half `[0, 2^(N−1))` and, as `pt_check_range` accepts it, the upper
 * `[2^64 − 2^N, 2^64)`. The legacy iova_to_phys still answers (phys_addr_t)-ERANGE there.
 */
import { iommuIovaToPhys, PhysLength, SizeOut } from "@iommu/core";
import { describe, expect, it } from "vitest";
import { createPtDomain, type PtDomain } from "./domain.js";

const RW = 3;

const hole = (d: PtDomain, iova: number | bigint): [boolean, number] => {
  const out = new PhysLength();
  d.ops.iovaToPhysLength!(d, iova, out);
  return [out.mapped, out.length];
};

/** Step by length from `from` until `to` (exclusive, ≤ 2^64); every answer must be unmapped. */
function stepsAcross(d: PtDomain, from: number, to: number): number {
  let iova = from;
  let steps = 0;
  while (iova < to && steps <= 64) {
    const [mapped, length] = hole(d, iova);
    expect(mapped).toBe(false);
    iova = Math.floor(iova / length) * length + length;
    steps++;
  }
  expect(iova).toBe(to);
  return steps;
}

function map4k(d: PtDomain, iova: number | bigint, pa: number): number {
  return d.ops.mapPages(d, iova, pa, 0x1000, 1, RW, 0, new SizeOut());
}

describe("amdv1: beyond the current top level", () => {
  it("vaBits 40: edges before and after the top grows", () => {
    const d = createPtDomain("amdv1", { vaBits: 40 });
    expect([d.pt.topLevel, d.pt.topRangeBits]).toEqual([2, 39]);
    expect(hole(d, 2 ** 39 - 0x1000)).toEqual([false, 2 ** 30]); // last translatable: empty top slot
    expect(hole(d, 2 ** 39)).toEqual([false, 2 ** 39]);
    expect(hole(d, 2 ** 40)).toEqual([false, 2 ** 40]);
    expect(hole(d, 2 ** 63)).toEqual([false, 2 ** 63]);
    expect(hole(d, 2 ** 64 - 0x1000)).toEqual([false, 2 ** 63]);
    expect(iommuIovaToPhys(d, 2 ** 39)).toBe(0); // the removed legacy op: (phys_addr_t)-ERANGE
    expect(stepsAcross(d, 2 ** 39, 2 ** 64)).toBe(25);

    expect(map4k(d, 2 ** 39, 0x5000)).toBe(0); // increase_top: level 3, 40 bits
    expect([d.pt.topLevel, d.pt.topRangeBits]).toEqual([3, 40]);
    expect(hole(d, 2 ** 39)).toEqual([true, 0x1000]);
    expect(hole(d, 2 ** 40 - 0x1000)).toEqual([false, 2 ** 30]);
    expect(hole(d, 2 ** 40)).toEqual([false, 2 ** 40]);
    expect(hole(d, 2 ** 41 + 0x1000)).toEqual([false, 2 ** 41]);
    expect(hole(d, 2 ** 64 - 0x1000)).toEqual([false, 2 ** 63]);
    expect(stepsAcross(d, 2 ** 40, 2 ** 64)).toBe(24);
  });

  it("vaBits 64: the top grows to the whole 64-bit space, then nothing is out of range", () => {
    const d = createPtDomain("amdv1");
    const bits = d.pt.topRangeBits;
    expect(bits).toBeLessThan(64);
    expect(hole(d, 2 ** bits)).toEqual([false, 2 ** bits]);
    expect(hole(d, 2 ** 63)).toEqual([false, 2 ** 63]);
    expect(map4k(d, 2 ** 63, 0x5000)).toBe(0);
    expect(d.pt.topRangeBits).toBe(64);
    expect(hole(d, 2 ** 63)).toEqual([true, 0x1000]);
    const [mapped, length] = hole(d, 2 ** 64 - 0x1000);
    expect(mapped).toBe(false);
    expect(length).toBeLessThan(2 ** 63); // an empty slot inside the table, not a hole outside it
  });
});

describe("vtdss: beyond max_vasz (no sign extension)", () => {
  it("48 bits: edges, 16 steps to 2^64", () => {
    const d = createPtDomain("vtdss");
    expect(hole(d, 2 ** 48 - 0x1000)).toEqual([false, 2 ** 39]);
    expect(hole(d, 2 ** 48)).toEqual([false, 2 ** 48]);
    expect(hole(d, 2 ** 63)).toEqual([false, 2 ** 63]);
    expect(hole(d, 2 ** 64 - 0x1000)).toEqual([false, 2 ** 63]);
    expect(stepsAcross(d, 2 ** 48, 2 ** 64)).toBe(16);
  });
});

for (const f of ["x86_64", "riscv"] as const) {
  describe(`${f}: SIGN_EXTEND, two ranges`, () => {
    it("48 bits: both canonical halves translate, the non-canonical middle is one hole span", () => {
      const d = createPtDomain(f);
      expect(hole(d, 2 ** 47 - 0x1000)).toEqual([false, 2 ** 39]); // last of the lower half
      expect(hole(d, 2 ** 47)).toEqual([false, 2 ** 47]); // first non-canonical
      expect(hole(d, 2 ** 48)).toEqual([false, 2 ** 48]);
      expect(hole(d, 0x0000_8000_dead_0000)).toEqual([false, 2 ** 47]);
      expect(hole(d, 2 ** 63)).toEqual([false, 2 ** 62]);
      expect(hole(d, 0xfffe_ffff_ffff_f000n)).toEqual([false, 2 ** 48]); // last below the upper range
      // pt_check_range accepts the whole [2^64 − 2^48, 2^64) (prefix all ones above bit 47).
      expect(hole(d, 0xffff_0000_0000_0000n)).toEqual([false, 2 ** 39]);
      expect(hole(d, 2 ** 64 - 0x1000)).toEqual([false, 2 ** 39]);
      expect(iommuIovaToPhys(d, 2 ** 63)).toBe(0); // the removed legacy op: (phys_addr_t)-ERANGE
      expect(stepsAcross(d, 2 ** 47, 2 ** 64 - 2 ** 48)).toBe(31);
    });
  });
}
