import { IommuCounters, PhysMem, TableAllocator } from "@iommu/core";
import { describe, expect, it } from "vitest";
import {
  IO_PGTABLE_QUIRK_ARM_HD,
  IO_PGTABLE_QUIRK_ARM_NS,
  IO_PGTABLE_QUIRK_ARM_OUTER_WBWA,
  IO_PGTABLE_QUIRK_ARM_S2FWB,
  IO_PGTABLE_QUIRK_ARM_TTBR1,
  IO_PGTABLE_QUIRK_NO_PERMS,
  IO_PGTABLE_QUIRK_NO_WARN,
  IoPgtableFmt,
} from "../io-pgtable.js";
import { ioPgtableIovaToPhys } from "../iova-to-phys.js";
import { alloc, leafPte, tryAlloc } from "../testing/lpae-harness.js";

const {
  ARM_64_LPAE_S1: S1,
  ARM_64_LPAE_S2: S2,
  ARM_32_LPAE_S1,
  ARM_32_LPAE_S2,
  ARM_MALI_LPAE: MALI,
} = IoPgtableFmt;
const G4K = 0x40201000;
const G16K = 0x2004000;
const G64K = 0x20010000;

describe("geometry (arm_lpae_alloc_pgtable)", () => {
  // [bitmap, ias, levels, start level, pgd_bits]: the kernel's worked table.
  const cases: Array<[number, number, number, number, number]> = [
    [G4K, 32, 3, 1, 2],
    [G4K, 36, 3, 1, 6],
    [G4K, 39, 3, 1, 9],
    [G4K, 40, 4, 0, 1],
    [G4K, 42, 4, 0, 3],
    [G4K, 44, 4, 0, 5],
    [G4K, 48, 4, 0, 9],
    [G16K, 32, 2, 2, 7],
    [G16K, 36, 2, 2, 11],
    [G16K, 40, 3, 1, 4],
    [G16K, 42, 3, 1, 6],
    [G16K, 44, 3, 1, 8],
    [G16K, 48, 4, 0, 1],
    [G64K, 32, 2, 2, 3],
    [G64K, 36, 2, 2, 7],
    [G64K, 40, 2, 2, 11],
    [G64K, 42, 2, 2, 13],
    [G64K, 44, 3, 1, 2],
    [G64K, 48, 3, 1, 6],
    [G64K + 2 ** 42, 52, 3, 1, 10],
  ];
  it.each(cases)(
    "bitmap %s ias %i: %i levels from %i, pgd_bits %i",
    (bitmap, ias, levels, start, pgdBits) => {
      const h = alloc(S1, { pgsizeBitmap: bitmap, ias, oas: ias === 52 ? 52 : 48 });
      expect(4 - h.iop.startLevel).toBe(levels);
      expect(h.iop.startLevel).toBe(start);
      expect(h.iop.pgdBits).toBe(pgdBits);
      expect(h.allocator.liveCount).toBe(1);
    },
  );

  it("the pgd takes at least 64 bytes, in a 4 KiB block", () => {
    const h = alloc(S1, { ias: 32 });
    expect(h.iop.pgdSize).toBe(32);
    expect(h.allocator.liveBytes).toBe(0x1000);
  });
});

describe("arm_lpae_restrict_pgsizes", () => {
  it("keeps the 4K granule's sizes when 4K is offered", () => {
    expect(alloc(S1, { pgsizeBitmap: 0x40201000 | 0x4000 | 0x10000 }).cfg.pgsizeBitmap).toBe(0x40201000);
  });
  it("without PAGE_SIZE or smaller sizes, takes the smallest larger granule", () => {
    expect(alloc(S1, { pgsizeBitmap: 0x4000 | 0x10000 | 0x20000000 }).cfg.pgsizeBitmap).toBe(0x4000);
  });
  it("a granule below 4K has no page sizes: refused", () => {
    expect(tryAlloc(S1, { pgsizeBitmap: 0x800 | 0x1000000 })).toBeNull();
  });
  it("the 4T block only with oas > 48, and ias/oas clamp to 48 (52 for 64K)", () => {
    const big = alloc(S1, { pgsizeBitmap: G64K + 2 ** 42, ias: 52, oas: 52 });
    expect(big.cfg.pgsizeBitmap).toBe(G64K + 2 ** 42);
    const small = alloc(S1, { pgsizeBitmap: G64K + 2 ** 42, ias: 52, oas: 48 });
    expect(small.cfg.pgsizeBitmap).toBe(G64K);
    expect(small.cfg.ias).toBe(52);
    const k4 = alloc(S1, { ias: 52, oas: 52 });
    expect([k4.cfg.ias, k4.cfg.oas]).toEqual([48, 48]);
  });
});

describe("ARM_64_LPAE_S1 registers", () => {
  it("coherent 4K 48/48: TCR, MAIR, TTBR", () => {
    const h = alloc(S1);
    expect(h.cfg.armLpaeS1Cfg).toEqual({
      ttbr: 0x80000000n,
      tcr: { ips: 5, tg: 0, sh: 3, orgn: 1, irgn: 1, tsz: 16 },
      mair: 0xf404ff44n,
    });
  });
  it("non-coherent: outer-shareable, non-cacheable walks unless OUTER_WBWA", () => {
    expect(alloc(S1, { coherentWalk: false }).cfg.armLpaeS1Cfg!.tcr).toMatchObject({
      sh: 2,
      irgn: 0,
      orgn: 0,
    });
    const wbwa = alloc(S1, { coherentWalk: false, quirks: IO_PGTABLE_QUIRK_ARM_OUTER_WBWA });
    expect(wbwa.cfg.armLpaeS1Cfg!.tcr).toMatchObject({ sh: 2, irgn: 0, orgn: 1 });
    expect(tryAlloc(S1, { quirks: IO_PGTABLE_QUIRK_ARM_OUTER_WBWA })).toBeNull();
  });
  it("TG0 vs TG1 encodings", () => {
    const tg = (bitmap: number, quirks: number) =>
      alloc(S1, { pgsizeBitmap: bitmap, quirks }).cfg.armLpaeS1Cfg!.tcr.tg;
    expect([tg(G4K, 0), tg(G16K, 0), tg(G64K, 0)]).toEqual([0, 2, 1]);
    const t1 = IO_PGTABLE_QUIRK_ARM_TTBR1;
    expect([tg(G4K, t1), tg(G16K, t1), tg(G64K, t1)]).toEqual([2, 1, 3]);
  });
  it("IPS by oas; an oas without encoding is refused", () => {
    const ips = (oas: number) => alloc(S1, { oas }).cfg.armLpaeS1Cfg!.tcr.ips;
    expect([32, 36, 40, 42, 44, 48].map(ips)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(alloc(S1, { pgsizeBitmap: G64K, oas: 52, ias: 52 }).cfg.armLpaeS1Cfg!.tcr.ips).toBe(6);
    expect(tryAlloc(S1, { oas: 39 })).toBeNull();
  });
  it("accepts only NS, TTBR1, OUTER_WBWA, HD and NO_WARN", () => {
    expect(
      tryAlloc(S1, { quirks: IO_PGTABLE_QUIRK_ARM_NS | IO_PGTABLE_QUIRK_ARM_HD | IO_PGTABLE_QUIRK_NO_WARN }),
    ).not.toBeNull();
    expect(tryAlloc(S1, { quirks: IO_PGTABLE_QUIRK_ARM_S2FWB })).toBeNull();
    expect(tryAlloc(S1, { quirks: IO_PGTABLE_QUIRK_NO_PERMS })).toBeNull();
  });
  it("ttbr follows the allocator's base", () => {
    const counters = new IommuCounters();
    const allocator = new TableAllocator(new PhysMem(), { base: 0x1_0000_0000, counters });
    expect(alloc(S1, { allocator, counters }).cfg.armLpaeS1Cfg!.ttbr).toBe(0x1_0000_0000n);
  });
});

describe("ARM_64_LPAE_S2: concatenated pgds and VTCR", () => {
  // [bitmap, ias, oas, start level, pgd entries]
  const cases: Array<[number, number, number, number, number]> = [
    [G4K, 40, 40, 1, 1024],
    [G4K, 42, 42, 1, 4096],
    [G4K, 40, 42, 1, 1024],
    [G4K, 48, 48, 0, 512],
    [G4K, 39, 40, 1, 512],
    [G16K, 40, 40, 2, 32768],
    [G16K, 48, 48, 1, 4096],
    [G16K, 44, 48, 1, 256],
    [G64K, 48, 48, 1, 64],
  ];
  it.each(cases)("bitmap %s ias %i oas %i → start %i, %i pgd entries", (bitmap, ias, oas, start, entries) => {
    const h = alloc(S2, { pgsizeBitmap: bitmap, ias, oas });
    expect(h.iop.startLevel).toBe(start);
    expect(2 ** h.iop.pgdBits).toBe(entries);
    expect(h.allocator.liveBytes).toBe(Math.max(0x1000, entries * 8));
  });
  it("a mandatory concatenation of more than 16 pages WARNs and fails", () => {
    const counters = new IommuCounters();
    expect(tryAlloc(S2, { ias: 48, oas: 40, counters })).toBeNull();
    expect(counters.warns).toBe(1);
    expect(tryAlloc(S2, { ias: 48, oas: 42 })).toBeNull();
  });
  it("VTCR: SL0 is inverted, and counted one higher for 4K", () => {
    expect(alloc(S2, { ias: 40, oas: 40 }).cfg.armLpaeS2Cfg).toEqual({
      vttbr: 0x80000000n,
      vtcr: { ps: 2, tg: 0, sh: 3, orgn: 1, irgn: 1, sl: 1, tsz: 24 },
    });
    expect(alloc(S2).cfg.armLpaeS2Cfg!.vtcr.sl).toBe(2);
    expect(alloc(S2, { pgsizeBitmap: G16K, ias: 40, oas: 40 }).cfg.armLpaeS2Cfg!.vtcr).toMatchObject({
      sl: 1,
      tg: 2,
    });
    expect(alloc(S2, { pgsizeBitmap: G64K }).cfg.armLpaeS2Cfg!.vtcr).toMatchObject({ sl: 2, tg: 1 });
    expect(alloc(S2, { coherentWalk: false }).cfg.armLpaeS2Cfg!.vtcr).toMatchObject({
      sh: 2,
      irgn: 0,
      orgn: 0,
    });
  });
  it("accepts only S2FWB and NO_WARN", () => {
    expect(tryAlloc(S2, { quirks: IO_PGTABLE_QUIRK_ARM_S2FWB | IO_PGTABLE_QUIRK_NO_WARN })).not.toBeNull();
    for (const q of [IO_PGTABLE_QUIRK_ARM_NS, IO_PGTABLE_QUIRK_ARM_TTBR1, IO_PGTABLE_QUIRK_ARM_HD])
      expect(tryAlloc(S2, { quirks: q })).toBeNull();
  });
});

describe("32-bit formats", () => {
  it("ARM_32_LPAE_S1: ias ≤ 32, oas ≤ 40, 4K sizes only", () => {
    expect(tryAlloc(ARM_32_LPAE_S1, { ias: 33, oas: 40 })).toBeNull();
    expect(tryAlloc(ARM_32_LPAE_S1, { ias: 32, oas: 42 })).toBeNull();
    expect(tryAlloc(ARM_32_LPAE_S1, { ias: 32, oas: 40, pgsizeBitmap: G16K })).toBeNull();
    const h = alloc(ARM_32_LPAE_S1, { ias: 32, oas: 40 });
    expect(h.cfg.armLpaeS1Cfg!.tcr.tsz).toBe(32);
  });
  it("ARM_32_LPAE_S2: ias and oas ≤ 40", () => {
    expect(tryAlloc(ARM_32_LPAE_S2, { ias: 41, oas: 40 })).toBeNull();
    expect(alloc(ARM_32_LPAE_S2, { ias: 40, oas: 40 }).iop.startLevel).toBe(1);
  });
});

describe("ARM_MALI_LPAE", () => {
  it("always walks 4 levels; TRANSTAB and MEMATTR", () => {
    const h = alloc(MALI, { ias: 48, oas: 40 });
    expect(h.iop.startLevel).toBe(0);
    expect(h.cfg.armMaliLpaeCfg).toEqual({ transtab: 0x80000017n, memattr: 0x888d88n });
    const small = alloc(MALI, { ias: 32, oas: 32, coherentWalk: false });
    expect([small.iop.startLevel, small.iop.pgdBits]).toEqual([0, 0]);
    expect(small.cfg.armMaliLpaeCfg!.transtab).toBe(0x80000007n);
  });
  it("with ias ≤ 39 the level-0 index is always 0", () => {
    const h = alloc(MALI, { ias: 32, oas: 32 });
    expect(h.ops.mapPages(0x1000, 0x2000, 0x1000, 1, 3, 0, { value: 0 })).toBe(0);
    expect(leafPte(h, 0x1000)).toEqual({ pte: 0x22c1n, level: 3, ret: 0 });
  });
  it("takes no quirks, ias ≤ 48, oas ≤ 40", () => {
    expect(tryAlloc(MALI, { quirks: IO_PGTABLE_QUIRK_NO_WARN, oas: 40 })).toBeNull();
    expect(tryAlloc(MALI, { ias: 48, oas: 42 })).toBeNull();
  });
});

describe("existingRoot: adopting a table image", () => {
  it("walks an imported copy, computes TTBR from it, and never frees image tables", () => {
    const src = alloc(S1);
    expect(src.ops.mapPages(0x40201000, 0x1234000, 0x1000, 1, 3, 0, { value: 0 })).toBe(0);
    expect(src.ops.mapPages(0x80000000, 0x40000000, 0x40000000, 1, 7, 0, { value: 0 })).toBe(0);
    const mem = new PhysMem();
    for (const r of src.allocator.mem.ranges())
      mem.importRange(r.pa, src.allocator.mem.exportRange(r.pa, r.bytes));
    const counters = new IommuCounters();
    const allocator = new TableAllocator(mem, { base: 0x1_0000_0000, counters });
    const h = alloc(S1, { allocator, counters, existingRoot: 0x80000000 });
    expect(h.cfg.armLpaeS1Cfg!.ttbr).toBe(0x80000000n);
    expect(h.iop.adopted).toBe(true);
    expect(ioPgtableIovaToPhys(h.ops, 0x40201abc)).toBe(0x1234abc);
    expect(ioPgtableIovaToPhys(h.ops, 0x80001234)).toBe(0x40001234);
    expect(allocator.liveCount).toBe(0);
    // New tables come from the allocator and are the only ones released.
    expect(h.ops.mapPages(0x1000, 0x5000, 0x1000, 1, 3, 0, { value: 0 })).toBe(0);
    expect(allocator.liveCount).toBe(2);
    h.iop.freePgtable(h.iop.startLevel, h.iop.pgdPa);
    expect(allocator.liveCount).toBe(0);
    expect(mem.read64(0x80000000)).not.toBe(0n);
  });
  it("refuses a root that is not in memory", () => {
    const counters = new IommuCounters();
    const allocator = new TableAllocator(new PhysMem(), { counters });
    expect(tryAlloc(S1, { allocator, counters, existingRoot: 0x9000_0000 })).toBeNull();
  });
});
