/**
 * drivers/iommu/rockchip-iommu.c behaviours: overlaps (-EADDRINUSE without WARN, the call's
 * own PTEs invalidated), unmap clearing only the valid bit and stopping at the first invalid
 * PTE, count ignored, lookups with their lengths, IOTLB zaps, the driver instance and free.
 */
import {
  IOMMU_HWPT_ALLOC_NEST_PARENT,
  IOMMU_READ,
  IOMMU_WRITE,
  IommuError,
  iommuIovaToPhys,
  iommuMap,
  iommuUnmap,
} from "@iommu/core";
import { describe, expect, it } from "vitest";
import { RockchipIommu } from "./driver.js";
import { leaves, lookup, pte, rawMap, rawUnmap, setup } from "./testing/harness.js";

const RW = IOMMU_READ | IOMMU_WRITE;
const K4 = 0x1000;
const M4 = 0x40_0000;

function mapErr(fn: () => void): IommuError {
  try {
    fn();
  } catch (e) {
    if (e instanceof IommuError) return e;
    throw e;
  }
  throw new Error("no error");
}

describe("map", () => {
  it("over a valid PTE: -EADDRINUSE, no WARN, the PTEs this call wrote invalidated (stale)", () => {
    const { d } = setup();
    iommuMap(d, 0x3000, 0x5000_3000, K4, RW);
    expect(rawMap(d, 0, 0x6000_0000, 0x8000, RW)).toEqual({ ret: -98, mapped: 0 });
    expect(d.counters.warns).toBe(0);
    for (let k = 0; k < 3; k++) expect(pte(d, k * K4) >>> 0).toBe((0x6000_0000 + k * K4) | 0x6); // valid bit gone
    expect(pte(d, 0x3000) >>> 0).toBe(0x5000_3007);
    expect(pte(d, 0x4000)).toBe(0);
    expect(leaves(d).size).toBe(1);
  });

  it("ignores count: one call maps pgsize and reports it", () => {
    const { d } = setup();
    expect(rawMap(d, 0, 0x6000_0000, K4, RW, 9)).toEqual({ ret: 0, mapped: K4 });
    expect(rawMap(d, M4, 0x6000_0000, M4, RW, 3)).toEqual({ ret: 0, mapped: M4 });
    expect(leaves(d).size).toBe(1 + 1024);
  });

  it("a failed map part-way is unrolled by the core", () => {
    const { d } = setup();
    iommuMap(d, M4 + 0x10_0000, 0x5000_0000, K4, RW);
    const e = mapErr(() => iommuMap(d, 0, 0x6000_0000, 2 * M4, RW));
    expect([e.code, e.mapped, e.unrolled]).toEqual(["EADDRINUSE", M4, M4]);
    expect(leaves(d).size).toBe(1);
  });
});

describe("unmap", () => {
  it("clears the valid bit only and stops at the first invalid PTE", () => {
    const { d } = setup();
    iommuMap(d, 0, 0x5000_0000, 0x5000, RW);
    expect(iommuUnmap(d, 0, 0x8000)).toBe(0x5000);
    expect(pte(d, 0x4000) >>> 0).toBe(0x5000_4006);
    expect(iommuUnmap(d, 0, K4)).toBe(0);
    expect(rawUnmap(d, 20 * M4, K4)).toBe(0); // an invalid DTE
    iommuMap(d, 0x1000, 0x5100_0000, 0x2000, RW); // over the stale PTEs
    expect(rawUnmap(d, 0, 0x4000)).toBe(0); // the first PTE is invalid
    expect(rawUnmap(d, 0x1000, 0x4000, 7)).toBe(0x2000); // count ignored, stops at 0x3000
  });
});

describe("lookups", () => {
  it("phys + offset; lengths: 4 KiB leaves, holes of 4 KiB under a valid DTE, 4 MiB otherwise", () => {
    const { d } = setup();
    iommuMap(d, M4, 0x7000_0000, 0x20_0000, RW);
    expect(lookup(d, M4 + 0x1_2345)).toEqual({ mapped: true, phys: 0x7001_2345n, length: K4 });
    expect(lookup(d, M4 + 0x20_0000)).toEqual({ mapped: false, phys: 0n, length: K4 });
    expect(lookup(d, 5 * M4)).toEqual({ mapped: false, phys: 0n, length: M4 });
    expect(iommuIovaToPhys(d, M4 + 0x1_2345)).toBe(0x7001_2345);
    iommuUnmap(d, M4, K4);
    expect(iommuIovaToPhys(d, M4)).toBe(0); // stale but invalid
    expect(lookup(d, M4)).toEqual({ mapped: false, phys: 0n, length: K4 });
  });

  it("v2 decodes 40-bit PAs", () => {
    const { d } = setup({ variant: "v2" });
    iommuMap(d, 0, 0xab_cdef_0000, 0x1_0000, RW);
    expect(iommuIovaToPhys(d, 0x5123)).toBe(0xab_cdef_5123);
    expect(lookup(d, 0x5123)).toEqual({ mapped: true, phys: 0xab_cdef_5123n, length: K4 });
  });
});

describe("IOTLB zaps", () => {
  it("map zaps the first and last page, unmap every page unmapped", () => {
    const { d } = setup();
    iommuMap(d, 0, 0x7000_0000, K4, RW);
    expect(d.counters.flushPage).toBe(1);
    iommuMap(d, M4, 0x7000_0000, M4, RW);
    expect(d.counters.flushPage).toBe(3);
    iommuUnmap(d, M4, 0x8000);
    expect(d.counters.flushPage).toBe(3 + 8);
    expect(rawMap(d, 0, 0, K4, RW).ret).toBe(-98); // a failed map zaps nothing
    expect(d.counters.flushPage).toBe(11);
  });
});

describe("the IOMMU instance", () => {
  it("describes itself", () => {
    const v1 = new RockchipIommu();
    expect([v1.pgsizeBitmap, v1.rkOps.name, v1.capable(0), v1.name]).toEqual([
      0x7f_f000,
      "v1",
      false,
      "rk_iommu",
    ]);
    expect(new RockchipIommu({ variant: "v2" }).rkOps.dmaBits).toBe(40);
    expect(v1.domainAllocPagingFlags(IOMMU_HWPT_ALLOC_NEST_PARENT)).toBe(-95);
    expect(() => new RockchipIommu({ ptbase: 0x1_0000_0000 })).toThrow(IommuError);
    expect(() => new RockchipIommu({ variant: "v2", ptbase: 0x100_0000_0000 })).toThrow(IommuError);
  });

  it("domains: 32-bit aperture, 4 KiB–4 MiB bitmap, the directory at ptbase", () => {
    const { d } = setup();
    expect(d.geometry).toEqual({ apertureStart: 0, apertureEnd: 0xffff_ffff, forceAperture: true });
    expect(d.pgsizeBitmap).toBe(0x7f_f000);
    expect(d.dt).toBe(0x8000_0000);
    expect(d.counters.tablesAllocated).toBe(1);
  });

  it("a failed directory allocation is -ENOMEM", () => {
    const iommu = new RockchipIommu();
    iommu.allocator.failNth(1);
    expect(iommu.domainAllocPagingFlags(0)).toBe(-12);
    expect(iommu.allocator.liveCount).toBe(0);
  });

  it("free: page tables (kept until now) and the directory", () => {
    const { iommu, d } = setup();
    iommuMap(d, 0, 0x7000_0000, 3 * M4, RW);
    iommuUnmap(d, 0, 3 * M4);
    expect(iommu.allocator.liveCount).toBe(4);
    d.ops!.free!(d);
    expect(iommu.allocator.liveCount).toBe(0);
    expect(d.counters.tablesAllocated - d.counters.tablesFreed).toBe(0);
    expect(rawMap(d, 0, 0, K4, RW).ret).toBe(-19);
    expect(rawUnmap(d, 0, K4)).toBe(0);
    expect(iommuIovaToPhys(d, 0)).toBe(0);
    expect(d.ops!.inspect!(d)).toBeNull();
  });
});
