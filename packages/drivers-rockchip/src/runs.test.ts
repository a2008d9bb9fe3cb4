/**
 * drivers/iommu/rockchip-iommu.c, issue 17's run lookup (runs.ts): the runs of random tables
 * agree with one `iova_to_phys_length` per page and the inspector's prot, in one walk; the
 * cost on 1 GiB (every leaf is a 4 KiB PTE, whatever page size mapped it); the 4 GiB aliasing
 * of the default mode and the strict domain's hole above 4 GiB.
 */
import { IOMMU_READ, IOMMU_WRITE, iommuMap, PhysLength } from "@iommu/core";
import { checkRandomRuns, referenceRuns, runsOf } from "@iommu/testing";
import { describe, expect, it } from "vitest";
import { SPAGE_SIZE } from "./defs.js";
import { setup } from "./testing/harness.js";

const RW = IOMMU_READ | IOMMU_WRITE;
const SIZES = [SPAGE_SIZE, 0x1_0000, 0x10_0000, 0x40_0000];
const GiB = 2 ** 30;

describe("rkIommuIovaToPhysRuns vs one lookup per page", () => {
  it.each([
    ["v1", "v1", false],
    ["v1 strict", "v1", true],
    ["v2 (40-bit PAs)", "v2", false],
  ] as const)("%s: 4 KiB to 4 MiB maps", (_n, variant, strict) => {
    const seen = checkRandomRuns(() => setup({ variant }, strict).d, {
      sizes: SIZES,
      base: 0x4000_0000n,
      window: 0x800_0000,
      prots: [IOMMU_READ, IOMMU_WRITE, RW],
      numRuns: 60,
    });
    expect(seen.merged).toBeGreaterThan(0);
    expect(seen.mixed).toBeGreaterThan(0);
  });

  it("the window ending at the top of the directory (4 GiB)", () => {
    const seen = checkRandomRuns(() => setup({ variant: "v2" }).d, {
      sizes: SIZES,
      base: 0xf800_0000n,
      window: 0x800_0000,
      prots: [IOMMU_READ, RW],
      numRuns: 40,
    });
    expect(seen.mixed).toBeGreaterThan(0);
  });
});

describe("one descent", () => {
  it("1 GiB mapped in 4 MiB calls (4 KiB PTEs, the only leaf): 1 run, 1 walk, 262,144 + 256 reads", () => {
    const { d } = setup({ variant: "v1" });
    iommuMap(d, 0x4000_0000, 0x8000_0000, GiB, RW);
    d.counters.reset();
    const runs = runsOf(d, 0x4000_0000n, BigInt(GiB));
    expect(runs).toEqual([
      {
        mapped: true,
        iova: 0x4000_0000n,
        phys: 0x8000_0000n,
        size: BigInt(GiB),
        prot: RW,
        leafSize: SPAGE_SIZE,
      },
    ]);
    expect(d.counters.walks).toBe(1);
    expect(d.counters.pteReads).toBe(262_144 + 256);
    expect(d.counters.pteReads / 262_144).toBeLessThanOrEqual(1.1);
  });

  it("v2: PA bits 32-39 carried into the runs", () => {
    const { d } = setup({ variant: "v2" });
    iommuMap(d, 0x10_0000, 0xab_c000_0000, 0x20_0000, IOMMU_READ);
    expect(runsOf(d, 0x10_0000n, 0x20_0000n)).toEqual([
      {
        mapped: true,
        iova: 0x10_0000n,
        phys: 0xab_c000_0000n,
        size: 0x20_0000n,
        prot: IOMMU_READ,
        leafSize: SPAGE_SIZE,
      },
    ]);
  });
});

describe("above 4 GiB", () => {
  it("default mode: each 4 GiB window aliases the directory, as iova_to_phys_length does", () => {
    const { d } = setup({ variant: "v1" });
    iommuMap(d, 0xffc0_0000, 0x4000_0000, 0x40_0000, IOMMU_READ);
    iommuMap(d, 0, 0x5000_0000, SPAGE_SIZE, RW);
    const runs = runsOf(d, 0xffc0_0000n, 0x40_2000n);
    expect(runs).toEqual([
      {
        mapped: true,
        iova: 0xffc0_0000n,
        phys: 0x4000_0000n,
        size: 0x40_0000n,
        prot: IOMMU_READ,
        leafSize: SPAGE_SIZE,
      },
      {
        mapped: true,
        iova: 0x1_0000_0000n,
        phys: 0x5000_0000n,
        size: 0x1000n,
        prot: RW,
        leafSize: SPAGE_SIZE,
      },
      { mapped: false, iova: 0x1_0000_1000n, phys: 0n, size: 0x1000n, prot: 0, leafSize: 0 },
    ]);
    const pl = new PhysLength();
    for (const r of runs)
      for (let k = 0n; k < r.size; k += 0x1000n) {
        d.ops!.iovaToPhysLength!(d, r.iova + k, pl);
        expect(pl.mapped).toBe(r.mapped);
        if (r.mapped) expect(pl.physBigInt).toBe(r.phys + k);
      }
  });

  it("strict: one hole from 4 GiB to 2^64, like the per-page reference", () => {
    const { d } = setup({ variant: "v1" }, true);
    iommuMap(d, 0xffc0_0000, 0x4000_0000, 0x40_0000, RW);
    const start = 0xff80_0000n;
    expect(runsOf(d, start, 0x100_0000n)).toEqual(referenceRuns(d, start, 0x1000, SPAGE_SIZE));
    expect(runsOf(d, 2n ** 32n, 2n ** 64n - 2n ** 32n)).toEqual([
      { mapped: false, iova: 2n ** 32n, phys: 0n, size: 2n ** 64n - 2n ** 32n, prot: 0, leafSize: 0 },
    ]);
  });
});
