// drivers/iommu/omap-iommu.c: descriptors per page size, the MMUs, MMIO, two-MMU mirroring and every known quirk in both modes.
import {
  ERRNO,
  IOMMU_CAP_CACHE_COHERENCY,
  IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
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
import { OMAP_QUIRKS, OmapIommu } from "./omap-iommu.js";
import { MMU_CNTL, MMU_GP_REG, MMU_IRQENABLE, MMU_TTB } from "./omap-iopgtable.js";
import { makeOmap, type OmapFixture } from "./testing/make.js";

const RW = IOMMU_READ | IOMMU_WRITE;

/** L1 entry of `iova` in MMU `k`'s table. */
function l1(t: OmapFixture, iova: number, k = 0): number {
  return t.allocator.mem.read32(t.d.iommus[k]!.pgtable + 4 * (iova >>> 20));
}

/** L2 entry of `iova` in MMU `k`'s tables (0 without an L2 table). */
function l2(t: OmapFixture, iova: number, k = 0): number {
  const e = l1(t, iova, k);
  if ((e & 3) !== 1) return 0;
  return t.allocator.mem.read32(((e & ~0x3ff) >>> 0) + 4 * ((iova >>> 12) & 0xff));
}

describe("omap descriptors", () => {
  it("every page size, for every prot (the attributes are always 0: prot is ignored)", () => {
    for (let prot = 0; prot < 0x40; prot += 7) {
      const t = makeOmap();
      iommuMap(t.d, 0x100_0000, 0x8100_0000, 0x111_1000, prot);
      for (let i = 0; i < 16; i++) expect(l1(t, 0x100_0000 + i * 0x10_0000)).toBe(0x8104_0002);
      expect(l1(t, 0x200_0000)).toBe(0x8200_0002);
      for (let j = 0; j < 16; j++) expect(l2(t, 0x210_0000 + j * 0x1000)).toBe(0x8210_0001);
      expect(l2(t, 0x211_0000)).toBe(0x8211_0002);
      expect(l1(t, 0x210_0000)).toBe(0x8000_4001);
    }
  });

  it("PAs keep their page bits only (section 31:20, supersection 31:24, large 31:16, small 31:12)", () => {
    const t = makeOmap();
    const m = new SizeOut();
    t.d.ops!.mapPages(t.d, 0x400_0000, 0xa300_0000, 0x100_0000, 1, RW, 0, m);
    expect(t.d.ops!.mapPages(t.d, 0x600_0000, 0xb010_0000, 0x10_0000, 1, RW, 0, m)).toBe(0);
    expect([l1(t, 0x400_0000), l1(t, 0x600_0000)]).toEqual([0xa304_0002, 0xb010_0002]);
  });
});

describe("OmapIommu (IommuDriver)", () => {
  it("domain alloc: flags → -EOPNOTSUPP; bitmap 4K|64K|1M|16M; aperture 0..4G forced; no capability", () => {
    const omap = new OmapIommu();
    expect(omap.domainAllocPagingFlags(IOMMU_HWPT_ALLOC_DIRTY_TRACKING)).toBe(-ERRNO.EOPNOTSUPP);
    const d = omap.domainAllocPagingFlags(0);
    if (typeof d === "number") throw new Error("alloc");
    expect([d.pgsizeBitmap, d.geometry.apertureEnd, d.geometry.forceAperture]).toEqual([
      0x111_1000,
      0xffff_ffff,
      true,
    ]);
    expect(omap.capable(IOMMU_CAP_CACHE_COHERENCY)).toBe(false);
    expect(omap.mmus.map((m) => m.name)).toEqual(["55082000.mmu"]);
  });

  it("attach: a 16 KiB L1 per MMU, TTB/CNTL/IRQENABLE programmed; dra7-dsp adds GP_REG and the syscon; second attach -EINVAL", () => {
    const t = makeOmap({ soc: "dra7-dsp", mmus: 2 });
    expect(t.d.iommus.map((x) => x.pgtable)).toEqual([0x8000_0000, 0x8000_4000]);
    expect(
      t.omap.mmus.map((m) => [
        m.name,
        m.peek(MMU_TTB),
        m.peek(MMU_CNTL),
        m.peek(MMU_IRQENABLE),
        m.peek(MMU_GP_REG),
      ]),
    ).toEqual([
      ["40d01000.mmu", 0x8000_0000, 0x6, 0x1e, 1],
      ["40d02000.mmu", 0x8000_4000, 0x6, 0x1e, 1],
    ]);
    expect(t.omap.syscon!.mmuConfig).toBe(0x11);
    expect(t.omap.attach(t.d)).toBe(-ERRNO.EINVAL);
    t.omap.detach(t.d);
    expect([t.omap.syscon!.mmuConfig, t.omap.mmus[0]!.peek(MMU_CNTL), t.allocator.liveCount]).toEqual([
      0, 0, 0,
    ]);
  });

  it("attach fails with -ENOMEM when an L1 table cannot be allocated, leaving nothing behind", () => {
    const allocator = new TableAllocator(new PhysMem());
    const omap = new OmapIommu({ mmus: 2, allocator });
    const d = omap.domainAllocPagingFlags(0);
    if (typeof d === "number") throw new Error("alloc");
    allocator.failNth(2);
    expect(omap.attach(d)).toBe(-ERRNO.ENOMEM);
    expect([allocator.liveCount, d.counters.tablesAllocated - d.counters.tablesFreed]).toEqual([0, 0]);
  });

  it("MMIO: every map_pages / unmap_pages call scans the TLB of each MMU (3 reads + 1 write per entry)", () => {
    const t = makeOmap({ mmus: 2, tlbEntries: 8 });
    for (const m of t.omap.mmus) m.resetMmio();
    iommuMap(t.d, 0x1000, 0x2000, 0x1000, RW);
    iommuUnmap(t.d, 0x1000, 0x1000);
    t.d.ops!.mapPages(t.d, 0, 0, 0x2000, 1, RW, 0, new SizeOut()); // bad size: no MMIO
    expect(t.omap.mmus.map((m) => [m.mmioWrites, m.mmioReads])).toEqual([
      [16, 48],
      [16, 48],
    ]);
  });

  it("two MMUs mirror every entry; phys reads MMU 0; a store failing on MMU 1 is rolled back on MMU 0", () => {
    const t = makeOmap({ mmus: 2 });
    iommuMap(t.d, 0x10_0000, 0x5000_0000, 0x11000, RW);
    expect([l2(t, 0x10_0000, 0), l2(t, 0x10_0000, 1)]).toEqual([0x5000_0001, 0x5000_0001]);
    expect(l1(t, 0x10_0000, 0)).not.toBe(l1(t, 0x10_0000, 1));
    // An odd number of L2 objects in use (a misaligned 64K call installs one on MMU 0 only), so
    // MMU 0's next table comes from the slab page in use and MMU 1's needs a fresh one.
    t.d.ops!.mapPages(t.d, 0x50_1000, 0, 0x1_0000, 1, RW, 0, new SizeOut());
    expect(t.d.l2Cache.liveObjects).toBe(3);
    t.allocator.failNth(1);
    expect(() => iommuMap(t.d, 0x30_0000, 0x6000_0000, 0x1000, RW)).toThrow(
      expect.objectContaining({ code: "ENOMEM" }),
    );
    expect([l1(t, 0x30_0000, 0), l1(t, 0x30_0000, 1)]).toEqual([0, 0]);
    expect(t.d.l2Cache.liveObjects).toBe(3);
  });

  it("lookups: the leaf's size for every page size; empty L1 slot 1 MiB, empty L2 entry 4 KiB", () => {
    const t = makeOmap();
    iommuMap(t.d, 0x100_0000, 0x8100_0000, 0x111_1000, RW);
    const at = (iova: number) => {
      const o = iommuIovaToPhysLength(t.d, iova);
      return [o.mapped, o.phys, o.length];
    };
    expect(at(0x1ab_cdef)).toEqual([true, 0x81ab_cdef, 0x100_0000]);
    expect(at(0x205_4321)).toEqual([true, 0x8205_4321, 0x10_0000]);
    expect(at(0x210_abcd)).toEqual([true, 0x8210_abcd, 0x1_0000]);
    expect(at(0x211_0fff)).toEqual([true, 0x8211_0fff, 0x1000]);
    expect(at(0x211_1000)).toEqual([false, 0, 0x1000]);
    expect(at(0x300_0000)).toEqual([false, 0, 0x10_0000]);
    expect(iommuIovaToPhys(t.d, 0x1ff_ffff)).toBe(0x81ff_ffff);
  });

  it("replicated entries report the large size only while all 16 copies agree", () => {
    const t = makeOmap();
    iommuMap(t.d, 0x10_0000, 0x5000_0000, 0x1_0000, RW);
    iommuMap(t.d, 0x10_f000, 0x7000_0000, 0x1000, RW); // overwrites copy 15 (the kernel allows it)
    expect(iommuIovaToPhysLength(t.d, 0x10_0000).length).toBe(0x1000);
    expect(iommuIovaToPhysLength(t.d, 0x10_f000).phys).toBe(0x7000_0000);
  });

  it("a lookup reads one entry per level until an overwrite could have split a group", () => {
    const t = makeOmap();
    iommuMap(t.d, 0x100_0000, 0x8100_0000, 0x100_0000, RW); // a 16M supersection
    iommuMap(t.d, 0x10_0000, 0x5000_0000, 0x1_0000, RW); // a 64K large page
    const reads = (iova: number) => {
      const before = t.d.counters.pteReads;
      const out = iommuIovaToPhysLength(t.d, iova);
      return [t.d.counters.pteReads - before, out.length];
    };
    expect(reads(0x1ab_cdef)).toEqual([1, 0x100_0000]); // the L1 entry
    expect(reads(0x10_2000)).toEqual([2, 0x1_0000]); // L1 + L2
    expect(t.d.quirks.overwrite).toBe(0);
    iommuMap(t.d, 0x30_0000, 0x6000_0000, 0x1000, RW);
    iommuMap(t.d, 0x30_0000, 0x6100_0000, 0x1000, RW); // an overwrite: groups may now disagree
    expect(t.d.quirks.overwrite).toBeGreaterThan(0);
    expect(reads(0x1ab_cdef)).toEqual([1 + 16, 0x100_0000]); // the 16 copies compared
    expect(reads(0x10_2000)).toEqual([2 + 16, 0x1_0000]);
  });
});

describe("known kernel quirks, default (kernel) mode and strict mode", () => {
  it("lists every quirk", () => {
    expect(OMAP_QUIRKS).toEqual([
      "map-ignores-pgcount",
      "unmap-ignores-size",
      "unmap-hole-succeeds",
      "overwrite",
      "orphaned-l2",
      "wild-write",
      "misaligned-64k-leaves-table",
      "truncation",
    ]);
  });

  it("map-ignores-pgcount: one page, pgsize reported (count 0 or 5 too) | strict: pgcount pages", () => {
    const t = makeOmap();
    const m = new SizeOut();
    expect(t.d.ops!.mapPages(t.d, 0x920_0000, 0xe000_0000, 0x1000, 5, RW, 0, m)).toBe(0);
    expect(t.d.ops!.mapPages(t.d, 0x910_0000, 0xe000_0000, 0x1000, 0, RW, 0, m)).toBe(0);
    expect([m.value, l2(t, 0x920_1000), l2(t, 0x910_0000)]).toEqual([0x2000, 0, 0xe000_0002]);
    const s = makeOmap({ strict: true });
    expect(s.d.ops!.mapPages(s.d, 0x920_0000, 0xe000_0000, 0x1000, 5, RW, 0, m)).toBe(0);
    expect(l2(s, 0x920_4000)).toBe(0xe000_4002);
  });

  it("unmap-ignores-size: the whole 16M / 1M / 64K page goes for a 4K unmap | strict: refused (0)", () => {
    const t = makeOmap();
    iommuMap(t.d, 0x400_0000, 0xa000_0000, 0x100_0000, RW);
    iommuMap(t.d, 0x600_0000, 0xb000_0000, 0x10_0000, RW);
    iommuMap(t.d, 0x610_0000, 0xb011_0000, 0x1_0000, RW);
    expect([
      iommuUnmap(t.d, 0x4ab_c000, 0x1000),
      iommuUnmap(t.d, 0x608_0000, 0x1000),
      iommuUnmap(t.d, 0x610_f000, 0x1000),
    ]).toEqual([0x100_0000, 0x10_0000, 0x1_0000]);
    expect([l1(t, 0x400_0000), l1(t, 0x4f0_0000), l1(t, 0x600_0000), l1(t, 0x610_0000)]).toEqual([
      0, 0, 0, 0,
    ]);
    const s = makeOmap({ strict: true });
    iommuMap(s.d, 0x400_0000, 0xa000_0000, 0x100_0000, RW);
    expect(iommuUnmap(s.d, 0x4ab_c000, 0x1000)).toBe(0);
    expect(iommuUnmap(s.d, 0x400_0000, 0x10_0000)).toBe(0);
    expect(iommuUnmap(s.d, 0x400_0000, 0x100_0000)).toBe(0x100_0000);
  });

  it("unmap-hole-succeeds: a hole in a live L2 table returns 4 KiB, an empty L1 slot 0 | strict: 0", () => {
    const t = makeOmap();
    iommuMap(t.d, 0x700_0000, 0xd000_0000, 0x2000, RW);
    expect([iommuUnmap(t.d, 0x700_5000, 0x1000), iommuUnmap(t.d, 0x800_0000, 0x1000)]).toEqual([0x1000, 0]);
    const s = makeOmap({ strict: true });
    iommuMap(s.d, 0x700_0000, 0xd000_0000, 0x2000, RW);
    expect(iommuUnmap(s.d, 0x700_5000, 0x1000)).toBe(0);
  });

  it("overwrite + orphaned-l2: 64K over 4Ks, a section over an L2 table (orphaned, leaked at free) | strict: -EEXIST", () => {
    const t = makeOmap();
    iommuMap(t.d, 0x210_0000, 0x5000, 0x1000, IOMMU_READ);
    iommuMap(t.d, 0x210_0000, 0x9_0000, 0x1_0000, RW);
    expect(l2(t, 0x210_0000)).toBe(0x9_0001);
    iommuMap(t.d, 0x210_0000, 0xc000_0000, 0x10_0000, RW);
    expect([l1(t, 0x210_0000), t.d.orphans.size, t.d.l2Cache.liveObjects]).toEqual([0xc000_0002, 1, 1]);
    expect([t.d.quirks.overwrite, t.d.quirks["orphaned-l2"]]).toEqual([2, 1]);
    t.d.ops!.free!(t.d);
    expect([t.allocator.liveCount, t.d.counters.tablesAllocated - t.d.counters.tablesFreed]).toEqual([1, 1]);
    const s = makeOmap({ strict: true });
    iommuMap(s.d, 0x210_0000, 0x5000, 0x1000, IOMMU_READ);
    expect(() => iommuMap(s.d, 0x210_0000, 0x9_0000, 0x1_0000, RW)).toThrow(
      expect.objectContaining({ code: "EEXIST" }),
    );
    expect(() => iommuMap(s.d, 0x210_0000, 0xc000_0000, 0x10_0000, RW)).toThrow(
      expect.objectContaining({ code: "EEXIST" }),
    );
    s.d.ops!.free!(s.d);
    expect(s.allocator.liveCount).toBe(0);
  });

  it("wild-write: a 4K map onto a section writes through the section's PA as a table pointer | strict: -EEXIST", () => {
    const t = makeOmap();
    // A section whose frame is the domain's own L2 slab page: the wild write lands in table memory.
    iommuMap(t.d, 0x10_0000, 0x5000_0000, 0x1000, RW);
    const slab = (l1(t, 0x10_0000) & ~0x3ff) >>> 0;
    const m = new SizeOut();
    t.d.ops!.mapPages(t.d, 0x20_0000, (slab & 0xfff0_0000) >>> 0, 0x10_0000, 1, RW, 0, m);
    t.d.ops!.mapPages(t.d, 0x20_0000 + (slab & 0xf_ffff), 0x6000_0000, 0x1000, 1, RW, 0, m);
    expect(t.allocator.mem.read32(((slab & 0xfff0_0000) >>> 0) + 4 * ((slab & 0xf_f000) >>> 12))).toBe(
      0x6000_0002,
    );
    expect(t.d.quirks["wild-write"]).toBe(1);
    const s = makeOmap({ strict: true });
    iommuMap(s.d, 0x20_0000, 0x9000_0000, 0x10_0000, RW);
    expect(s.d.ops!.mapPages(s.d, 0x20_0000, 0x6000_0000, 0x1000, 1, RW, 0, m)).toBe(-ERRNO.EEXIST);
  });

  it("misaligned-64k-leaves-table: -EINVAL after installing an empty L2 table | strict: -EINVAL, nothing installed", () => {
    const t = makeOmap();
    const m = new SizeOut();
    expect(t.d.ops!.mapPages(t.d, 0x900_1000, 0xe000_0000, 0x1_0000, 1, RW, 0, m)).toBe(-ERRNO.EINVAL);
    expect(l1(t, 0x900_0000) & 3).toBe(1);
    expect(iommuUnmap(t.d, 0x900_0000, 0x1000)).toBe(0x1000); // the hole frees the empty table
    expect(l1(t, 0x900_0000)).toBe(0);
    const s = makeOmap({ strict: true });
    expect(s.d.ops!.mapPages(s.d, 0x900_1000, 0xe000_0000, 0x1_0000, 1, RW, 0, m)).toBe(-ERRNO.EINVAL);
    expect(l1(s, 0x900_0000)).toBe(0);
  });

  it("truncation: IOVAs and PAs above 4 GiB alias / lose bits; a run past 4 GiB wraps to 0 | strict: -EINVAL, 0, unmapped", () => {
    const t = makeOmap();
    iommuMap(t.d, 0x10_0a00_0000, 0x1_f000_0000, 0x1_0000, RW);
    expect([iommuIovaToPhys(t.d, 0xa00_0000), iommuIovaToPhys(t.d, 0x20_0a00_1234)]).toEqual([
      0xf000_0000, 0xf000_1234,
    ]);
    iommuMap(t.d, 0xffff_e000, 0, 0x4000, RW);
    expect(iommuIovaToPhys(t.d, 0x1000)).toBe(0x3000);
    const s = makeOmap({ strict: true });
    expect(() => iommuMap(s.d, 0x10_0a00_0000, 0xf000_0000, 0x1_0000, RW)).toThrow(
      expect.objectContaining({ code: "EINVAL" }),
    );
    expect(() => iommuMap(s.d, 0xa00_0000, 0x1_f000_0000, 0x1_0000, RW)).toThrow(
      expect.objectContaining({ code: "EINVAL" }),
    );
    iommuMap(s.d, 0xa00_0000, 0xf000_0000, 0x1_0000, RW);
    expect(iommuIovaToPhys(s.d, 0x10_0a00_0000)).toBe(0);
    expect(s.d.ops!.unmapPages(s.d, 0x10_0a00_0000, 0x1_0000, 1, null)).toBe(0);
  });
});
