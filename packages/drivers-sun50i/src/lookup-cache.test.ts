/**
 * Model-only: the domain's page-table view cache (the last page table a walk resolved) is
 * invisible — lookups after unmap, remap, alternating tables and domain free see the new state,
 * and every lookup counts its reads.
 */
import { IOMMU_READ, IOMMU_WRITE, iommuMap, iommuUnmap } from "@iommu/core";
import { describe, expect, it } from "vitest";
import { lookup, setup } from "./testing/harness.js";

const RW = IOMMU_READ | IOMMU_WRITE;
const SPAN = 0x10_0000; // one DTE
const K4 = 0x1000;

describe("page-table view cache", () => {
  it("lookups after unmap and remap see the new entries; 2 reads per lookup, hit or miss", () => {
    const { d } = setup();
    iommuMap(d, SPAN + 0x5000, 0x4000_5000, K4, RW);
    iommuMap(d, 3 * SPAN + 0x7000, 0x5000_7000, K4, RW);
    for (let k = 0; k < 3; k++) {
      for (const [iova, phys] of [
        [SPAN + 0x5123, 0x4000_5123n],
        [3 * SPAN + 0x7abc, 0x5000_7abcn],
        [SPAN + 0x5fff, 0x4000_5fffn],
      ] as const) {
        const r = d.counters.pteReads;
        expect(lookup(d, iova)).toEqual({ mapped: true, phys, length: K4 });
        expect(d.counters.pteReads - r).toBe(2);
      }
    }
    expect(lookup(d, SPAN + 0x6000)).toEqual({ mapped: false, phys: 0n, length: K4 });
    expect(lookup(d, 2 * SPAN)).toEqual({ mapped: false, phys: 0n, length: SPAN });
    iommuUnmap(d, SPAN + 0x5000, K4);
    expect(lookup(d, SPAN + 0x5000)).toEqual({ mapped: false, phys: 0n, length: K4 });
    iommuMap(d, SPAN + 0x5000, 0x6000_5000, K4, RW);
    expect(lookup(d, SPAN + 0x5010)).toEqual({ mapped: true, phys: 0x6000_5010n, length: K4 });
  });

  it("domain free: lookups report unmapped; a new domain's tables are its own", () => {
    const { iommu, d } = setup();
    iommuMap(d, SPAN, 0x4000_0000, K4, RW);
    expect(lookup(d, SPAN).mapped).toBe(true);
    d.ops!.free!(d);
    expect(lookup(d, SPAN)).toEqual({ mapped: false, phys: 0n, length: K4 });
    const d2 = iommu.domainAllocPagingFlags(0);
    if (typeof d2 === "number") throw new Error("alloc");
    iommuMap(d2, 2 * SPAN, 0x4200_0000, K4, RW);
    expect(lookup(d2, 2 * SPAN)).toEqual({ mapped: true, phys: 0x4200_0000n, length: K4 });
    expect(lookup(d2, SPAN)).toEqual({ mapped: false, phys: 0n, length: SPAN });
  });
});
