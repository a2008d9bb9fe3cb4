import { IOMMU_CACHE, IOMMU_READ, IOMMU_WRITE, iommuMap } from "@iommu/core";
import { checkRandomRuns, runsOf } from "@iommu/testing";
import { describe, expect, it } from "vitest";
import { createIoPgtableDomain } from "../io-pgtable-domain.js";

const RW = IOMMU_READ | IOMMU_WRITE;

describe("appleDartIovaToPhysRuns vs one lookup per page", () => {
  for (const [format, granule] of [
    ["dart1", "16K"],
    ["dart1", "4K"],
    ["dart2", "16K"],
  ] as const) {
    it(`${format} ${granule}: random tables, random windows`, () => {
      const pg = granule === "16K" ? 0x4000 : 0x1000;
      const seen = checkRandomRuns(() => createIoPgtableDomain(format, { granule }), {
        sizes: [pg],
        // Straddles a leaf-table boundary (32 MiB with 16K pages, 2 MiB with 4K).
        base: granule === "16K" ? 0x3_fe00_0000n : 0x3ff0_0000n,
        window: pg * 4096,
        prots: [IOMMU_READ, RW, RW | IOMMU_CACHE],
        numRuns: 100,
      });
      expect(seen.merged).toBeGreaterThan(0);
      expect(seen.mixed).toBeGreaterThan(0);
    });
  }
});

describe("one descent on DART", () => {
  it("1 GiB of 16K pages: one run, one walk, ≤ 1.1 PTE reads per leaf", () => {
    const d = createIoPgtableDomain("dart2");
    iommuMap(d, 0x4000_0000, 0x8000_0000, 0x4000_0000, RW);
    d.counters.reset();
    const runs = runsOf(d, 0x4000_0000n, 0x4000_0000n);
    expect(runs).toHaveLength(1);
    expect(runs[0]!.size).toBe(0x4000_0000n);
    expect(d.counters.walks).toBe(1);
    expect(d.counters.pteReads / 65536).toBeLessThanOrEqual(1.1);
  });

  it("1 GiB of 4K pages (dart1 4K): ≤ 1.1 PTE reads per leaf", () => {
    const d = createIoPgtableDomain("dart1", { granule: "4K" });
    iommuMap(d, 0x4000_0000, 0x8000_0000, 0x4000_0000, RW);
    d.counters.reset();
    expect(runsOf(d, 0x4000_0000n, 0x4000_0000n)).toHaveLength(1);
    expect(d.counters.pteReads / 262144).toBeLessThanOrEqual(1.1);
  });

  it("aliases: the TTBR index is masked, so IOVAs one period up read the same leaves", () => {
    const d = createIoPgtableDomain("dart1");
    iommuMap(d, 0x4000, 0x8000_4000, 0x4000, RW);
    const period = 2n ** 47n; // 2^(3·11 + 3) per TTBR × 2048 TTBR slots
    const low = runsOf(d, 0n, 0x10000n);
    const high = runsOf(d, period, 0x10000n);
    expect(high).toEqual(low.map((r) => ({ ...r, iova: r.iova + period })));
    expect(low[1]).toMatchObject({ mapped: true, iova: 0x4000n, phys: 0x8000_4000n, size: 0x4000n });
  });

  it("an empty table: the whole 64-bit space is one hole after one period", () => {
    const d = createIoPgtableDomain("dart2");
    expect(runsOf(d, 0n, 2n ** 64n)).toEqual([
      { mapped: false, iova: 0n, phys: 0n, size: 2n ** 64n, prot: 0, leafSize: 0 },
    ]);
  });
});
