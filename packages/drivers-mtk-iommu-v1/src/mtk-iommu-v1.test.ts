// drivers/iommu/mtk_iommu_v1.c: descriptors, the M4U instance, MMIO and every known quirk in both modes.
import {
  ERRNO,
  IOMMU_CAP_CACHE_COHERENCY,
  IOMMU_HWPT_ALLOC_NEST_PARENT,
  IOMMU_READ,
  IOMMU_WRITE,
  iommuIovaToPhys,
  iommuIovaToPhysLength,
  iommuMap,
  iommuUnmap,
  PhysMem,
  SizeOut,
  TableAllocator,
} from "@iommu/core";
import { describe, expect, it } from "vitest";
import {
  F_DESC_NONSEC,
  F_DESC_VALID,
  MTK_IOMMU_V1_QUIRKS,
  MtkIommuV1,
  mtkV1InTable,
  mtkV1MkDesc,
  REG_MMU_PT_BASE_ADDR,
} from "./mtk-iommu-v1.js";
import { makeMtk } from "./testing/make.js";

const RW = IOMMU_READ | IOMMU_WRITE;

function desc(t: ReturnType<typeof makeMtk>, iova: number): number {
  return t.allocator.mem.read32(t.d.pgtPa + 4 * Math.floor(iova / 0x1000));
}

describe("mtk_iommu_v1 descriptors", () => {
  it("(u32)paddr | VALID | NONSEC for every prot: the hardware has no permission bits", () => {
    expect(mtkV1MkDesc(0x1234_5000)).toBe((0x1234_5000 | F_DESC_VALID | F_DESC_NONSEC) >>> 0);
    for (let prot = 0; prot < 0x40; prot++) {
      const t = makeMtk();
      iommuMap(t.d, 0x1_0000, 0xabcd_e000, 0x1000, prot);
      expect(desc(t, 0x1_0000)).toBe(0xabcd_e00a);
    }
  });

  it("the only page size is 4 KiB: one descriptor per page, index iova >> 12", () => {
    const t = makeMtk();
    expect(t.d.pgsizeBitmap).toBe(0x1000);
    iommuMap(t.d, 0xffff_c000, 0x8000_0000, 0x4000, RW);
    expect([0xffff_c000, 0xffff_d000, 0xffff_e000, 0xffff_f000].map((i) => desc(t, i))).toEqual([
      0x8000_000a, 0x8000_100a, 0x8000_200a, 0x8000_300a,
    ]);
  });
});

describe("MtkIommuV1 (IommuDriver)", () => {
  it("domain alloc: flags → -EOPNOTSUPP, geometry 0/0 (never set), no capability", () => {
    const m4u = new MtkIommuV1();
    expect(m4u.domainAllocPagingFlags(IOMMU_HWPT_ALLOC_NEST_PARENT)).toBe(-ERRNO.EOPNOTSUPP);
    const d = m4u.domainAllocPagingFlags(0);
    if (typeof d === "number") throw new Error("alloc");
    expect(d.geometry).toEqual({ apertureStart: 0, apertureEnd: 0, forceAperture: false });
    expect(m4u.capable(IOMMU_CAP_CACHE_COHERENCY)).toBe(false);
  });

  it("the first attach allocates the table and programs PT_BASE (32 bits); later domains get none", () => {
    const allocator = new TableAllocator(new PhysMem(), { base: 0x1_8000_0000 });
    const m4u = new MtkIommuV1({ allocator });
    const a = m4u.domainAllocPagingFlags(0);
    const b = m4u.domainAllocPagingFlags(0);
    if (typeof a === "number" || typeof b === "number") throw new Error("alloc");
    expect([m4u.attach(a), m4u.attach(b)]).toEqual([0, 0]);
    expect(a.pgtPa).toBe(0x1_8000_0000);
    expect(m4u.readReg(REG_MMU_PT_BASE_ADDR)).toBe(0x8000_0000);
    expect(b.pgtPa).toBe(-1);
    expect(b.ops!.mapPages(b, 0, 0, 0x1000, 1, RW, 0, new SizeOut())).toBe(-ERRNO.ENODEV);
    expect(iommuIovaToPhysLength(b, 0).mapped).toBe(false);
    expect(a.counters.tablesAllocated).toBe(1);
    a.ops!.free!(a);
    expect(allocator.liveCount).toBe(0);
    expect(m4u.m4uDom).toBe(null);
  });

  it("attach fails with -ENOMEM when the 4 MiB table cannot be allocated", () => {
    const allocator = new TableAllocator(new PhysMem());
    const m4u = new MtkIommuV1({ allocator });
    const d = m4u.domainAllocPagingFlags(0);
    if (typeof d === "number") throw new Error("alloc");
    allocator.failNth(1);
    expect(m4u.attach(d)).toBe(-ERRNO.ENOMEM);
    expect(allocator.liveCount).toBe(0);
  });

  it("MMIO: every map_pages / unmap_pages call is one range flush (5 writes, 1 read), also for count 0", () => {
    const t = makeMtk();
    t.m4u.resetMmio();
    iommuMap(t.d, 0, 0, 0x3000, RW);
    expect([t.m4u.mmioWrites, t.m4u.mmioReads]).toEqual([5, 1]);
    t.d.ops!.mapPages(t.d, 0x1_0000, 0, 0x1000, 0, RW, 0, new SizeOut());
    iommuUnmap(t.d, 0, 0x3000);
    expect([t.m4u.mmioWrites, t.m4u.mmioReads]).toEqual([15, 3]);
    expect(t.d.counters.flushRange).toBe(3);
  });

  it("map stops at the first live descriptor: -EEXIST with partial progress, which the core unrolls", () => {
    const t = makeMtk();
    iommuMap(t.d, 0x1_0000, 0x10_0000, 0x4000, RW);
    expect(() => iommuMap(t.d, 0xe000, 0x20_0000, 0x6000, RW)).toThrow(
      expect.objectContaining({ code: "EEXIST", mapped: 0x2000, unrolled: 0x2000 }),
    );
    expect([desc(t, 0xe000), desc(t, 0xf000), desc(t, 0x1_0000)]).toEqual([0, 0, 0x10_000a]);
  });

  it("lookups: the new op adds the offset and checks F_DESC_VALID; holes are 4 KiB", () => {
    const t = makeMtk();
    iommuMap(t.d, 0x7_0000, 0x1234_5000, 0x1000, RW);
    const o = iommuIovaToPhysLength(t.d, 0x7_0abc);
    expect([o.mapped, o.phys, o.length]).toEqual([true, 0x1234_5abc, 0x1000]);
    expect(iommuIovaToPhysLength(t.d, 0x8_0000).length).toBe(0x1000);
    t.allocator.mem.write32(t.d.pgtPa + 4 * 0x90, 0x5000_0008); // NONSEC only: not valid
    expect(iommuIovaToPhysLength(t.d, 0x9_0000).mapped).toBe(false);
  });
});

describe("known kernel quirks, default (kernel) mode and strict mode", () => {
  it("lists every quirk", () => {
    expect(MTK_IOMMU_V1_QUIRKS).toEqual([
      "map-ignores-pgsize",
      "unmap-blind",
      "pa-truncated",
      "pa-low-bits",
      "out-of-table",
    ]);
  });

  it("map-ignores-pgsize: pgcount 4 KiB descriptors whatever pgsize | strict: -EINVAL", () => {
    const t = makeMtk();
    const m = new SizeOut();
    expect(t.d.ops!.mapPages(t.d, 0x2_0000, 0x30_0000, 0x1_0000, 2, RW, 0, m)).toBe(0);
    expect(m.value).toBe(0x2000);
    expect([desc(t, 0x2_1000), desc(t, 0x2_2000)]).toEqual([0x30_100a, 0]);
    expect(t.d.quirks["map-ignores-pgsize"]).toBe(1);
    const s = makeMtk({ strict: true });
    expect(s.d.ops!.mapPages(s.d, 0x2_0000, 0x30_0000, 0x1_0000, 2, RW, 0, m)).toBe(-ERRNO.EINVAL);
  });

  it("unmap-blind: pgcount descriptors zeroed, pgcount × 4 KiB returned, mapped or not | strict: stops at a hole", () => {
    const t = makeMtk();
    iommuMap(t.d, 0x1_0000, 0x10_0000, 0x2000, RW);
    expect(iommuUnmap(t.d, 0x8_0000, 0x4000)).toBe(0x4000);
    expect(t.d.ops!.unmapPages(t.d, 0x1_0000, 0x1_0000, 2, null)).toBe(0x2000);
    expect(desc(t, 0x1_1000)).toBe(0);
    const s = makeMtk({ strict: true });
    iommuMap(s.d, 0x1_0000, 0x10_0000, 0x2000, RW);
    expect(iommuUnmap(s.d, 0x8_0000, 0x4000)).toBe(0);
    expect(iommuUnmap(s.d, 0x1_0000, 0x4000)).toBe(0x2000);
    expect(s.d.ops!.unmapPages(s.d, 0x1_0000, 0x1_0000, 1, null)).toBe(0);
  });

  it("pa-truncated: PAs above 4 GiB keep their low 32 bits | strict: -EINVAL", () => {
    const t = makeMtk();
    iommuMap(t.d, 0x7_0000, 0x1_2345_6000, 0x2000, RW);
    expect(iommuIovaToPhys(t.d, 0x7_1fff)).toBe(0x2345_7fff);
    const s = makeMtk({ strict: true });
    expect(() => iommuMap(s.d, 0x7_0000, 0x1_2345_6000, 0x2000, RW)).toThrow(
      expect.objectContaining({ code: "EINVAL" }),
    );
  });

  it("pa-low-bits: an unaligned PA leaks into the flags | strict: -EINVAL", () => {
    const t = makeMtk();
    const m = new SizeOut();
    t.d.ops!.mapPages(t.d, 0x6_0000, 0x70_0123, 0x1000, 1, RW, 0, m);
    t.d.ops!.mapPages(t.d, 0x6_1000, 0x70_0fff, 0x1000, 1, RW, 0, m);
    expect([desc(t, 0x6_0000), desc(t, 0x6_1000)]).toEqual([0x70_012b, 0x70_0fff]);
    const s = makeMtk({ strict: true });
    expect(s.d.ops!.mapPages(s.d, 0x6_0000, 0x70_0123, 0x1000, 1, RW, 0, m)).toBe(-ERRNO.EINVAL);
  });

  it("iommu_iova_to_phys keeps the page offset and tests F_DESC_VALID in both modes (the pre-series op's phys-no-offset and phys-no-valid-check are gone)", () => {
    for (const strict of [false, true]) {
      const t = makeMtk({ strict });
      iommuMap(t.d, 0x7_0000, 0x2345_6000, 0x1000, RW);
      t.allocator.mem.write32(t.d.pgtPa + 4 * 0x80, 0x5000_0008); // NONSEC without VALID
      expect([iommuIovaToPhys(t.d, 0x7_0abc), iommuIovaToPhys(t.d, 0x8_0000)]).toEqual([0x2345_6abc, 0]);
      const o = iommuIovaToPhysLength(t.d, 0x8_0000);
      expect([o.mapped, o.length]).toEqual([false, 0x1000]);
    }
  });

  it("out-of-table: IOVAs ≥ 4 GiB or runs past the table are refused (the kernel would corrupt memory) | strict: -EINVAL", () => {
    expect([
      mtkV1InTable(0xffff_f000, 1),
      mtkV1InTable(0xffff_f000, 2),
      mtkV1InTable(0x1_0000_0000, 0),
    ]).toEqual([true, false, false]);
    const t = makeMtk();
    const m = new SizeOut();
    expect(t.d.ops!.mapPages(t.d, 0xffff_f000, 0, 0x1000, 2, RW, 0, m)).toBe(-ERRNO.EFAULT);
    expect(t.d.ops!.unmapPages(t.d, 0x1_0000_0000, 0x1000, 1, null)).toBe(0);
    expect(iommuIovaToPhys(t.d, 0x1_0000_0000)).toBe(0); // the length op's hole: not counted
    expect(t.d.quirks["out-of-table"]).toBe(2);
    const s = makeMtk({ strict: true });
    expect(s.d.ops!.mapPages(s.d, 0xffff_f000, 0, 0x1000, 2, RW, 0, m)).toBe(-ERRNO.EINVAL);
  });
});
