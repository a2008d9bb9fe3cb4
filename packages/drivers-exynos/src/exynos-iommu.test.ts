/**
 * drivers/iommu/exynos-iommu.c behaviours (the ~6.3 driver): overlaps and WARNs, sections over
 * level-2 tables, unmapping holes and parts of pages, 64 KiB replicas, lookups with their
 * lengths, TLB maintenance per SysMMU version, the driver instance and domain free.
 */
import {
  IOMMU_DOMAIN_DMA,
  IOMMU_DOMAIN_IDENTITY,
  IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
  IOMMU_READ,
  IOMMU_WRITE,
  IommuError,
  iommuIovaToPhys,
  iommuMap,
  iommuUnmap,
  TableAllocator,
} from "@iommu/core";
import { describe, expect, it } from "vitest";
import { ExynosSysmmu, parseSysmmuVersion } from "./sysmmu.js";
import { l1, l2, leaves, lookup, rawMap, rawUnmap, setup, tableSlots } from "./testing/harness.js";

const RW = IOMMU_READ | IOMMU_WRITE;
const M = 0x10_0000;
const K64 = 0x1_0000;
const K4 = 0x1000;

function mapErr(fn: () => void): IommuError {
  try {
    fn();
  } catch (e) {
    if (e instanceof IommuError) return e;
    throw e;
  }
  throw new Error("no error");
}

describe("map conflicts: -EADDRINUSE with one WARN", () => {
  it("a page inside a section, a section over a section, a page over a page", () => {
    const { d } = setup();
    iommuMap(d, M, 0x4000_0000, M, RW);
    for (const [iova, size] of [
      [M, K4],
      [M + 0x8_0000, K4],
      [M, M],
      [M + K64, K64],
    ] as const) {
      const w = d.counters.warns;
      const e = mapErr(() => iommuMap(d, iova, 0x5000_0000, size, RW));
      expect([e.code, e.mapped, e.unrolled, d.counters.warns - w]).toEqual(["EADDRINUSE", 0, 0, 1]);
    }
    iommuMap(d, 2 * M, 0x5000_0000, K4, RW);
    const e = mapErr(() => iommuMap(d, 2 * M, 0x6000_0000, K4, RW));
    expect(e.code).toBe("EADDRINUSE");
    expect(d.counters.warns).toBe(5);
  });

  it("a section over a level-2 table in use fails; over an emptied one it frees the table", () => {
    const { mmu, d } = setup();
    const cache = mmu.cacheFor(mmu.allocator);
    iommuMap(d, 3 * M + K4, 0x4000_0000, K4, RW);
    expect(cache.liveObjects).toBe(2); // zero table + this one
    expect(mapErr(() => iommuMap(d, 3 * M, 0x4100_0000, M, RW)).code).toBe("EADDRINUSE");
    expect(d.lv2entcnt[3]).toBe(255);
    iommuUnmap(d, 3 * M + K4, K4);
    expect(d.lv2entcnt[3]).toBe(256);
    expect(tableSlots(d)).toEqual([3]); // emptied tables stay
    iommuMap(d, 3 * M, 0x4100_0000, M, RW);
    expect(cache.liveObjects).toBe(1);
    expect(d.lv2entcnt[3]).toBe(0);
    expect(l1(d, 3) >>> 0).toBe(0x0410_0032);
    // LIFO: the freed table is the next one handed out
    const freed = 0x8000_0400;
    iommuMap(d, 9 * M, 0x4000_0000, K4, RW);
    expect(l1(d, 9) >>> 0).toBe(((freed >>> 4) | 1) >>> 0);
  });

  it("a 64 KiB page over a used slot clears the slots it wrote", () => {
    const { d } = setup();
    iommuMap(d, 0x40_5000, 0x7000_0000, K4, RW);
    const r = rawMap(d, 0x40_0000, 0x7100_0000, K64, RW);
    expect(r).toEqual({ ret: -98, mapped: 0 });
    for (let j = 0; j < 5; j++) expect(l2(d, 4, j)).toBe(0);
    expect(l2(d, 4, 5) >>> 0).toBe(0x0700_000e);
    expect(d.lv2entcnt[4]).toBe(255);
  });

  it("a map that fails part-way is unrolled by the core", () => {
    const { d } = setup();
    iommuMap(d, 0x60_2000, 0x7000_0000, K4, RW);
    const e = mapErr(() => iommuMap(d, 0x5f_0000, 0x7100_0000, 0x1_3000, RW));
    expect([e.code, e.mapped, e.unrolled]).toEqual(["EADDRINUSE", 0x1_2000, 0x1_2000]);
    expect([...leaves(d).keys()]).toEqual([0x60_2000n]);
  });
});

describe("unmap", () => {
  it("holes succeed: an empty level-1 slot returns min(size, 1 MiB), an empty level-2 slot 4 KiB", () => {
    const { d } = setup();
    expect(rawUnmap(d, 5 * M, K4)).toBe(K4);
    expect(rawUnmap(d, 5 * M, K64)).toBe(K64);
    expect(rawUnmap(d, 5 * M, M)).toBe(M);
    expect(rawUnmap(d, 5 * M, 4 * M)).toBe(M);
    expect(rawUnmap(d, 5 * M + 0x123, 0x800)).toBe(0x800);
    iommuMap(d, 5 * M, 0x4000_0000, K4, RW);
    expect(rawUnmap(d, 5 * M + K4, M)).toBe(K4);
    expect(iommuUnmap(d, 8 * M, 3 * M)).toBe(3 * M); // through the core: the full size
    expect(d.counters.warns).toBe(0);
  });

  it("part of a section or of a 64 KiB page: 0 with a WARN, nothing split", () => {
    const { d } = setup();
    iommuMap(d, M, 0x4000_0000, M, RW);
    iommuMap(d, 2 * M, 0x4100_0000, K64, RW);
    expect(iommuUnmap(d, M, 0x8_0000)).toBe(0);
    expect(iommuUnmap(d, M + K4, K4)).toBe(0);
    expect(iommuUnmap(d, 2 * M, K4)).toBe(0);
    expect(iommuUnmap(d, 2 * M + 0x3000, K4)).toBe(0);
    expect(d.counters.warns).toBe(4);
    expect(leaves(d).size).toBe(1 + 16);
  });

  it("a section goes back to the zero link; a large page from any unmap of ≥ 64 KiB at its slot", () => {
    const { mmu, d } = setup();
    iommuMap(d, M, 0x4000_0000, M, RW);
    expect(rawUnmap(d, M, 2 * M)).toBe(M);
    expect(l1(d, 1)).toBe(mmu.zeroLv2Link);
    iommuMap(d, 2 * M, 0x4100_0000, K64, RW);
    expect(rawUnmap(d, 2 * M, M)).toBe(K64);
    expect(d.lv2entcnt[2]).toBe(256);
    expect(leaves(d).size).toBe(0);
  });
});

describe("lookups", () => {
  it("iova_to_phys_length: section 1 MiB, large page 64 KiB at every replica, small 4 KiB; holes 1 MiB / 4 KiB", () => {
    const { d } = setup();
    iommuMap(d, M, 0x8_4000_0000, M, RW);
    iommuMap(d, 2 * M + K64, 0x4100_0000, K64, RW);
    iommuMap(d, 2 * M + 0x3_0000, 0x4200_0000, K4, RW);
    expect(lookup(d, M + 0x12345)).toEqual({ mapped: true, phys: 0x8_4001_2345n, length: M });
    for (let j = 0; j < 16; j++)
      expect(lookup(d, 2 * M + K64 + j * K4 + 0x10)).toEqual({
        mapped: true,
        phys: BigInt(0x4100_0010 + j * K4),
        length: K64,
      });
    expect(lookup(d, 2 * M + 0x3_0abc)).toEqual({ mapped: true, phys: 0x4200_0abcn, length: K4 });
    expect(lookup(d, 2 * M)).toEqual({ mapped: false, phys: 0n, length: K4 });
    expect(lookup(d, 7 * M)).toEqual({ mapped: false, phys: 0n, length: M });
    expect(iommuIovaToPhys(d, M + 0x12345)).toBe(0x8_4001_2345);
    expect(iommuIovaToPhys(d, 7 * M)).toBe(0);
  });

  it("a mapping of physical 0: iommu_iova_to_phys says 0 (as for a hole), iova_to_phys_length says mapped", () => {
    const { d } = setup();
    iommuMap(d, M, 0, K4, RW);
    expect(iommuIovaToPhys(d, M)).toBe(0);
    expect(lookup(d, M)).toEqual({ mapped: true, phys: 0n, length: K4 });
  });

  it("counts one entry read per level", () => {
    const { d } = setup();
    iommuMap(d, M, 0x4000_0000, M, RW);
    iommuMap(d, 2 * M, 0x4000_0000, K4, RW);
    for (const [iova, reads] of [
      [M, 1],
      [2 * M, 2],
      [3 * M, 1],
    ] as const) {
      const before = d.counters.pteReads;
      lookup(d, iova);
      expect(d.counters.pteReads - before).toBe(reads);
    }
  });
});

describe("TLB maintenance", () => {
  it.each([
    ["5.0", { flushAll: 1, flushPage: 3 }],
    ["3.3", { flushAll: 0, flushPage: 4 }],
    ["3.2", { flushAll: 0, flushPage: 3 }],
    ["2.0", { flushAll: 0, flushPage: 16 + 1 + 1 }], // v2: min(size / 4K, 64) per unmap
  ])("SysMMU %s", (version, exp) => {
    const { d } = setup({ version });
    iommuMap(d, M, 0x4000_0000, K64, RW); // replaces the zero link: FLPD cache flush (≥ 3.3)
    iommuMap(d, M + K64, 0x4000_0000, K4, RW);
    iommuUnmap(d, M, K64 + K4); // two legacy unmaps: 64 KiB, 4 KiB
    iommuUnmap(d, 5 * M, K4); // a hole: invalidated too
    expect({ flushAll: d.counters.flushAll, flushPage: d.counters.flushPage }).toEqual(exp);
  });
});

describe("the SysMMU instance", () => {
  it("describes itself: bitmap, no capabilities, versions, shift", () => {
    const mmu = new ExynosSysmmu({ version: "3.3" });
    expect(mmu.pgsizeBitmap).toBe(0x11_1000);
    expect(mmu.capable(0)).toBe(false);
    expect([mmu.major, mmu.minor, mmu.version, mmu.pgEntShift]).toEqual([3, 3, (3 << 7) | 3, 0]);
    expect(new ExynosSysmmu().pgEntShift).toBe(4);
    expect(parseSysmmuVersion("7")).toEqual({ major: 7, minor: 0 });
    for (const bad of ["0", "16", "5.128", "x", "5."])
      expect(() => parseSysmmuVersion(bad)).toThrow(IommuError);
  });

  it("domain_alloc: DMA and UNMANAGED only, no flags; a 64-bit aperture", () => {
    const mmu = new ExynosSysmmu();
    expect(mmu.domainAllocPagingFlags(IOMMU_HWPT_ALLOC_DIRTY_TRACKING)).toBe(-95);
    expect(mmu.domainAlloc(IOMMU_DOMAIN_IDENTITY)).toBeNull();
    expect(mmu.domainAllocPagingFlags(0, { type: IOMMU_DOMAIN_IDENTITY })).toBe(-12);
    const d = mmu.domainAllocPagingFlags(0, { type: IOMMU_DOMAIN_DMA });
    if (typeof d === "number") throw new Error("alloc");
    expect(d.geometry).toEqual({ apertureStart: 0, apertureEnd: (1n << 64n) - 1n, forceAperture: true });
    expect(d.pgsizeBitmap).toBe(0x11_1000);
    expect(d.counters.tablesAllocated).toBe(1); // the level-1 table (lv2entcnt is bookkeeping)
  });

  it("refuses table memory beyond the entries' reach", () => {
    expect(() => new ExynosSysmmu({ version: "3.3", ptbase: 0x1_0000_0000 })).toThrow(IommuError);
    expect(() => new ExynosSysmmu({ version: "5.0", ptbase: 0x10_0000_0000 })).toThrow(IommuError);
    expect(new ExynosSysmmu({ version: "5.0", ptbase: 0xf_8000_0000 }).zeroLv2Link).toBe(0xf800_0001);
  });

  it("domains of one SysMMU share the level-2 cache; another allocator gets its own", () => {
    const mmu = new ExynosSysmmu();
    const a = mmu.domainAllocPagingFlags(0);
    const other = new TableAllocator(undefined, { base: 0x4000_0000 });
    const b = mmu.domainAllocPagingFlags(0, { allocator: other });
    if (typeof a === "number" || typeof b === "number") throw new Error("alloc");
    iommuMap(a, 0, 0x1000, K4, RW);
    iommuMap(b, 0, 0x1000, K4, RW);
    expect(a.lv2Cache).toBe(mmu.cacheFor(mmu.allocator));
    expect(b.lv2Cache).toBe(mmu.cacheFor(other));
    expect(l1(a, 0) >>> 0).toBe(((0x8000_0400 >>> 4) | 1) >>> 0);
    // the other memory: level-1 table, counters, then the first slab block at +0x6000
    expect(l1(b, 0) >>> 0).toBe(((0x4000_6000 >>> 4) | 1) >>> 0);
    expect(a.ops).toBe(b.ops);
  });

  it("free: every level-2 table back to the cache, the level-1 table and the counters freed", () => {
    const { mmu, d } = setup();
    iommuMap(d, 0, 0x4000_0000, 3 * M + K4, RW); // three sections and a table
    iommuMap(d, 7 * M + K64, 0x1000_0000, K64, RW);
    const cache = mmu.cacheFor(mmu.allocator);
    expect(cache.liveObjects).toBe(3);
    d.ops!.free!(d);
    expect(cache.liveObjects).toBe(1);
    expect(d.counters.tablesAllocated - d.counters.tablesFreed).toBe(0);
    expect(mmu.allocator.liveCount).toBe(cache.blockCount); // only the slab blocks
    expect(rawMap(d, 0, 0, K4, RW).ret).toBe(-19);
    expect(rawUnmap(d, 0, K4)).toBe(0);
    expect(iommuIovaToPhys(d, 0)).toBe(0);
    expect(d.ops!.inspect!(d)).toBeNull();
    d.ops!.free!(d); // twice is harmless
  });
});
