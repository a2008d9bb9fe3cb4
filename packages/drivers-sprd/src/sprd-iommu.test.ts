/**
 * drivers/iommu/sprd-iommu.c: the entries (a bare PFN for every prot), map_pages ignoring the
 * page size, the aperture checks and the lookup's aperture WARN, lookups and their lengths, TLB
 * clears, the instance (EX/VAU, the fault page, attach) and free.
 */
import {
  IOMMU_CACHE,
  IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
  IOMMU_MMIO,
  IOMMU_NOEXEC,
  IOMMU_PRIV,
  IOMMU_READ,
  IOMMU_WRITE,
  iommuDomainInspector,
  iommuIovaToPhys,
  iommuMap,
  iommuUnmap,
} from "@iommu/core";
import { describe, expect, it } from "vitest";
import { SprdIommu } from "./driver.js";
import { entry, leaves, lookup, rawMap, rawUnmap, setup } from "./testing/harness.js";

const RW = IOMMU_READ | IOMMU_WRITE;
const K4 = 0x1000;
const END = 0x1000_0000;

describe("entries", () => {
  it.each([0, IOMMU_READ, IOMMU_WRITE, RW, RW | IOMMU_CACHE | IOMMU_NOEXEC | IOMMU_MMIO | IOMMU_PRIV])(
    "prot 0x%s: the entry is (u32)pa >> 12, nothing else; read back as read/write",
    (prot) => {
      const { d } = setup();
      iommuMap(d, 0x42_000, 0x4300_2000, 2 * K4, prot);
      expect([entry(d, 0x42), entry(d, 0x43)]).toEqual([0x4_3002, 0x4_3003]);
      expect(iommuDomainInspector(d)!.walk(0x42_000).steps[0]!.prot).toBe(RW);
    },
  );

  it("map_pages writes pgcount 4 KiB entries whatever pgsize; unmap_pages clears pgcount", () => {
    const { d } = setup();
    expect(rawMap(d, 0x40_000, 0x4300_0000, 0x1_0000, RW, 3)).toEqual({ ret: 0, mapped: 0x3000 });
    expect(leaves(d).size).toBe(3);
    expect(rawUnmap(d, 0x40_000, 0x10_0000, 2)).toBe(0x2000);
    expect(leaves(d).size).toBe(1);
    expect(rawMap(d, 0x50_000, 0x4300_0000, K4, RW, 0)).toEqual({ ret: 0, mapped: 0 });
  });
});

describe("aperture 0 .. 256 MiB - 1", () => {
  it("map: -EINVAL past the end; unmap: 0; lookups: WARN and 0", () => {
    const { d } = setup();
    iommuMap(d, END - 0x2000, 0x4100_0000, 0x2000, RW);
    expect(() => iommuMap(d, END - 0x2000, 0x4100_0000, 0x3000, RW)).toThrow(/EINVAL/);
    expect(rawMap(d, END, 0x4200_0000, K4, RW).ret).toBe(-22);
    expect(iommuUnmap(d, END - 0x2000, 0x3000)).toBe(0);
    expect(rawUnmap(d, END, K4)).toBe(0);
    expect(iommuIovaToPhys(d, END - 1)).toBe(0x4100_1fff);
    const w = d.counters.warns;
    expect(iommuIovaToPhys(d, END)).toBe(0);
    expect(lookup(d, 2 ** 40)).toEqual({ mapped: false, phys: 0n, length: 2 ** 40 }); // [2^40, 2^41)
    expect(d.counters.warns - w).toBe(2);
    expect(d.geometry).toEqual({ apertureStart: 0, apertureEnd: END - 1, forceAperture: true });
  });
});

describe("lookups", () => {
  it("(entry << 12) + offset; lengths are 4 KiB", () => {
    const { d } = setup();
    iommuMap(d, 0x20_000, 0x1_c000_3000, 0x2000, 0);
    expect(iommuIovaToPhys(d, 0x21_234)).toBe(0xc000_4234);
    expect(lookup(d, 0x21_234)).toEqual({ mapped: true, phys: 0xc000_4234n, length: K4 });
    expect(lookup(d, 0x22_000)).toEqual({ mapped: false, phys: 0n, length: K4 });
  });
});

describe("TLB clears", () => {
  it("iotlb_sync_map and iotlb_sync write the UPDATE register: one flush-all each", () => {
    const { d } = setup();
    iommuMap(d, 0, 0x4000_0000, 0x2000, RW);
    expect(d.counters.flushAll).toBe(1);
    iommuUnmap(d, 0, 0x2000);
    expect(d.counters.flushAll).toBe(2);
  });
});

describe("the IOMMU instance", () => {
  it("describes itself; EX and VAU register layouts", () => {
    const ex = new SprdIommu();
    expect([ex.pgsizeBitmap, ex.capable(0), ex.version, ex.regs.update, ex.protPage]).toEqual([
      K4,
      false,
      "ex",
      0x4,
      0x8000_0000,
    ]);
    const vau = new SprdIommu({ version: "vau" });
    expect([vau.regs.update, vau.regs.defaultPpn]).toEqual([0x8, [0x14, 0x18]]);
    expect(ex.domainAllocPagingFlags(IOMMU_HWPT_ALLOC_DIRTY_TRACKING)).toBe(-95);
  });

  it("the table is allocated at attach (256 KiB after the fault page); before it map is -EINVAL", () => {
    const iommu = new SprdIommu();
    const d = iommu.domainAllocPagingFlags(0, { attach: false });
    if (typeof d === "number") throw new Error("alloc");
    expect(rawMap(d, 0, 0x4000_0000, K4, RW).ret).toBe(-22);
    expect(rawUnmap(d, 0, K4)).toBe(0);
    expect(iommuIovaToPhys(d, 0)).toBe(0);
    expect(d.ops!.inspect!(d)).toBeNull();
    expect(iommu.attachDevice(d)).toBe(0);
    expect(d.pgt).toBe(0x8004_0000);
    expect(iommu.attachDevice(d)).toBe(0);
    expect(rawMap(d, 0, 0x4000_0000, K4, RW).ret).toBe(0);
    iommu.allocator.failNth(1);
    const e = iommu.domainAllocPagingFlags(0);
    expect(e).toBe(-12);
  });

  it("free returns the table; a freed domain maps nothing", () => {
    const { iommu, d } = setup();
    iommuMap(d, 0, 0x4000_0000, 0x2000, RW);
    expect(iommu.allocator.liveCount).toBe(2);
    d.ops!.free!(d);
    expect(iommu.allocator.liveCount).toBe(1);
    expect(d.counters.tablesAllocated - d.counters.tablesFreed).toBe(0);
    expect(rawMap(d, 0, 0x4000_0000, K4, RW).ret).toBe(-22);
  });
});
