import { IOMMU_NOEXEC, IOMMU_READ, IOMMU_WRITE, iommuMap } from "@iommu/core";
import { checkRandomRuns, runsOf } from "@iommu/testing";
import { describe, expect, it } from "vitest";
import { IO_PGTABLE_QUIRK_ARM_MTK_EXT, IO_PGTABLE_QUIRK_NO_PERMS } from "../io-pgtable.js";
import { createIoPgtableDomain } from "../io-pgtable-domain.js";

const RW = IOMMU_READ | IOMMU_WRITE;

describe("armV7sIovaToPhysRuns vs one lookup per page", () => {
  it("4K pages, 64K large pages, 1M sections, 16M supersections", () => {
    const seen = checkRandomRuns(() => createIoPgtableDomain("v7s"), {
      sizes: [0x1000, 0x1_0000, 0x10_0000, 0x100_0000],
      base: 0x4000_0000n,
      window: 0x400_0000,
      prots: [IOMMU_READ, RW, RW | IOMMU_NOEXEC],
      numRuns: 150,
    });
    expect(seen.merged).toBeGreaterThan(0);
    expect(seen.mixed).toBeGreaterThan(0);
  });

  it("MediaTek (MTK_EXT + NO_PERMS, ias 34): PA bits 32+ and the whole 16 GiB input range", () => {
    const seen = checkRandomRuns(
      () =>
        createIoPgtableDomain("v7s", {
          ias: 34,
          oas: 35,
          quirks: IO_PGTABLE_QUIRK_ARM_MTK_EXT | IO_PGTABLE_QUIRK_NO_PERMS,
        }),
      {
        sizes: [0x1000, 0x1_0000, 0x10_0000],
        base: 0x3_f000_0000n,
        window: 0x100_0000,
        prots: [RW],
        numRuns: 60,
      },
    );
    expect(seen.merged).toBeGreaterThan(0);
  });
});

describe("one descent on v7s", () => {
  it("1 GiB of 4K pages: one run, one walk, ≤ 1.1 PTE reads per leaf", () => {
    const d = createIoPgtableDomain("v7s", { pgsizeBitmap: 0x1000 });
    iommuMap(d, 0x4000_0000, 0x8000_0000, 0x4000_0000, RW);
    d.counters.reset();
    const runs = runsOf(d, 0x4000_0000n, 0x4000_0000n);
    expect(runs).toHaveLength(1);
    expect(d.counters.walks).toBe(1);
    expect(d.counters.pteReads / 262144).toBeLessThanOrEqual(1.1);
  });

  it("1 GiB of 16M supersections: 64 units, one read per unit (replicas skipped)", () => {
    const d = createIoPgtableDomain("v7s");
    iommuMap(d, 0x4000_0000, 0x8000_0000, 0x4000_0000, RW);
    d.counters.reset();
    const runs = runsOf(d, 0x4000_0000n, 0x4000_0000n);
    expect(runs).toEqual([
      {
        mapped: true,
        iova: 0x4000_0000n,
        phys: 0x8000_0000n,
        size: 0x4000_0000n,
        prot: runs[0]!.prot,
        leafSize: 0x100_0000,
      },
    ]);
    expect(d.counters.pteReads).toBe(64);
  });

  it("above 2^ias: one hole to 2^64 (no aliasing through the masked L1 index)", () => {
    const d = createIoPgtableDomain("v7s");
    iommuMap(d, 0, 0x8000_0000, 0x1000, RW);
    expect(runsOf(d, 2n ** 32n, 2n ** 64n - 2n ** 32n)).toEqual([
      { mapped: false, iova: 2n ** 32n, phys: 0n, size: 2n ** 64n - 2n ** 32n, prot: 0, leafSize: 0 },
    ]);
  });
});
