// drivers/iommu/tegra-smmu.c: the run lookup (issue 17) against one iova_to_phys_length per page.
import { IOMMU_READ, IOMMU_WRITE, iommuMap, PhysLength, SZ_4K } from "@iommu/core";
import { checkRandomRuns, runsOf } from "@iommu/testing";
import { describe, expect, it } from "vitest";
import { makeTegra } from "./testing/make.js";

const RW = IOMMU_READ | IOMMU_WRITE;
const G4 = 2n ** 32n;

describe("tegraIovaToPhysRuns vs one lookup per page", () => {
  it.each([
    ["kernel mode", false],
    ["strict", true],
  ])("%s: random 4K mappings, holes, empty page tables", (_n, strict) => {
    const seen = checkRandomRuns(() => makeTegra({ strict }).d, {
      sizes: [SZ_4K],
      base: 0x3fe0_0000n,
      window: 0x100_0000,
      prots: [IOMMU_READ, IOMMU_WRITE, RW],
      numRuns: 120,
    });
    expect(seen.merged).toBeGreaterThan(0);
    expect(seen.mixed).toBeGreaterThan(0);
  });

  it("strict: ranges crossing the 4 GiB aperture edge end in a hole", () => {
    checkRandomRuns(() => makeTegra({ strict: true }).d, {
      sizes: [SZ_4K],
      base: 0xff80_0000n,
      window: 0x100_0000,
      prots: [RW],
      numRuns: 60,
    });
  });

  it("kernel mode: IOVAs ≥ 4 GiB alias the low table, page for page as iova_to_phys_length", () => {
    const { d } = makeTegra();
    iommuMap(d, 0xffff_e000, 0x9000_0000, 0x2000, RW);
    iommuMap(d, 0x1000, 0xa000_0000, 0x3000, IOMMU_READ);
    const from = G4 - 0x4000n;
    const got = runsOf(d, from, 0x1_0000n);
    // The same runs as the low alias, shifted by 4 GiB where the range passed it.
    const low = [...runsOf(d, from, 0x4000n), ...runsOf(d, 0n, 0xc000n)];
    const merged = low.map((r) => ({ ...r, iova: r.iova >= from ? r.iova : r.iova + G4 }));
    expect(got).toEqual([merged[0], merged[1], merged[2], merged[3], merged[4]]);
    expect(got.map((r) => [r.mapped, r.phys, r.size])).toEqual([
      [false, 0n, 0x2000n],
      [true, 0x9000_0000n, 0x2000n],
      [false, 0n, 0x1000n],
      [true, 0xa000_0000n, 0x3000n],
      [false, 0n, 0x8000n],
    ]);
    // And page by page against the length lookup.
    const pl = new PhysLength();
    for (const r of got)
      for (let off = 0n; off < r.size; off += 0x1000n) {
        d.ops!.iovaToPhysLength!(d, r.iova + off, pl);
        expect(pl.mapped).toBe(r.mapped);
        if (r.mapped) expect(pl.physBigInt).toBe(r.phys + off);
      }
  });

  it("kernel mode, nothing mapped: [0, 2^64) is one hole after one pass over the directory", () => {
    const { d } = makeTegra();
    d.counters.reset();
    expect(runsOf(d, 0n, 2n ** 64n)).toEqual([
      { mapped: false, iova: 0n, phys: 0n, size: 2n ** 64n, prot: 0, leafSize: 0 },
    ]);
    expect(d.counters.pteReads).toBe(1024);
  });

  it("strict: above 4 GiB is one hole to 2^64", () => {
    const { d } = makeTegra({ strict: true });
    iommuMap(d, 0xffff_f000, 0x9000_0000, 0x1000, RW);
    expect(runsOf(d, G4 - 0x1000n, 2n ** 64n - G4 + 0x1000n)).toEqual([
      { mapped: true, iova: G4 - 0x1000n, phys: 0x9000_0000n, size: 0x1000n, prot: RW, leafSize: SZ_4K },
      { mapped: false, iova: G4, phys: 0n, size: 2n ** 64n - G4, prot: 0, leafSize: 0 },
    ]);
  });
});

describe("one descent on tegra-smmu (4 KiB is the largest leaf)", () => {
  it("1 GiB of 4K pages: one run, one walk, 256 PDE + 262,144 PTE reads (1.001 per leaf)", () => {
    const { d } = makeTegra({ strict: true });
    iommuMap(d, 0x4000_0000, 0x8000_0000, 0x4000_0000, RW);
    d.counters.reset();
    const runs = runsOf(d, 0x4000_0000n, 0x4000_0000n);
    expect(runs).toEqual([
      { mapped: true, iova: 0x4000_0000n, phys: 0x8000_0000n, size: 0x4000_0000n, prot: RW, leafSize: SZ_4K },
    ]);
    expect(d.counters.walks).toBe(1);
    expect(d.counters.pteReads).toBe(256 + 262_144);
    expect(d.counters.pteReads / 262_144).toBeLessThanOrEqual(1.1);
  });

  it("a range starting mid-page keeps its offset in iova and phys", () => {
    const { d } = makeTegra();
    iommuMap(d, 0x40_0000, 0x8000_0000, 0x2000, RW);
    expect(runsOf(d, 0x40_0123n, 0x1000n)).toEqual([
      { mapped: true, iova: 0x40_0123n, phys: 0x8000_0123n, size: 0x1000n, prot: RW, leafSize: SZ_4K },
    ]);
  });
});
