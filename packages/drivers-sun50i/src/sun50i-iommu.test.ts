/**
 * drivers/iommu/sun50i-iommu.c: PTE and DTE bits for every prot (the ACI index), -EBUSY
 * overlaps without WARN, unmap stopping at holes, page tables kept until the domain goes,
 * lookups and their lengths, TLB / PTW-cache maintenance, the instance and free.
 */
import {
  IOMMU_CACHE,
  IOMMU_HWPT_ALLOC_PASID,
  IOMMU_MMIO,
  IOMMU_NOEXEC,
  IOMMU_PRIV,
  IOMMU_READ,
  IOMMU_WRITE,
  IommuError,
  iommuDomainInspector,
  iommuFlushIotlbAll,
  iommuIovaToPhys,
  iommuMap,
  iommuUnmap,
} from "@iommu/core";
import { describe, expect, it } from "vitest";
import { Sun50iIommu } from "./driver.js";
import { dte, leaves, lookup, pte, rawMap, rawUnmap, setup } from "./testing/harness.js";

const R = IOMMU_READ;
const W = IOMMU_WRITE;
const RW = R | W;
const K4 = 0x1000;
const M = 0x10_0000;

describe("entries", () => {
  // ACI: RD_WR 4, RD 2, WR 3, NONE 1, in bits 7:4; valid bit 1
  it.each([
    [0, 0x4567_8012],
    [R, 0x4567_8022],
    [W, 0x4567_8032],
    [RW, 0x4567_8042],
  ])("prot 0x%s → PTE 0x%s, also with CACHE|NOEXEC|MMIO|PRIV; read back as the same prot", (prot, raw) => {
    for (const extra of [0, IOMMU_CACHE | IOMMU_NOEXEC | IOMMU_MMIO | IOMMU_PRIV]) {
      const { d } = setup();
      iommuMap(d, 0x30_5000, 0x4567_8000, K4, prot | extra);
      expect(pte(d, 0x30_5000) >>> 0).toBe(raw);
      expect(iommuDomainInspector(d)!.walk(0x30_5000).steps[1]!.prot).toBe(prot);
    }
  });

  it("DTEs: page-table PA bits 31:10 | 1; tables are 1 KiB objects of the pool", () => {
    const { d } = setup();
    iommuMap(d, 0, 0x4000_0000, K4, RW);
    iommuMap(d, 5 * M, 0x4000_0000, K4, RW);
    expect(dte(d, 0)).toBe(0x8000_4001);
    expect(dte(d, 5)).toBe(0x8000_4401);
  });
});

describe("map and unmap", () => {
  it("over a valid PTE: -EBUSY, no WARN; the core unrolls a partial map", () => {
    const { d } = setup();
    iommuMap(d, 0x3000, 0x4000_0000, K4, RW);
    expect(rawMap(d, 0x3000, 0x5000_0000, K4, RW)).toEqual({ ret: -16, mapped: 0 });
    let err: IommuError | undefined;
    try {
      iommuMap(d, 0, 0x5000_0000, 0x8000, RW);
    } catch (e) {
      err = e as IommuError;
    }
    expect([err?.code, err?.mapped, err?.unrolled]).toEqual(["EBUSY", 0x3000, 0x3000]);
    expect(d.counters.warns).toBe(0);
    expect(leaves(d).size).toBe(1);
  });

  it("map_pages writes one PTE whatever the count and page size, and reports pgsize", () => {
    const { d } = setup();
    expect(rawMap(d, 0x1000, 0x4300_0000, 0x1_0000, RW, 2)).toEqual({ ret: 0, mapped: 0x1_0000 });
    expect(leaves(d).size).toBe(1);
    expect(rawUnmap(d, 0x1000, 0x1_0000, 4)).toBe(K4);
    expect(rawUnmap(d, 0x1000, K4)).toBe(0);
  });

  it("unmap stops at the first hole; emptied page tables stay", () => {
    const { iommu, d } = setup();
    iommuMap(d, 0, 0x4000_0000, 0x3000, RW);
    iommuMap(d, 0x4000, 0x4000_4000, K4, RW);
    expect(iommuUnmap(d, 0, 0x5000)).toBe(0x3000);
    expect(iommuUnmap(d, 0x4000, K4)).toBe(K4);
    expect(iommu.poolFor(iommu.allocator).liveObjects).toBe(1);
    expect(lookup(d, 0)).toEqual({ mapped: false, phys: 0n, length: K4 });
    expect(lookup(d, M)).toEqual({ mapped: false, phys: 0n, length: M });
  });
});

describe("lookups", () => {
  it("page address + offset, 4 KiB leaves", () => {
    const { d } = setup();
    iommuMap(d, 0xff000, 0x4100_0000, 0x2000, W);
    expect(iommuIovaToPhys(d, 0xff123)).toBe(0x4100_0123);
    expect(iommuIovaToPhys(d, 0x10_0fff)).toBe(0x4100_1fff);
    expect(lookup(d, 0x10_0fff)).toEqual({ mapped: true, phys: 0x4100_1fffn, length: K4 });
    expect(iommuIovaToPhys(d, 0x10_1000)).toBe(0);
  });
});

describe("TLB maintenance", () => {
  it("iotlb_sync_map zaps 2 (+2 past 4 KiB) TLB lines and 2 (+2 past 1 MiB) PTW entries; sync and flush_all flush everything", () => {
    const { d } = setup();
    iommuMap(d, 0, 0x4000_0000, K4, RW);
    expect([d.counters.flushPage, d.counters.flushWalk]).toEqual([2, 2]);
    iommuMap(d, M, 0x4000_0000, 0x2000, RW);
    expect([d.counters.flushPage, d.counters.flushWalk]).toEqual([6, 4]);
    iommuMap(d, 4 * M, 0x4000_0000, 2 * M, RW);
    expect([d.counters.flushPage, d.counters.flushWalk]).toEqual([10, 8]);
    iommuUnmap(d, 0, K4);
    expect(d.counters.flushAll).toBe(1);
    iommuFlushIotlbAll(d);
    expect(d.counters.flushAll).toBe(2);
  });
});

describe("the IOMMU instance", () => {
  it("describes itself and allocates domains", () => {
    const iommu = new Sun50iIommu();
    expect([iommu.pgsizeBitmap, iommu.capable(0), iommu.name]).toEqual([K4, false, "sun50i-iommu"]);
    expect(iommu.domainAllocPagingFlags(IOMMU_HWPT_ALLOC_PASID)).toBe(-95);
    expect(() => new Sun50iIommu({ ptbase: 0x1_0000_0000 })).toThrow(IommuError);
    const { d } = setup();
    expect(d.geometry).toEqual({ apertureStart: 0, apertureEnd: 0xffff_ffff, forceAperture: true });
    expect([d.dt, d.pgsizeBitmap, d.counters.tablesAllocated]).toEqual([0x8000_0000, K4, 1]);
    iommu.allocator.failNth(1);
    expect(iommu.domainAllocPagingFlags(0)).toBe(-12);
  });

  it("free: detach clears the DTEs and returns the page tables, then the directory goes", () => {
    const { iommu, d } = setup();
    iommuMap(d, 0, 0x4000_0000, 5 * M, RW);
    const pool = iommu.poolFor(iommu.allocator);
    expect(pool.liveObjects).toBe(5);
    d.ops!.free!(d);
    expect(pool.liveObjects).toBe(0);
    expect(d.counters.tablesAllocated - d.counters.tablesFreed).toBe(0);
    expect(iommu.allocator.liveCount).toBe(pool.blockCount);
    expect(rawMap(d, 0, 0, K4, RW).ret).toBe(-19);
    expect(rawUnmap(d, 0, K4)).toBe(0);
    expect(iommuIovaToPhys(d, 0)).toBe(0);
    expect(d.ops!.inspect!(d)).toBeNull();
  });
});
