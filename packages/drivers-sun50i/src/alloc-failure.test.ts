/**
 * drivers/iommu/sun50i-iommu.c: allocation failure injected at every page-table allocation of
 * a map (`kmem_cache_zalloc` from the pool in `sun50i_dte_get_page_table`: -ENOMEM) and at the
 * slab block behind it. The core unrolls what was mapped: every translation as before, nothing
 * leaked — each live page table is linked by a valid DTE (tables installed before the failure
 * stay, empty).
 */
import { IOMMU_READ, IOMMU_WRITE, IommuError, iommuDomainInspector, iommuMap } from "@iommu/core";
import { describe, expect, it } from "vitest";
import { type Harness, leaves, setup } from "./testing/harness.js";

const RW = IOMMU_READ | IOMMU_WRITE;
const M = 0x10_0000;

function populated(): Harness {
  const h = setup();
  iommuMap(h.d, 0x40 * M, 0x4000_0000, 0x2_3000, RW);
  return h;
}

const REQ = { iova: 0x50 * M + 0xf_e000, pa: 0x5000_0000, size: 4 * M + 0x4000 };

function linked(h: Harness): number {
  let n = 0;
  iommuDomainInspector(h.d)!.visit((e) => {
    if (e.kind === "table") n++;
    return false;
  });
  return n;
}

function run(h: Harness): IommuError | undefined {
  try {
    iommuMap(h.d, REQ.iova, REQ.pa, REQ.size, RW);
  } catch (e) {
    if (e instanceof IommuError) return e;
    throw e;
  }
  return undefined;
}

describe("allocation failure inside a map", () => {
  const probe = populated();
  const before = probe.d.counters.tablesAllocated;
  run(probe);
  const allocs = probe.d.counters.tablesAllocated - before;

  it("the request allocates a page table per 1 MiB slot", () => {
    expect(allocs).toBe(6);
  });

  for (let n = 1; n <= allocs; n++) {
    it(`page-table allocation ${n} of ${allocs} fails: -ENOMEM, unrolled, nothing leaked`, () => {
      const h = populated();
      const want = leaves(h.d);
      const pool = h.iommu.poolFor(h.iommu.allocator);
      pool.failNth(n);
      const err = run(h);
      expect(err?.code).toBe("ENOMEM");
      expect(err!.unrolled).toBe(err!.mapped);
      expect(leaves(h.d)).toEqual(want);
      expect(pool.liveObjects).toBe(linked(h));
      expect(h.d.counters.tablesAllocated - h.d.counters.tablesFreed).toBe(1 + linked(h));
      expect(run(h)).toBeUndefined();
    });
  }

  it("the slab block behind the fourth table fails (the first block is full): -ENOMEM, nothing leaked", () => {
    const h = populated();
    const want = leaves(h.d);
    const pool = h.iommu.poolFor(h.iommu.allocator);
    h.iommu.allocator.failNth(1);
    const err = run(h);
    expect(err?.code).toBe("ENOMEM");
    expect(err!.mapped).toBeGreaterThan(0);
    expect(leaves(h.d)).toEqual(want);
    expect([pool.liveObjects, linked(h), pool.blockCount]).toEqual([4, 4, 1]);
    expect(run(h)).toBeUndefined();
  });
});
