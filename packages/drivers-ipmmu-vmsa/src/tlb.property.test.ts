/**
 * Property: the IMCTR flushes an IPMMU context receives follow the kernel's call pattern —
 * one per iommu_unmap that unmapped something (ipmmu_iotlb_sync; also a failed map's
 * rollback), one per io-pgtable tlb_flush_walk request (a table freed, by unmap or by a block
 * map over a table), none per leaf page (no tlb_add_page) and none per map (no
 * iotlb_sync_map). Random sequences of 4K/2M/1G maps and unmaps through the driver.
 */
import { IOMMU_READ, IOMMU_WRITE, IommuError, iommuMap, iommuUnmap, SZ_1G, SZ_2M, SZ_4K } from "@iommu/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { IpmmuVmsa } from "./ipmmu-vmsa.js";

const RW = IOMMU_READ | IOMMU_WRITE;

const op = fc.record({
  kind: fc.constantFrom("map", "unmap"),
  size: fc.constantFrom(SZ_4K, 4 * SZ_4K, SZ_2M, 2 * SZ_2M, SZ_1G),
  slot: fc.integer({ min: 0, max: 15 }),
  phys: fc.integer({ min: 1, max: 250 }),
});

describe("ipmmu-vmsa context flushes per call (fast-check, ≥ 10,000 ops)", () => {
  it("flushes = unmaps that unmapped (incl. rollbacks) + tlb_flush_walk requests; flushPage stays 0", () => {
    let executed = 0;
    let walks = 0;
    fc.assert(
      fc.property(fc.array(op, { minLength: 50, maxLength: 150 }), (ops) => {
        const mmu = new IpmmuVmsa({ soc: "r8a7795" });
        const d = mmu.device().domainAllocPagingFlags(0);
        if (typeof d === "number") throw new Error(String(d));
        const root = mmu.root;
        const f0 = root.tlbFlushes;
        let syncs = 0;
        for (const o of ops) {
          executed++;
          // Within the first 2 GiB; sizes aligned to themselves (1G slots wrap).
          const iova = (o.slot * o.size) % (2 * SZ_1G);
          if (o.kind === "map") {
            try {
              iommuMap(d, iova, o.phys * SZ_1G, o.size, RW);
            } catch (e) {
              if (!(e instanceof IommuError)) throw e;
              if (e.mapped > 0) syncs++;
            }
          } else if (iommuUnmap(d, iova, o.size) !== 0) syncs++;
        }
        expect(root.tlbFlushes - f0).toBe(syncs + d.counters.flushWalk);
        expect(d.counters.flushAll).toBe(syncs + d.counters.flushWalk);
        expect(d.counters.flushPage).toBe(0);
        walks += d.counters.flushWalk;
      }),
      { numRuns: 140, seed: 0x1b33 },
    );
    expect(executed).toBeGreaterThanOrEqual(10_000);
    expect(walks, "tlb_flush_walk requests exercised").toBeGreaterThan(0);
  });
});
