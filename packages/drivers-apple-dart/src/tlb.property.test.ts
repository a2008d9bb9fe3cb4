/**
 * Property: the TLB invalidations the DART receives follow the kernel's call pattern exactly —
 * one stream-wide invalidation per iommu_map that mapped (iotlb_sync_map), per iommu_unmap
 * that unmapped something (iotlb_sync, also the rollback of a failed map), and none per page.
 * The reference counts calls, never pages; it runs random sequences through the driver.
 */
import { IOMMU_READ, IOMMU_WRITE, IommuError, iommuMap, iommuUnmap, SZ_4K } from "@iommu/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AppleDart } from "./apple-dart.js";

const RW = IOMMU_READ | IOMMU_WRITE;

const op = fc.record({
  kind: fc.constantFrom("map", "unmap"),
  page: fc.integer({ min: 0, max: 63 }),
  pages: fc.integer({ min: 1, max: 8 }),
  phys: fc.integer({ min: 0, max: 1023 }),
});

describe("apple-dart TLB invalidations per call (fast-check, ≥ 10,000 ops)", () => {
  for (const variant of ["t8103", "t8110"] as const)
    it(`${variant}: flushes = maps that mapped + unmaps that unmapped (incl. rollbacks)`, () => {
      let executed = 0;
      fc.assert(
        fc.property(fc.array(op, { minLength: 50, maxLength: 200 }), (ops) => {
          const dart = new AppleDart({
            variant,
            pgsize: SZ_4K,
            ...(variant === "t8110" ? { numSids: 4 } : {}),
          });
          const dev = dart.device([0, 2]);
          const d = dev.domainAllocPagingFlags(0);
          if (typeof d === "number") throw new Error(String(d));
          const f0 = dart.tlbFlushes;
          const c0 = dart.tlbCommands;
          let expected = 0;
          for (const o of ops) {
            executed++;
            const iova = 0x4000_0000 - 32 * SZ_4K + o.page * SZ_4K;
            const size = o.pages * SZ_4K;
            if (o.kind === "map") {
              try {
                iommuMap(d, iova, o.phys * SZ_4K, size, RW);
                expected++; // apple_dart_iotlb_sync_map
              } catch (e) {
                if (!(e instanceof IommuError)) throw e;
                if (e.mapped > 0) expected++; // the rollback's iommu_unmap → iotlb_sync
              }
            } else if (iommuUnmap(d, iova, size) > 0) expected++;
          }
          expect(dart.tlbFlushes - f0).toBe(expected);
          // T8020: one STREAM_COMMAND per invalidation; T8110: one TLB_CMD per stream (2).
          expect(dart.tlbCommands - c0).toBe(variant === "t8110" ? 2 * expected : expected);
          expect(d.counters.flushAll).toBe(expected);
        }),
        { numRuns: 150, seed: 0x0da7 },
      );
      expect(executed).toBeGreaterThanOrEqual(10_000);
    });
});
