// drivers/iommu/omap-iommu.c: allocation failure at every L2-table allocation of a map leaves the tables as they were.
import { IOMMU_READ, IOMMU_WRITE, type IommuError, iommuMap } from "@iommu/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { makeOmap, type OmapFixture } from "./testing/make.js";

/** Every MMU's L1 table, every L2 table they reach, the live L2 objects and the table balance. */
function snapshot({ d, allocator }: OmapFixture): string {
  const mem = allocator.mem;
  const parts: string[] = [];
  for (const x of d.iommus) {
    const l1 = new Uint32Array(mem.exportRange(x.pgtable, 0x4000).buffer);
    parts.push(l1.join(","));
    for (const e of l1)
      if ((e & 3) === 1)
        parts.push(new Uint32Array(mem.exportRange((e & ~0x3ff) >>> 0, 0x400).buffer).join(","));
  }
  parts.push(`${d.l2Cache.liveObjects}/${d.counters.tablesAllocated - d.counters.tablesFreed}`);
  return parts.join("|");
}

/*
 * Slab pages a failed map took stay with the cache (as kmem_cache keeps them); the tables
 * themselves are all given back, so the comparison is on tables, not allocator blocks.
 */
describe("omap-iommu: L2-table allocation failure inside a map", () => {
  for (const strict of [false, true])
    for (const mmus of [1, 2] as const)
      it(`${strict ? "strict" : "kernel"} mode, ${mmus} MMU(s): ENOMEM with the tables unchanged, nothing leaked`, () => {
        let failures = 0;
        fc.assert(
          fc.property(
            fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 10 }),
            fc.integer({ min: 3, max: 5 }),
            fc.integer({ min: 1, max: 8 }),
            (populate, slots, k) => {
              const t = makeOmap({ strict, mmus });
              for (const s of new Set(populate))
                iommuMap(t.d, 0x1000_0000 + s * 0x10_0000, 0x1234_5000, 0x1000, IOMMU_READ);
              // 4 KiB pages only (the PA is 4 KiB aligned): k pages, `slots` whole fresh slots, k pages —
              // more new L2 tables than a slab page has left, so the allocator is reached.
              const iova = 0x2000_0000 - k * 0x1000;
              const size = slots * 0x10_0000 + 2 * k * 0x1000;
              const before = snapshot(t);
              let n = 1;
              for (; ; n++) {
                t.allocator.failNth(n);
                let err: unknown;
                try {
                  iommuMap(t.d, iova, 0x4000_1000, size, IOMMU_READ | IOMMU_WRITE);
                } catch (e) {
                  err = e;
                }
                t.allocator.failNth(0);
                if (err === undefined) break;
                expect((err as IommuError).code).toBe("ENOMEM");
                expect(snapshot(t)).toBe(before);
                failures++;
              }
              expect(n).toBeGreaterThan(1);
              t.d.ops!.free!(t.d);
              expect(t.allocator.liveCount).toBe(0);
            },
          ),
          { numRuns: 12, seed: (strict ? 10 : 20) + mmus },
        );
        expect(failures).toBeGreaterThanOrEqual(12);
      });
});
