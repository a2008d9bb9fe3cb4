/**
 * drivers/iommu/rockchip-iommu.c: allocation failure injected at every page-table allocation
 * of a map (`iommu_alloc_pages_sz` in `rk_dte_get_page_table`: -ENOMEM). The core unrolls
 * what was mapped: every translation is as before and nothing leaks — each live page table is
 * pointed at by a valid DTE (tables installed before the failure stay, empty: the driver frees
 * page tables only with the domain).
 */
import { IOMMU_READ, IOMMU_WRITE, IommuError, iommuDomainInspector, iommuMap } from "@iommu/core";
import { describe, expect, it } from "vitest";
import { type Harness, leaves, setup } from "./testing/harness.js";

const RW = IOMMU_READ | IOMMU_WRITE;
const M4 = 0x40_0000;

function populated(): Harness {
  const h = setup();
  iommuMap(h.d, 0x10 * M4, 0x4000_0000, 0x2_3000, RW);
  return h;
}

/** A request over five 4 MiB slots, each needing a page table. */
const REQ = { iova: 0x20 * M4 + 0x3f_e000, pa: 0x5000_0000, size: 4 * M4 + 0x4000 };

function validDtes(h: Harness): number {
  let n = 0;
  iommuDomainInspector(h.d)!.visit((e) => {
    if (e.kind === "table") n++;
    return false;
  });
  return n;
}

describe("allocation failure inside a map", () => {
  const probe = populated();
  const before = probe.d.counters.tablesAllocated;
  iommuMap(probe.d, REQ.iova, REQ.pa, REQ.size, RW);
  const allocs = probe.d.counters.tablesAllocated - before;

  it("the request allocates a page table per slot", () => {
    expect(allocs).toBe(6);
  });

  for (let n = 1; n <= allocs; n++) {
    it(`page-table allocation ${n} of ${allocs} fails: -ENOMEM, unrolled, nothing leaked`, () => {
      const h = populated();
      const want = leaves(h.d);
      h.iommu.allocator.failNth(n);
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
      expect(h.iommu.allocator.liveCount).toBe(1 + validDtes(h)); // directory + linked tables
      expect(h.d.counters.tablesAllocated - h.d.counters.tablesFreed).toBe(h.iommu.allocator.liveCount);
      iommuMap(h.d, REQ.iova, REQ.pa, REQ.size, RW);
      expect(leaves(h.d).size).toBe(want.size + REQ.size / 0x1000);
    });
  }
});
