/**
 * Model-only: the domain's level-2 view cache (the last level-2 table a walk resolved) is
 * invisible — lookups after unmap, remap, a section replacing a table (which frees it), the
 * freed table's reuse and domain free see the new state, and every lookup counts its reads.
 */
import { IOMMU_READ, IOMMU_WRITE, iommuMap, iommuUnmap } from "@iommu/core";
import { describe, expect, it } from "vitest";
import { lookup, setup } from "./testing/harness.js";

const RW = IOMMU_READ | IOMMU_WRITE;
const M = 0x10_0000;
const K64 = 0x1_0000;
const K4 = 0x1000;

describe.each(["1.0", "3.3", "5.0"])("level-2 view cache (SysMMU v%s)", (version) => {
  it("lookups after unmap and remap see the new entries; 2 reads per level-2 lookup, hit or miss", () => {
    const { d } = setup({ version });
    iommuMap(d, M + 0x5000, 0x4000_5000, K4, RW);
    iommuMap(d, 3 * M, 0x5000_0000, K64, RW);
    for (let k = 0; k < 3; k++) {
      for (const [iova, phys, length] of [
        [M + 0x5123, 0x4000_5123n, K4],
        [3 * M + 0x7abc, 0x5000_7abcn, K64],
        [M + 0x5fff, 0x4000_5fffn, K4],
      ] as const) {
        const r = d.counters.pteReads;
        expect(lookup(d, iova)).toEqual({ mapped: true, phys, length });
        expect(d.counters.pteReads - r).toBe(2);
      }
    }
    expect(lookup(d, M + 0x6000)).toEqual({ mapped: false, phys: 0n, length: K4 });
    iommuUnmap(d, M + 0x5000, K4);
    expect(lookup(d, M + 0x5000)).toEqual({ mapped: false, phys: 0n, length: K4 });
    iommuMap(d, M + 0x5000, 0x6000_5000, K4, RW);
    expect(lookup(d, M + 0x5010)).toEqual({ mapped: true, phys: 0x6000_5010n, length: K4 });
  });

  it("a section replacing an empty level-2 table, the freed table reused elsewhere", () => {
    const { d } = setup({ version });
    iommuMap(d, M, 0x4000_0000, K4, RW);
    expect(lookup(d, M)).toEqual({ mapped: true, phys: 0x4000_0000n, length: K4 });
    iommuUnmap(d, M, K4);
    expect(lookup(d, M)).toEqual({ mapped: false, phys: 0n, length: K4 });
    iommuMap(d, M, 0x7000_0000, M, RW); // frees the (empty) level-2 table
    expect(lookup(d, M + 0x1234)).toEqual({ mapped: true, phys: 0x7000_1234n, length: M });
    iommuMap(d, 5 * M + 0x2000, 0x4100_2000, K4, RW); // reuses the freed object
    expect(lookup(d, 5 * M + 0x2000)).toEqual({ mapped: true, phys: 0x4100_2000n, length: K4 });
    expect(lookup(d, M)).toEqual({ mapped: true, phys: 0x7000_0000n, length: M });
    expect(lookup(d, 5 * M)).toEqual({ mapped: false, phys: 0n, length: K4 });
  });

  it("domain free: lookups report unmapped; a new domain's tables are its own", () => {
    const { mmu, d } = setup({ version });
    iommuMap(d, M, 0x4000_0000, K4, RW);
    expect(lookup(d, M).mapped).toBe(true);
    d.ops!.free!(d);
    expect(lookup(d, M)).toEqual({ mapped: false, phys: 0n, length: K4 });
    const d2 = mmu.domainAllocPagingFlags(0);
    if (typeof d2 === "number") throw new Error("alloc");
    iommuMap(d2, 2 * M, 0x4200_0000, K4, RW);
    expect(lookup(d2, 2 * M)).toEqual({ mapped: true, phys: 0x4200_0000n, length: K4 });
    expect(lookup(d2, M)).toEqual({ mapped: false, phys: 0n, length: M });
  });
});
