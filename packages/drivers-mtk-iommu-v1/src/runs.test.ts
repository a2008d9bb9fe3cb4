// drivers/iommu/mtk_iommu_v1.c: the run lookup (issue 17) against one iova_to_phys_length per page.
import { IOMMU_READ, IOMMU_WRITE, iommuMap, SZ_4K } from "@iommu/core";
import { checkRandomRuns, runsOf } from "@iommu/testing";
import { describe, expect, it } from "vitest";
import { MtkIommuV1 } from "./mtk-iommu-v1.js";
import { makeMtk } from "./testing/make.js";

const RW = IOMMU_READ | IOMMU_WRITE;
const G4 = 2n ** 32n;

describe("mtkV1IovaToPhysRuns vs one lookup per page", () => {
  it.each([
    ["kernel mode", false],
    ["strict", true],
  ])("%s: random 4K mappings and holes", (_n, strict) => {
    const seen = checkRandomRuns(() => makeMtk({ strict }).d, {
      sizes: [SZ_4K],
      base: 0x1000_0000n,
      window: 0x80_0000,
      prots: [RW],
      numRuns: 120,
    });
    expect(seen.merged).toBeGreaterThan(0);
    expect(seen.mixed).toBeGreaterThan(0);
  });

  it("ranges crossing the end of the table (4 GiB) end in a hole", () => {
    checkRandomRuns(() => makeMtk().d, {
      sizes: [SZ_4K],
      base: 0xffc0_0000n,
      window: 0x80_0000,
      prots: [RW],
      numRuns: 60,
    });
  });

  it("beyond the table: one hole to 2^64; a domain without the table: all hole, no reads", () => {
    const { d } = makeMtk();
    iommuMap(d, 0xffff_f000, 0x9000_0000, 0x1000, RW);
    expect(runsOf(d, G4 - 0x1000n, 2n ** 64n - G4 + 0x1000n)).toEqual([
      { mapped: true, iova: G4 - 0x1000n, phys: 0x9000_0000n, size: 0x1000n, prot: RW, leafSize: SZ_4K },
      { mapped: false, iova: G4, phys: 0n, size: 2n ** 64n - G4, prot: 0, leafSize: 0 },
    ]);
    const m4u = new MtkIommuV1();
    const other = m4u.domainAllocPagingFlags(0);
    if (typeof other === "number") throw new Error("alloc");
    expect(runsOf(other, 0x1000n, 0x10_0000n)).toEqual([
      { mapped: false, iova: 0x1000n, phys: 0n, size: 0x10_0000n, prot: 0, leafSize: 0 },
    ]);
    expect(other.counters.pteReads).toBe(0);
  });
});

describe("range edges", () => {
  it("a range starting and ending mid-page keeps both offsets", () => {
    const { d } = makeMtk();
    iommuMap(d, 0x10_0000, 0x8000_0000, 0x3000, RW);
    expect(runsOf(d, 0x10_0123n, 0x2000n)).toEqual([
      { mapped: true, iova: 0x10_0123n, phys: 0x8000_0123n, size: 0x2000n, prot: RW, leafSize: SZ_4K },
    ]);
    expect(runsOf(d, 0x10_2800n, 0x1000n)).toEqual([
      { mapped: true, iova: 0x10_2800n, phys: 0x8000_2800n, size: 0x800n, prot: RW, leafSize: SZ_4K },
      { mapped: false, iova: 0x10_3000n, phys: 0n, size: 0x800n, prot: 0, leafSize: 0 },
    ]);
  });
});

describe("one descent on mtk_iommu_v1 (4 KiB is the only leaf)", () => {
  it("1 GiB of 4K pages: one run, one walk, one read per descriptor", () => {
    const { d } = makeMtk();
    iommuMap(d, 0x4000_0000, 0x4000_0000, 0x4000_0000, RW);
    d.counters.reset();
    const runs = runsOf(d, 0x4000_0000n, 0x4000_0000n);
    expect(runs).toEqual([
      { mapped: true, iova: 0x4000_0000n, phys: 0x4000_0000n, size: 0x4000_0000n, prot: RW, leafSize: SZ_4K },
    ]);
    expect(d.counters.walks).toBe(1);
    expect(d.counters.pteReads).toBe(262_144);
  });
});
