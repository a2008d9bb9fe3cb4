import { IOMMU_NOEXEC, IOMMU_READ, IOMMU_WRITE, iommuMap } from "@iommu/core";
import { checkRandomRuns, runsOf } from "@iommu/testing";
import { describe, expect, it } from "vitest";
import { createPtDomain } from "./domain.js";
import type { PtFormatName } from "./formats/index.js";

const RW = IOMMU_READ | IOMMU_WRITE;
const PROTS = [IOMMU_READ, RW, RW | IOMMU_NOEXEC];

interface Case {
  name: string;
  format: PtFormatName;
  /** Leaf sizes (4K first: the reference step); amdv1 and riscv include contiguous sizes. */
  sizes: number[];
  base: bigint;
  vaBits?: number;
}

const TOP = 2n ** 64n;
const CASES: Case[] = [
  {
    name: "amdv1 (contiguous 16K/64K/8M entries)",
    format: "amdv1",
    sizes: [0x1000, 0x4000, 0x1_0000, 0x20_0000, 0x80_0000],
    base: 0x3f00_0000n,
  },
  { name: "x86_64 lower half", format: "x86_64", sizes: [0x1000, 0x20_0000], base: 0x7f_ff00_0000n },
  { name: "x86_64 upper half", format: "x86_64", sizes: [0x1000, 0x20_0000], base: TOP - 0x100_0000n },
  { name: "vtdss", format: "vtdss", sizes: [0x1000, 0x20_0000], base: 0x1_0000_0000n },
  { name: "riscv (Svnapot 64K)", format: "riscv", sizes: [0x1000, 0x1_0000, 0x20_0000], base: 0x8000_0000n },
  {
    name: "riscv upper half",
    format: "riscv",
    sizes: [0x1000, 0x1_0000, 0x20_0000],
    base: TOP - 0x100_0000n,
  },
];

describe("ptIovaToPhysRuns vs one lookup per page", () => {
  for (const c of CASES) {
    it(`${c.name}: random tables, random windows`, () => {
      const seen = checkRandomRuns(() => createPtDomain(c.format), {
        sizes: c.sizes,
        base: c.base,
        window: 0x100_0000,
        prots: PROTS,
        numRuns: 80,
      });
      expect(seen.merged).toBeGreaterThan(0);
      expect(seen.mixed).toBeGreaterThan(0);
    });
  }
});

describe("one descent: PTE reads per leaf, walks per region", () => {
  for (const format of ["amdv1", "x86_64", "vtdss", "riscv"] as const) {
    for (const leaf of [0x1000, 0x20_0000]) {
      const leaves = 2 ** 30 / leaf;
      it(`${format}: 1 GiB of 0x${leaf.toString(16)} leaves is one run, one walk, ≤ 1.1 PTE reads per leaf`, () => {
        const d = createPtDomain(format);
        // A domain bitmap without larger sizes forces `leaf`-sized entries.
        d.pgsizeBitmap = leaf;
        d.pt.setDomainBitmap(leaf);
        iommuMap(d, 0x4000_0000, 0x1_0000_0000, 0x4000_0000, RW);
        d.counters.reset();
        const runs = runsOf(d, 0x4000_0000n, 0x4000_0000n);
        expect(runs).toEqual([
          {
            mapped: true,
            iova: 0x4000_0000n,
            phys: 0x1_0000_0000n,
            size: 0x4000_0000n,
            prot: runs[0]!.prot,
            leafSize: leaf,
          },
        ]);
        expect(d.counters.walks).toBe(1);
        expect(d.counters.pteReads / leaves).toBeLessThanOrEqual(1.1);
      });
    }
  }

  it("amdv1 contiguous 8M entries: one read per entry, not per copy", () => {
    const d = createPtDomain("amdv1");
    d.pgsizeBitmap = 0x80_0000;
    d.pt.setDomainBitmap(0x80_0000);
    iommuMap(d, 0x4000_0000, 0x1_0000_0000, 0x4000_0000, RW);
    d.counters.reset();
    const runs = runsOf(d, 0x4000_0000n, 0x4000_0000n);
    expect(runs[0]!.leafSize).toBe(0x80_0000);
    expect(d.counters.pteReads).toBeLessThanOrEqual(128 + 2 + 1);
  });
});

describe("exactness at the top of the address space", () => {
  it("x86_64: the last page 2^64 − 4K; pt_check_range's upper range aliases the lower half", () => {
    const d = createPtDomain("x86_64");
    const last = TOP - 0x1000n;
    iommuMap(d, last, 0x1234000, 0x1000, RW);
    iommuMap(d, 0, 0x5000, 0x1000, RW);
    const all = runsOf(d, 0n, TOP);
    // pt_check_range with SIGN_EXTEND compares only the bits above max_vasz with the prefix,
    // so 0xffff_0000_0000_0000 (bit 47 clear) passes and its masked top index is 0: the
    // lookup, and so the runs, see the mapping of IOVA 0 there too.
    expect(all.filter((r) => r.mapped).map((r) => [r.iova, r.phys, r.size])).toEqual([
      [0n, 0x5000n, 0x1000n],
      [TOP - 2n ** 48n, 0x5000n, 0x1000n],
      [last, 0x1234000n, 0x1000n],
    ]);
    // Holes fill everything else, contiguous and in order.
    let at = 0n;
    for (const r of all) {
      expect(r.iova).toBe(at);
      at += r.size;
    }
    expect(at).toBe(TOP);
    expect(all).toHaveLength(5);
  });

  it("amdv1 above the current top level: one hole, no entries read", () => {
    const d = createPtDomain("amdv1", { vaBits: 40 });
    const before = d.counters.pteReads;
    expect(runsOf(d, 2n ** 52n, 2n ** 53n)).toEqual([
      { mapped: false, iova: 2n ** 52n, phys: 0n, size: 2n ** 53n, prot: 0, leafSize: 0 },
    ]);
    expect(d.counters.pteReads).toBe(before);
  });
});
