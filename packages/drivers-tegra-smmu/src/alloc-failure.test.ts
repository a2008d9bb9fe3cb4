// drivers/iommu/tegra-smmu.c: allocation failure at every page-table allocation of a map leaves the table as it was.
import { IOMMU_READ, IOMMU_WRITE, IommuError, iommuMap } from "@iommu/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { TegraFixture } from "./testing/make.js";
import { makeTegra } from "./testing/make.js";

function snapshot({ d, allocator }: TegraFixture) {
  return {
    blocks: allocator
      .liveBlocks()
      .map(
        (b) =>
          `${b.pa}+${b.bytes}:${new Uint32Array(allocator.mem.exportRange(b.pa, b.bytes).buffer).join(",")}`,
      ),
    pts: d.pts.join(","),
    count: d.count.join(","),
    net: d.counters.tablesAllocated - d.counters.tablesFreed,
  };
}

describe("tegra-smmu: page-table allocation failure inside a map", () => {
  for (const strict of [false, true]) {
    it(`${strict ? "strict" : "kernel"} mode: every injected failure gives ENOMEM with the state unchanged, nothing leaked`, () => {
      let failures = 0;
      fc.assert(
        fc.property(
          fc.array(fc.tuple(fc.integer({ min: 0, max: 63 }), fc.integer({ min: 1, max: 8 })), {
            maxLength: 12,
          }),
          fc.integer({ min: 0, max: 48 }),
          fc.integer({ min: 1, max: 5 }),
          (populate, startPt, spanPts) => {
            const t = makeTegra({ strict });
            const seen = new Set<number>();
            for (const [pt, n] of populate)
              if ((pt < startPt || pt >= startPt + spanPts) && !seen.has(pt) && seen.add(pt))
                iommuMap(t.d, pt * 0x40_0000 + 0x3000, 0x1000_0000, n * 0x1000, IOMMU_READ);
            // A run from inside the last page of one table over `spanPts` fresh tables.
            const iova = startPt * 0x40_0000 - 0x2000 + (startPt === 0 ? 0x2000 : 0);
            const size = spanPts * 0x40_0000 + 0x1000;
            const before = snapshot(t);
            let n = 1;
            for (; ; n++) {
              t.allocator.failNth(n);
              let err: unknown;
              try {
                iommuMap(t.d, iova, 0x2000_0000, size, IOMMU_READ | IOMMU_WRITE);
              } catch (e) {
                err = e;
              }
              t.allocator.failNth(0);
              if (err === undefined) break;
              expect(err).toBeInstanceOf(IommuError);
              expect((err as IommuError).code).toBe("ENOMEM");
              expect(snapshot(t)).toEqual(before);
              failures++;
            }
            expect(n).toBeGreaterThan(1);
          },
        ),
        { numRuns: 40, seed: strict ? 41 : 42 },
      );
      expect(failures).toBeGreaterThanOrEqual(40);
    });
  }
});
