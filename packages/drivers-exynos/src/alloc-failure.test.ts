/**
 * drivers/iommu/exynos-iommu.c: allocation failure injected at every table allocation of a
 * map (`kmem_cache_zalloc` of a level-2 table: -ENOMEM from `alloc_lv2entry`), and at the
 * slab block behind it and the domain's own blocks. The core unrolls what was mapped: every
 * translation is as before and nothing leaks — each live level-2 table is linked from the
 * level-1 table (the driver keeps tables it installed before the failure, empty: it never
 * frees level-2 tables on unmap).
 */
import { IOMMU_READ, IOMMU_WRITE, IommuError, iommuMap } from "@iommu/core";
import { describe, expect, it } from "vitest";
import { type Harness, leaves, setup, tableSlots } from "./testing/harness.js";

const RW = IOMMU_READ | IOMMU_WRITE;
const M = 0x10_0000;

/** Leaves and live tables before any map in the window: a few mappings outside it. */
function populated(): Harness {
  const h = setup();
  iommuMap(h.d, 0x10 * M, 0x4000_0000, 0x2_3000, RW);
  iommuMap(h.d, 0x20 * M, 0x4100_0000, M, RW);
  return h;
}

/** The request: 4 KiB pages (PA not congruent with the IOVA) over six sections, each needing a table. */
const REQ = { iova: 0x30 * M + 0xf_e000, pa: 0x5000_1000, size: 4 * M + 0x4000 };

function noLeak(h: Harness): void {
  const cache = h.mmu.cacheFor(h.mmu.allocator);
  expect(cache.liveObjects).toBe(1 + tableSlots(h.d).length); // zero table + linked tables
  expect(h.d.counters.tablesAllocated - h.d.counters.tablesFreed).toBe(1 + tableSlots(h.d).length);
}

describe("allocation failure inside a map", () => {
  const probe = populated();
  const before = probe.d.counters.tablesAllocated;
  iommuMap(probe.d, REQ.iova, REQ.pa, REQ.size, RW);
  const allocs = probe.d.counters.tablesAllocated - before;

  it("the request allocates several level-2 tables", () => {
    expect(allocs).toBe(6);
  });

  for (let n = 1; n <= allocs; n++) {
    it(`level-2 table allocation ${n} of ${allocs} fails: -ENOMEM, unrolled, nothing leaked`, () => {
      const h = populated();
      const want = leaves(h.d);
      h.mmu.cacheFor(h.mmu.allocator).failNth(n);
      let err: IommuError | undefined;
      try {
        iommuMap(h.d, REQ.iova, REQ.pa, REQ.size, RW);
      } catch (e) {
        if (e instanceof IommuError) err = e;
        else throw e;
      }
      expect(err?.code).toBe("ENOMEM");
      expect(err!.unrolled).toBe(err!.mapped);
      expect(leaves(h.d)).toEqual(want);
      noLeak(h);
      // and the same map works afterwards
      iommuMap(h.d, REQ.iova, REQ.pa, REQ.size, RW);
      expect(leaves(h.d).size).toBe(want.size + REQ.size / 0x1000);
    });
  }

  it("the slab block behind a table fails: -ENOMEM, nothing leaked", () => {
    const h = setup();
    iommuMap(h.d, 0, 0x4000_0000, 0x1000, RW);
    iommuMap(h.d, M, 0x4000_0000, 0x1000, RW);
    iommuMap(h.d, 2 * M, 0x4000_0000, 0x1000, RW); // the first slab block is full now
    h.mmu.allocator.failNth(1);
    expect(() => iommuMap(h.d, 3 * M, 0x4000_0000, 0x1000, RW)).toThrow(IommuError);
    expect(leaves(h.d).size).toBe(3);
    noLeak(h);
  });

  it("domain allocation: the level-1 table or the counters fail → -ENOMEM, nothing leaked", () => {
    const h = setup();
    const live = h.mmu.allocator.liveCount;
    for (const n of [1, 2]) {
      h.mmu.allocator.failNth(n);
      expect(h.mmu.domainAllocPagingFlags(0)).toBe(-12);
      expect(h.mmu.allocator.liveCount).toBe(live);
    }
  });
});
