// drivers/iommu/s390-iommu.c: allocation failure at every table allocation of a map.
import {
  IOMMU_READ,
  IOMMU_WRITE,
  type IommuError,
  iommuDomainInspector,
  iommuIovaToPhysLength,
  iommuMap,
  PhysLength,
} from "@iommu/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { iovaOf, makeS390, type S390Fixture } from "./testing/make.js";

/** Every translation at the frames given, as strings (a hole's length can shrink: kept tables split it). */
function translations(t: S390Fixture, pfns: readonly number[]): string[] {
  const o = new PhysLength();
  return pfns.map((p) => {
    iommuIovaToPhysLength(t.d, iovaOf(p), o);
    return o.mapped ? `${p}:${o.phys}+${o.length}` : `${p}:hole`;
  });
}

/** Tables reachable from the root (the root included). */
function reachable(t: S390Fixture): number {
  let n = 1;
  iommuDomainInspector(t.d)!.visit((e) => {
    if (e.kind === "table") n++;
  });
  return n;
}

/*
 * The kernel keeps every table a map installed before the failing allocation (tables are
 * freed only with the domain), and its undo invalidates the PTEs the call wrote. So the
 * check is: -ENOMEM, the same translations everywhere, every live table reachable (nothing
 * leaked), and after the domain is freed no table memory left.
 */
describe("s390-iommu: table allocation failure inside a map", () => {
  for (const strict of [false, true]) {
    it(`${strict ? "strict" : "kernel"} mode: ENOMEM, translations unchanged, tables kept reachable, nothing leaked`, () => {
      let failures = 0;
      fc.assert(
        fc.property(
          fc.constantFrom(3, 4, 5),
          fc.array(fc.integer({ min: 0, max: 4095 }), { maxLength: 16 }),
          fc.integer({ min: 1, max: 40 }),
          (levels, populate, n) => {
            const t = makeS390(levels as 3 | 4 | 5, { strict });
            for (const p of new Set(populate))
              iommuMap(t.d, iovaOf(2 ** 20 + p * 512), 0x1000_0000, 0x1000, IOMMU_READ);
            // A run across a page-table and (3 levels) a region-third boundary, into fresh tables.
            const start = levels === 3 ? 2 ** 19 - n : 2 ** 30 - n;
            const probe = [
              ...populate.map((p) => 2 ** 20 + p * 512),
              start - 1,
              start,
              start + n,
              start + 2 * n,
            ];
            const before = translations(t, probe);
            let k = 1;
            for (; ; k++) {
              t.allocator.failNth(k);
              let err: unknown;
              try {
                iommuMap(t.d, iovaOf(start), 0x2000_0000, 2 * n * 0x1000, IOMMU_READ | IOMMU_WRITE);
              } catch (e) {
                err = e;
              }
              t.allocator.failNth(0);
              if (err === undefined) break;
              expect((err as IommuError).code).toBe("ENOMEM");
              expect(translations(t, probe)).toEqual(before);
              expect(t.d.regionTablesLive + t.d.ptCache.liveObjects).toBe(reachable(t));
              failures++;
            }
            expect(k).toBeGreaterThan(1);
            t.zdev.detach();
            t.d.ops!.free!(t.d);
            expect(t.allocator.liveCount).toBe(0);
          },
        ),
        { numRuns: 30, seed: strict ? 7 : 8 },
      );
      expect(failures).toBeGreaterThanOrEqual(30);
    });
  }
});
