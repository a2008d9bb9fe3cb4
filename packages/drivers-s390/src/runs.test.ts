// drivers/iommu/s390-iommu.c: the run lookup (issue 17) against one iova_to_phys_length per page.
import { IOMMU_READ, IOMMU_WRITE, iommuMap, SZ_4K } from "@iommu/core";
import { checkRandomRuns, runsOf } from "@iommu/testing";
import { describe, expect, it } from "vitest";
import { makeS390 } from "./testing/make.js";

const RW = IOMMU_READ | IOMMU_WRITE;

describe("s390IovaToPhysRuns vs one lookup per page", () => {
  it.each([
    [3, false, 0x1_0000_0000n],
    [3, true, 0x7ff0_0000n],
    [4, false, 0x3_ffff_ff80_0000n],
    [5, false, 0x20_0000_0000_0000n - 0x80_0000n],
  ] as const)(
    "%i levels (strict %s) around %s: random pages, holes, empty tables",
    (levels, strict, base) => {
      const seen = checkRandomRuns(() => makeS390(levels, { strict }).d, {
        sizes: [SZ_4K],
        base,
        window: 0x100_0000,
        prots: [IOMMU_READ, RW],
        numRuns: 80,
      });
      expect(seen.merged).toBeGreaterThan(0);
      expect(seen.mixed).toBeGreaterThan(0);
    },
  );

  it.each([
    [3, 2n ** 42n],
    [4, 2n ** 53n],
  ] as const)("%i levels: ranges crossing the aperture end (%s) end in a hole", (levels, top) => {
    checkRandomRuns(() => makeS390(levels).d, {
      sizes: [SZ_4K],
      base: top - 0x80_0000n,
      window: 0x100_0000,
      prots: [RW],
      numRuns: 40,
    });
  });

  it("5 levels: ranges reaching the top of the 64-bit space", () => {
    checkRandomRuns(() => makeS390(5).d, {
      sizes: [SZ_4K],
      base: 2n ** 64n - 0x100_0000n,
      window: 0x100_0000,
      prots: [IOMMU_READ, RW],
      numRuns: 40,
    });
  });

  it("3 levels: above the aperture is one hole to 2^64; empty region entries are whole holes", () => {
    const { d } = makeS390(3);
    iommuMap(d, 2 ** 42 - 0x1000, 0x9000_0000, 0x1000, IOMMU_READ);
    d.counters.reset();
    expect(runsOf(d, 0n, 2n ** 64n)).toEqual([
      { mapped: false, iova: 0n, phys: 0n, size: 2n ** 42n - 0x1000n, prot: 0, leafSize: 0 },
      {
        mapped: true,
        iova: 2n ** 42n - 0x1000n,
        phys: 0x9000_0000n,
        size: 0x1000n,
        prot: IOMMU_READ,
        leafSize: SZ_4K,
      },
      { mapped: false, iova: 2n ** 42n, phys: 0n, size: 2n ** 64n - 2n ** 42n, prot: 0, leafSize: 0 },
    ]);
    // 2048 region-third entries, 2048 segment entries of the last one, 256 PTEs of its last segment.
    expect(d.counters.pteReads).toBe(2048 + 2048 + 256);
  });
});

describe("range edges", () => {
  it("a range starting and ending mid-page keeps both offsets; read-only pages split the run", () => {
    const { d } = makeS390(3);
    iommuMap(d, 0x1_0000_0000, 0x8000_0000, 0x2000, RW);
    iommuMap(d, 0x1_0000_2000, 0x8000_2000, 0x1000, IOMMU_READ);
    expect(runsOf(d, 0x1_0000_0123n, 0x2800n)).toEqual([
      { mapped: true, iova: 0x1_0000_0123n, phys: 0x8000_0123n, size: 0x1eddn, prot: RW, leafSize: SZ_4K },
      {
        mapped: true,
        iova: 0x1_0000_2000n,
        phys: 0x8000_2000n,
        size: 0x923n,
        prot: IOMMU_READ,
        leafSize: SZ_4K,
      },
    ]);
  });
});

describe("one descent on s390 (4 KiB is the only leaf)", () => {
  it.each([
    [3, 1 + 1024],
    [5, 3 + 1024],
  ] as const)(
    "%i levels, 1 GiB of 4K pages: one run, one walk, %i table entries + 262,144 PTEs",
    (levels, above) => {
      const { d } = makeS390(levels);
      iommuMap(d, 0x1_0000_0000, 0x1_0000_0000, 0x4000_0000, RW);
      d.counters.reset();
      expect(runsOf(d, 0x1_0000_0000n, 0x4000_0000n)).toEqual([
        {
          mapped: true,
          iova: 0x1_0000_0000n,
          phys: 0x1_0000_0000n,
          size: 0x4000_0000n,
          prot: RW,
          leafSize: SZ_4K,
        },
      ]);
      expect(d.counters.walks).toBe(1);
      expect(d.counters.pteReads).toBe(above + 262_144);
      expect(d.counters.pteReads / 262_144).toBeLessThanOrEqual(1.1);
    },
  );
});
