import {
  IOMMU_CACHE,
  IOMMU_READ,
  IOMMU_WRITE,
  IotlbGather,
  PhysLength,
  PhysMem,
  SizeOut,
  TableAllocator,
} from "@iommu/core";
import { describe, expect, it } from "vitest";
import {
  IO_PGTABLE_QUIRK_ARM_MTK_EXT,
  IO_PGTABLE_QUIRK_ARM_MTK_TTBR_EXT,
  IO_PGTABLE_QUIRK_ARM_NS,
  IO_PGTABLE_QUIRK_ARM_TTBR1,
  IO_PGTABLE_QUIRK_NO_PERMS,
  IO_PGTABLE_QUIRK_NO_WARN,
  type IoPgtableCfg,
} from "../io-pgtable.js";
import { ioPgtableIovaToPhys } from "../iova-to-phys.js";
import { testCfg } from "../testing/table-harness.js";
import { type ArmV7sIoPgtable, armV7sAllocPgtable, armV7sInitFns } from "./arm-v7s.js";

const RW = IOMMU_READ | IOMMU_WRITE;
const MTK = IO_PGTABLE_QUIRK_ARM_MTK_EXT | IO_PGTABLE_QUIRK_NO_PERMS;

function make(over: Partial<IoPgtableCfg> = {}, base?: number) {
  const cfg = testCfg(over, base);
  const iop = armV7sAllocPgtable(cfg, null);
  if (!iop) throw new Error("alloc refused");
  return { cfg, iop, c: cfg.counters, tlb: cfg.tlb.calls };
}

function map(iop: ArmV7sIoPgtable, iova: number, pa: number, pgsize: number, count = 1, prot = RW) {
  const m = new SizeOut();
  const ret = iop.mapPages(iova, pa, pgsize, count, prot, 0, m);
  return { ret, mapped: m.value };
}

describe("arm_v7s_alloc_pgtable", () => {
  const refused = (over: Partial<IoPgtableCfg>, base?: number) =>
    armV7sAllocPgtable(testCfg(over, base), null) === null;

  it("ias/oas limits: 32 bits, 34/35 with MTK_EXT", () => {
    expect(refused({ ias: 33 })).toBe(true);
    expect(refused({ oas: 33 })).toBe(true);
    expect(refused({ ias: 34, oas: 35, quirks: MTK })).toBe(false);
    expect(refused({ ias: 35, oas: 35, quirks: MTK })).toBe(true);
    expect(refused({ ias: 34, oas: 36, quirks: MTK })).toBe(true);
    expect(refused({ ias: 19 })).toBe(true);
    expect(refused({ ias: 20 })).toBe(false);
  });

  it("quirks: only NS, NO_PERMS, MTK_EXT (needs NO_PERMS), MTK_TTBR_EXT (needs MTK_EXT)", () => {
    expect(refused({ quirks: IO_PGTABLE_QUIRK_ARM_NS | IO_PGTABLE_QUIRK_NO_PERMS })).toBe(false);
    expect(refused({ quirks: IO_PGTABLE_QUIRK_NO_WARN })).toBe(true);
    expect(refused({ quirks: IO_PGTABLE_QUIRK_ARM_TTBR1 })).toBe(true);
    expect(refused({ quirks: IO_PGTABLE_QUIRK_ARM_MTK_EXT })).toBe(true);
    expect(refused({ quirks: IO_PGTABLE_QUIRK_ARM_MTK_TTBR_EXT | IO_PGTABLE_QUIRK_NO_PERMS })).toBe(true);
    expect(refused({ quirks: MTK | IO_PGTABLE_QUIRK_ARM_MTK_TTBR_EXT })).toBe(false);
  });

  it("register outputs: ttbr (coherent / not), tcr, prrr, nmrr; bitmap narrowed", () => {
    const { cfg, iop } = make({ pgsizeBitmap: 0xffff_ffff });
    expect(cfg.pgsizeBitmap).toBe(0x111_1000);
    expect(cfg.armV7sCfg).toEqual({ ttbr: 0x8000_006a, tcr: 0, prrr: 0x800b_8204, nmrr: 0x4000_4000 });
    expect(iop.l1Entries).toBe(4096);
    expect(make({ coherentWalk: false }).cfg.armV7sCfg!.ttbr).toBe(0x8000_0002);
  });

  it("MTK: ttbr = pa | upper_32_bits(pa); L1 above 4G only with MTK_TTBR_EXT and below 2^oas", () => {
    expect(make({ ias: 34, oas: 35, quirks: MTK }).cfg.armV7sCfg!.ttbr).toBe(0x8000_0000);
    const ext = MTK | IO_PGTABLE_QUIRK_ARM_MTK_TTBR_EXT;
    const { cfg, iop } = make({ ias: 34, oas: 35, quirks: ext }, 0x5_0000_0000);
    expect(cfg.armV7sCfg!.ttbr).toBe(0x5);
    expect(iop.l1Entries).toBe(16384);
    expect(refused({ ias: 34, oas: 35, quirks: MTK }, 0x5_0000_0000)).toBe(true);
    expect(refused({ ias: 34, oas: 34, quirks: ext }, 0x5_0000_0000)).toBe(true);
  });
});

describe("map_pages", () => {
  it("range checks WARN and give -ERANGE; no access gives -EINVAL; pgcount 0 gives -EINVAL", () => {
    const { iop, c } = make();
    expect(map(iop, 2 ** 32, 0, 0x1000).ret).toBe(-34);
    expect(map(iop, 0, 2 ** 32, 0x1000).ret).toBe(-34);
    expect(c.warns).toBe(2);
    expect(map(iop, 0, 0, 0x1000, 1, IOMMU_CACHE).ret).toBe(-22);
    expect(map(iop, 0, 0, 0x1000, 0).ret).toBe(-22);
    expect(c.warns).toBe(2);
  });

  it("maps page by page across table ends; counts PTE writes", () => {
    const { iop, c } = make();
    const w0 = c.pteWrites;
    expect(map(iop, 0xff000, 0x1000, 0x1000, 3)).toEqual({ ret: 0, mapped: 0x3000 });
    expect(c.pteWrites - w0).toBe(3 + 2); // three leaves, two table descriptors
    expect(ioPgtableIovaToPhys(iop, 0x100123)).toBe(0x2123);
    expect(iop.l2Slab.liveCount).toBe(2);
  });

  it("writes a large page / supersection as 16 identical entries", () => {
    const { iop } = make();
    expect(map(iop, 0x10000, 0x4321_0000, 0x1_0000).ret).toBe(0);
    expect(map(iop, 0x100_0000, 0x500_0000, 0x100_0000).ret).toBe(0);
    for (let i = 0; i < 16; i++) expect(iop.l1Entry(16 + i)).toBe(iop.l1Entry(16));
    expect(iop.l1Entry(16) & 0x4_0000).toBe(0x4_0000);
    expect(ioPgtableIovaToPhys(iop, 0x1ab_cdef)).toBe(0x5ab_cdef);
    expect(ioPgtableIovaToPhys(iop, 0x1_2345)).toBe(0x4321_2345);
  });

  it("a live entry anywhere in the run: WARN + -EEXIST, nothing written", () => {
    const { iop, c } = make();
    map(iop, 0x1_f000, 0, 0x1000);
    const before = c.pteWrites;
    expect(map(iop, 0x1_0000, 0x10_0000, 0x1_0000).ret).toBe(-17);
    expect(c.pteWrites).toBe(before);
    expect(c.warns).toBe(1);
    expect(map(iop, 0x20_0000, 0, 0x10_0000).ret).toBe(0);
    expect(map(iop, 0x20_0000, 0, 0x1000).ret).toBe(-17); // a page under a section
    expect(c.warns).toBe(2);
  });

  it("a section over an L2 table frees the table (tlb_flush_walk) and discards its pages", () => {
    const { iop, tlb } = make();
    map(iop, 0x30_1000, 0x1000, 0x1000);
    expect(iop.l2Slab.liveCount).toBe(1);
    tlb.length = 0;
    expect(map(iop, 0x30_0000, 0x4000_0000, 0x10_0000).ret).toBe(0);
    expect(tlb).toEqual(["walk 300000 100000 1000"]);
    expect(iop.l2Slab.liveCount).toBe(0);
    expect(ioPgtableIovaToPhys(iop, 0x30_1000)).toBe(0x4000_1000);
  });

  it("a supersection fails with -EEXIST after freeing the tables before a leaf in its run", () => {
    const { iop, c } = make();
    map(iop, 0x100_0000, 0, 0x1000);
    map(iop, 0x130_0000, 0, 0x10_0000);
    map(iop, 0x150_0000, 0, 0x1000);
    expect(iop.l2Slab.liveCount).toBe(2);
    expect(map(iop, 0x100_0000, 0x800_0000, 0x100_0000).ret).toBe(-17);
    expect(c.warns).toBe(1);
    expect(iop.l2Slab.liveCount).toBe(1); // the first table went, the one after the section stayed
    expect(ioPgtableIovaToPhys(iop, 0x100_0000)).toBe(0);
    expect(ioPgtableIovaToPhys(iop, 0x150_0000)).toBe(0);
    expect(iop.l1Entry(0x15) & 3).toBe(1);
  });

  it("a size below 4K reaches level 2 with nothing to write: WARN + -EINVAL (the table stays)", () => {
    const { iop, c } = make();
    expect(map(iop, 0, 0, 0x800).ret).toBe(-22);
    expect(c.warns).toBe(1);
    expect(iop.l2Slab.liveCount).toBe(1);
  });

  it("NS: table descriptors get NS_TABLE, sections NS_SECTION", () => {
    const { iop } = make({ quirks: IO_PGTABLE_QUIRK_ARM_NS });
    map(iop, 0, 0, 0x1000);
    map(iop, 0x10_0000, 0x10_0000, 0x10_0000);
    expect(iop.l1Entry(0) & 0x3ff).toBe(0x9);
    expect(iop.l1Entry(1) & 0x8_0000).toBe(0x8_0000);
  });

  it("MTK_TTBR_EXT: an L2 table above 4G shows its PA bits 32..34 in descriptor bits 9/4/5", () => {
    const { iop } = make(
      { ias: 34, oas: 35, quirks: MTK | IO_PGTABLE_QUIRK_ARM_MTK_TTBR_EXT },
      0x5_0000_0000,
    );
    expect(map(iop, 0x3_0000_0000, 0x7_0000_1000, 0x1000).ret).toBe(0);
    expect(iop.l1Entry(0x3000) & 0x3ff).toBe(0x221);
    expect(ioPgtableIovaToPhys(iop, 0x3_0000_0abc)).toBe(0x7_0000_1abc);
  });

  it("an L2 table that does not fit the PTE: -ENOMEM, the slab object goes back", () => {
    // An arena ending at 4G: the 16K L1 fits below, the first slab block lands at 4G.
    const { iop, c } = make({}, 0xffff_c000);
    expect(map(iop, 0, 0, 0x1000).ret).toBe(-12);
    expect(iop.l2Slab.liveCount).toBe(0);
    expect(c.warns).toBe(0);
    // With MTK_TTBR_EXT (and oas 35) the same table is fine; its PA bit 32 shows in bit 9.
    const ext = make({ ias: 32, oas: 35, quirks: MTK | IO_PGTABLE_QUIRK_ARM_MTK_TTBR_EXT }, 0xffff_c000);
    expect(map(ext.iop, 0, 0, 0x1000).ret).toBe(0);
    expect(ext.iop.l1Entry(0) & 0x3ff).toBe(0x201);
  });
});

describe("unmap_pages", () => {
  it("a hole: WARN + 0; iova beyond ias: WARN + 0; pgcount 0: 0 without WARN", () => {
    const { iop, c } = make();
    expect(iop.unmapPages(0x1000, 0x1000, 1, null)).toBe(0);
    expect(iop.unmapPages(2 ** 32, 0x1000, 1, null)).toBe(0);
    expect(c.warns).toBe(2);
    expect(iop.unmapPages(0x1000, 0x1000, 0, null)).toBe(0);
    expect(c.warns).toBe(2);
  });

  it("part of a large page / supersection / section: WARN + 0, nothing cleared", () => {
    const { iop, c } = make();
    map(iop, 0x1_0000, 0x1_0000, 0x1_0000);
    map(iop, 0x100_0000, 0x100_0000, 0x100_0000);
    map(iop, 0x300_0000, 0x300_0000, 0x10_0000);
    expect(iop.unmapPages(0x1_1000, 0x1000, 1, null)).toBe(0);
    expect(iop.unmapPages(0x110_0000, 0x10_0000, 1, null)).toBe(0);
    expect(iop.unmapPages(0x300_1000, 0x1000, 1, null)).toBe(0);
    expect(c.warns).toBe(3);
    expect(ioPgtableIovaToPhys(iop, 0x1_1000)).toBe(0x1_1000);
    expect(ioPgtableIovaToPhys(iop, 0x110_0000)).toBe(0x110_0000);
  });

  it("a 64K unmap over sixteen 4K pages clears them with one tlb_add_page each", () => {
    const { iop, tlb } = make();
    expect(map(iop, 0x2_0000, 0, 0x1000, 16).ret).toBe(0);
    tlb.length = 0;
    expect(iop.unmapPages(0x2_0000, 0x1_0000, 1, new IotlbGather())).toBe(0x1_0000);
    expect(tlb.length).toBe(16);
    expect(tlb[15]).toBe("page 2f000 1000");
  });

  it("fifteen of sixteen: WARN + 0 and nothing cleared", () => {
    const { iop } = make();
    map(iop, 0x2_0000, 0, 0x1000, 15);
    expect(iop.unmapPages(0x2_0000, 0x1_0000, 1, null)).toBe(0);
    expect(ioPgtableIovaToPhys(iop, 0x2_0000)).toBe(0);
    expect(ioPgtableIovaToPhys(iop, 0x2_1000)).toBe(0x1000);
  });

  it("1M over an L2 table frees it; leaf unmaps never free tables", () => {
    const { iop, tlb } = make();
    map(iop, 0x10_0000, 0, 0x1000, 2);
    expect(iop.unmapPages(0x10_0000, 0x1000, 2, null)).toBe(0x2000);
    expect(iop.l2Slab.liveCount).toBe(1);
    map(iop, 0x10_5000, 0, 0x1000);
    tlb.length = 0;
    expect(iop.unmapPages(0x10_0000, 0x10_0000, 1, null)).toBe(0x10_0000);
    expect(tlb).toEqual(["walk 100000 100000 1000"]);
    expect(iop.l2Slab.liveCount).toBe(0);
  });

  it("a queued gather suppresses tlb_add_page", () => {
    const { iop, tlb } = make();
    map(iop, 0, 0, 0x1000);
    const g = new IotlbGather();
    g.queued = true;
    tlb.length = 0;
    expect(iop.unmapPages(0, 0x1000, 1, g)).toBe(0x1000);
    expect(tlb).toEqual([]);
  });

  it("a size below 4K on a small page walks past level 2: WARN_ON(lvl > 2) + 0", () => {
    const { iop, c } = make();
    map(iop, 0, 0, 0x1000);
    expect(iop.unmapPages(0, 0x800, 1, null)).toBe(0);
    expect(c.warns).toBe(1);
  });
});

describe("iova_to_phys / iova_to_phys_length", () => {
  it("translation unit lengths: 4K, 64K, 1M, 16M; offsets kept", () => {
    const { iop } = make();
    map(iop, 0x1000, 0x7000, 0x1000);
    map(iop, 0x1_0000, 0x9_0000, 0x1_0000);
    map(iop, 0x10_0000, 0x30_0000, 0x10_0000);
    map(iop, 0x100_0000, 0x700_0000, 0x100_0000);
    const out = new PhysLength();
    const check = (iova: number, phys: number, len: number) => {
      iop.iovaToPhysLength(iova, out);
      expect(out.mapped).toBe(true);
      expect(out.phys).toBe(phys);
      expect(out.length).toBe(len);
      expect(ioPgtableIovaToPhys(iop, iova)).toBe(phys);
    };
    check(0x1abc, 0x7abc, 0x1000);
    check(0x1_f123, 0x9_f123, 0x1_0000);
    check(0x1f_ffff, 0x3f_ffff, 0x10_0000);
    check(0x1ab_cdef, 0x7ab_cdef, 0x100_0000);
  });

  it("unmapped: an empty L1 slot spans 1M, an empty L2 slot 4K, beyond ias the unreachable block", () => {
    const { iop } = make({ ias: 30 });
    map(iop, 0x1000, 0x7000, 0x1000);
    const out = new PhysLength();
    iop.iovaToPhysLength(0x50_0000, out);
    expect([out.mapped, out.length]).toEqual([false, 0x10_0000]);
    iop.iovaToPhysLength(0x2000, out);
    expect([out.mapped, out.length]).toEqual([false, 0x1000]);
    iop.iovaToPhysLength(0x4000_1000, out);
    expect([out.mapped, out.length]).toEqual([false, 0x4000_0000]); // [2^30, 2^31)
    // ...and the address callers get is 0 (the removed legacy op aliased modulo 2^ias, as the
    // pre-series kernel did; the golden vectors' `phys` replays that).
    expect(ioPgtableIovaToPhys(iop, 0x1000)).toBe(0x7000);
    expect(ioPgtableIovaToPhys(iop, 0x4000_1000)).toBe(0);
    expect(ioPgtableIovaToPhys(iop, 0x1_0000_1000n)).toBe(0);
  });

  it("a lookup reads one PTE per level", () => {
    const { iop, c } = make();
    map(iop, 0x1000, 0x7000, 0x1000);
    const r0 = c.pteReads;
    ioPgtableIovaToPhys(iop, 0x1000);
    expect(c.pteReads - r0).toBe(2);
    ioPgtableIovaToPhys(iop, 0x500_0000);
    expect(c.pteReads - r0).toBe(3);
  });
});

describe("table lifetime and accounting", () => {
  it("free releases the L1, every L2 and the slab blocks; counters count 1 KiB tables", () => {
    const { cfg, iop, c } = make();
    for (let i = 0; i < 6; i++) map(iop, i * 0x10_0000, 0, 0x1000);
    expect(c.tablesAllocated).toBe(7);
    expect(iop.tablesLive).toBe(7);
    expect(iop.tableBytesLive).toBe(0x4000 + 6 * 0x400);
    expect(cfg.allocator.liveCount).toBe(3); // L1 + two 4 KiB slab blocks
    armV7sInitFns.free(iop);
    expect(cfg.allocator.liveCount).toBe(0);
    expect(c.tablesFreed).toBe(7);
  });

  it("slab: pieces lowest address first, freed tables reused LIFO and zeroed", () => {
    const { iop } = make({ quirks: IO_PGTABLE_QUIRK_ARM_NS });
    for (let i = 0; i < 3; i++) map(iop, i * 0x10_0000, 0, 0x1000);
    const tableOf = (i: number) => (iop.l1Entry(i) & 0xffff_fc00) >>> 0;
    expect([tableOf(0), tableOf(1), tableOf(2)]).toEqual([0x8000_4000, 0x8000_4400, 0x8000_4800]);
    iop.unmapPages(0x10_0000, 0x10_0000, 1, null);
    map(iop, 0x50_0000, 0, 0x1000);
    expect(tableOf(5)).toBe(0x8000_4400);
    expect(ioPgtableIovaToPhys(iop, 0x50_1000)).toBe(0);
  });
});

describe("existingRoot: adopting a table image", () => {
  it("walks the image in place, keeps its tables, computes ttbr from the root", () => {
    const { cfg, iop } = make();
    map(iop, 0x1000, 0x7000, 0x1000);
    map(iop, 0x100_0000, 0x700_0000, 0x100_0000);
    const mem = new PhysMem();
    for (const r of cfg.allocator.mem.ranges())
      mem.importRange(r.pa, cfg.allocator.mem.exportRange(r.pa, r.bytes));
    const allocator = new TableAllocator(mem, { base: 0x1_0000_0000 - 0x1000_0000 });
    const adopted = armV7sAllocPgtable({ ...testCfg(), allocator, existingRoot: iop.pgd }, null)!;
    expect(adopted.cfg.armV7sCfg!.ttbr).toBe(0x8000_006a);
    expect(ioPgtableIovaToPhys(adopted, 0x1234)).toBe(0x7234);
    expect(ioPgtableIovaToPhys(adopted, 0x1ab_cdef)).toBe(0x7ab_cdef);
    expect(adopted.unmapPages(0x1000, 0x1000, 1, null)).toBe(0x1000);
    expect(adopted.unmapPages(0, 0x10_0000, 1, null)).toBe(0x10_0000); // the image's L2 is dropped, not freed
    armV7sInitFns.free(adopted);
    expect(mem.chunk(iop.pgd)).toBeDefined();
  });
});
