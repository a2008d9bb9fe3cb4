/**
 * drivers/iommu/sprd-iommu.c, issue 17's run lookup (runs.ts): the runs of random tables
 * agree with one `iova_to_phys_length` per page and the inspector's prot (always read/write),
 * in one pass; the cost on the whole 256 MiB aperture of 4 KiB pages (the largest range the
 * table has: 1 GiB does not fit); the aperture edge and the unattached domain.
 */
import { IOMMU_READ, IOMMU_WRITE, iommuMap } from "@iommu/core";
import { checkRandomRuns, referenceRuns, runsOf } from "@iommu/testing";
import { describe, expect, it } from "vitest";
import { SPRD_APERTURE_END, SPRD_IOMMU_PAGE_SIZE } from "./defs.js";
import { SprdIommu } from "./driver.js";
import { setup } from "./testing/harness.js";

const RW = IOMMU_READ | IOMMU_WRITE;
const SIZES = [SPRD_IOMMU_PAGE_SIZE, 0x1_0000, 0x10_0000];
const APERTURE = SPRD_APERTURE_END + 1;

describe("sprdIommuIovaToPhysRuns vs one lookup per page", () => {
  it.each([
    ["default (prot ignored: read-only maps read back read/write)", false, [IOMMU_READ, RW]],
    ["strict", true, [RW]],
  ] as const)("%s", (_n, strict, prots) => {
    const seen = checkRandomRuns(() => setup({}, strict).d, {
      sizes: SIZES,
      base: 0n,
      window: APERTURE,
      prots: [...prots],
      numRuns: 60,
    });
    expect(seen.merged).toBeGreaterThan(0);
    expect(seen.mixed).toBeGreaterThan(0);
  });

  it("a range crossing the aperture's end: the rest is one hole, like the per-page reference", () => {
    const { d } = setup();
    iommuMap(d, APERTURE - 0x10_0000, 0x4000_0000, 0x10_0000, RW);
    const start = BigInt(APERTURE - 0x20_0000);
    expect(runsOf(d, start, 0x40_0000n)).toEqual(referenceRuns(d, start, 0x400, SPRD_IOMMU_PAGE_SIZE));
    expect(runsOf(d, BigInt(APERTURE), 2n ** 64n - BigInt(APERTURE))).toEqual([
      {
        mapped: false,
        iova: BigInt(APERTURE),
        phys: 0n,
        size: 2n ** 64n - BigInt(APERTURE),
        prot: 0,
        leafSize: 0,
      },
    ]);
  });

  it("a domain without a table (never attached): holes", () => {
    const d = new SprdIommu().domainAllocPagingFlags(0, { attach: false });
    if (typeof d === "number") return expect.unreachable("allocation failed");
    expect(runsOf(d, 0n, 0x2000n)).toEqual([
      { mapped: false, iova: 0n, phys: 0n, size: 0x2000n, prot: 0, leafSize: 0 },
    ]);
  });
});

describe("one pass", () => {
  it("the whole 256 MiB aperture of 4 KiB pages: 1 run, 1 walk, 1 read per leaf", () => {
    const { d } = setup();
    iommuMap(d, 0, 0x8000_0000, APERTURE, RW);
    d.counters.reset();
    const runs = runsOf(d, 0n, BigInt(APERTURE));
    expect(runs).toEqual([
      {
        mapped: true,
        iova: 0n,
        phys: 0x8000_0000n,
        size: BigInt(APERTURE),
        prot: RW,
        leafSize: SPRD_IOMMU_PAGE_SIZE,
      },
    ]);
    expect(d.counters.walks).toBe(1);
    expect(d.counters.pteReads).toBe(APERTURE / SPRD_IOMMU_PAGE_SIZE);
  });
});
