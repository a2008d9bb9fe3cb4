import {
  IOMMU_CACHE,
  IOMMU_NOEXEC,
  IOMMU_READ,
  IOMMU_WRITE,
  PhysLength,
  PhysMem,
  SizeOut,
  TableAllocator,
} from "@iommu/core";
import { describe, expect, it } from "vitest";
import { IO_PGTABLE_QUIRK_NO_WARN, type IoPgtableCfg, IoPgtableFmt } from "../io-pgtable.js";
import { ioPgtableIovaToPhys } from "../iova-to-phys.js";
import { testCfg } from "../testing/table-harness.js";
import {
  type AppleDartIoPgtable,
  appleDartAllocPgtable,
  appleDartGeometry,
  appleDartInitFns,
} from "./apple-dart.js";
import { appleDartPaddrHi, appleDartPaddrLo, appleDartProtToPte } from "./pte.js";

const RW = IOMMU_READ | IOMMU_WRITE;

function make(over: Partial<IoPgtableCfg> = {}, fmt: IoPgtableFmt = IoPgtableFmt.APPLE_DART) {
  const cfg = testCfg({
    pgsizeBitmap: 0x4000,
    ias: 32,
    oas: fmt === IoPgtableFmt.APPLE_DART ? 36 : 42,
    fmt,
    ...over,
  });
  const iop = appleDartAllocPgtable(cfg, null);
  if (!iop) throw new Error("alloc refused");
  return { cfg, iop, c: cfg.counters, tlb: cfg.tlb.calls };
}

function map(iop: AppleDartIoPgtable, iova: number, pa: number, count = 1, prot = RW, pgsize = iop.pgsize) {
  const m = new SizeOut();
  const ret = iop.mapPages(iova, pa, pgsize, count, prot, 0, m);
  return { ret, mapped: m.value };
}

/** The raw 64-bit leaf for an iova, through the dump's view of memory. */
function raw(iop: AppleDartIoPgtable, cfg: IoPgtableCfg, iova: number): bigint {
  const out: bigint[] = [];
  const walk = (pa: number, level: number): void => {
    const shift = BigInt(level * iop.bitsPerLevel + 3);
    const idx = Number((BigInt(iova) >> shift) & BigInt(iop.ptesPerTable - 1));
    const e = cfg.allocator.mem.read64(pa + 8 * idx);
    if (level === 1) out.push(e);
    else if (e) walk(Number(e & 0xf_ffff_f000n), level - 1);
  };
  walk(iop.pgd[Number(BigInt(iova) >> BigInt(iop.levels * iop.bitsPerLevel + 3))]!, iop.levels - 1);
  return out[0] ?? 0n;
}

describe("dart_alloc_pgtable geometry", () => {
  it("levels and TTBRs per page size and ias", () => {
    expect(appleDartGeometry(0x1000, 32)).toEqual({ bitsPerLevel: 9, tblBits: 2, levels: 3 });
    expect(appleDartGeometry(0x4000, 32)).toEqual({ bitsPerLevel: 11, tblBits: 0, levels: 3 });
    expect(appleDartGeometry(0x4000, 36)).toEqual({ bitsPerLevel: 11, tblBits: 0, levels: 3 });
    expect(appleDartGeometry(0x4000, 37)).toEqual({ bitsPerLevel: 11, tblBits: 0, levels: 4 });
    expect(appleDartGeometry(0x4000, 42)).toEqual({ bitsPerLevel: 11, tblBits: 0, levels: 4 });
    expect(appleDartGeometry(0x1000, 36)).toEqual({ bitsPerLevel: 9, tblBits: 0, levels: 4 });
    expect(appleDartGeometry(0x1000, 42)).toBeNull();
  });

  it("apple_dart_alloc_pgtable refusals: non-coherent, oas, ias > oas, bitmap", () => {
    const refused = (over: Partial<IoPgtableCfg>) =>
      appleDartAllocPgtable(
        testCfg({ pgsizeBitmap: 0x4000, oas: 36, fmt: IoPgtableFmt.APPLE_DART, ...over }),
        null,
      ) === null;
    expect(refused({})).toBe(false);
    expect(refused({ coherentWalk: false })).toBe(true);
    expect(refused({ oas: 40 })).toBe(true);
    expect(refused({ ias: 37 })).toBe(true);
    expect(refused({ pgsizeBitmap: 0x5000 })).toBe(true);
    expect(refused({ pgsizeBitmap: 0x1_0000 })).toBe(true);
    expect(refused({ quirks: IO_PGTABLE_QUIRK_NO_WARN | 0x3ff })).toBe(false);
  });

  it("TTBR tables come first, one granule each, in order", () => {
    const { cfg, iop } = make({ pgsizeBitmap: 0x1000 });
    expect(cfg.appleDartCfg).toEqual({
      ttbr: [0x8000_0000, 0x8000_1000, 0x8000_2000, 0x8000_3000],
      nTtbrs: 4,
      nLevels: 3,
    });
    expect(iop.tablesLive).toBe(4);
  });
});

describe("PTE bits", () => {
  it("every prot combination for both generations", () => {
    for (let prot = 0; prot < 64; prot++) {
      const d1 = 0x2 | (prot & IOMMU_WRITE ? 0 : 0x80) | (prot & IOMMU_READ ? 0 : 0x100);
      const d2 =
        (prot & IOMMU_CACHE ? 0 : 0x2) | (prot & IOMMU_WRITE ? 0 : 0x4) | (prot & IOMMU_READ ? 0 : 0x8);
      expect(appleDartProtToPte(prot, false)).toBe(d1);
      expect(appleDartProtToPte(prot, true)).toBe(d2);
    }
  });

  it("DART1 keeps PA[35:12] in place; DART2 stores PA >> 4 in bits 37:10", () => {
    const pa = 0x3_8765_4000;
    expect([appleDartPaddrLo(pa, false), appleDartPaddrHi(pa, false)]).toEqual([0x8765_4000, 0x3]);
    expect([appleDartPaddrLo(0x13_0000_0000, false), appleDartPaddrHi(0x13_0000_0000, false)]).toEqual([
      0, 0x3,
    ]);
    const pa2 = 0x3ab_cdef_c000;
    const v = pa2 / 16;
    expect(appleDartPaddrLo(pa2, true)).toBe(((v % 2 ** 32) & 0xffff_fc00) >>> 0);
    expect(appleDartPaddrHi(pa2, true)).toBe(Math.floor(v / 2 ** 32) & 0x3f);
  });

  it("leaves: VALID | SUBPAGE_END 0xfff | prot | OA; x/m/p ignored", () => {
    const { iop, cfg } = make();
    map(iop, 0x7ff_8000, 0x8_0000_0000, 1, RW | IOMMU_NOEXEC | 0x30);
    expect(raw(iop, cfg, 0x7ff_8000)).toBe(0x000f_ff08_0000_0003n);
    const d2 = make({}, IoPgtableFmt.APPLE_DART2);
    map(d2.iop, 0x4000, 0x3ff_ffff_c000, 1, IOMMU_READ);
    expect(d2.cfg.allocator.mem.read64(d2.iop.pgd[0]!) & 0x1n).toBe(1n);
  });
});

describe("map_pages / unmap_pages / iova_to_phys", () => {
  it("argument checks", () => {
    const { iop, c } = make();
    expect(map(iop, 0, 0, 1, RW, 0x1000).ret).toBe(-22);
    expect(map(iop, 0, 2 ** 36, 1).ret).toBe(-34);
    expect(c.warns).toBe(2);
    expect(map(iop, 0, 0, 1, IOMMU_CACHE).ret).toBe(-22);
    expect(map(iop, 2 ** 36, 0, 1).ret).toBe(-12); // TTBR index 1 of 1: no WARN
    expect(c.warns).toBe(2);
    expect(map(iop, 0xf_fff0_0000, 0, 1).ret).toBe(0); // ias 32 is not checked: 16K ias 32 covers 2^36
    expect(map(iop, 0x4000, 0, 0)).toEqual({ ret: 0, mapped: 0 });
  });

  it("a map stops at the end of the leaf table; a live entry anywhere → WARN -EEXIST, nothing written", () => {
    const { iop, c } = make();
    expect(map(iop, 0x1ff_8000, 0x10_0000, 4)).toEqual({ ret: 0, mapped: 0x8000 });
    expect(map(iop, 0x1ff_0000, 0x20_0000, 3)).toEqual({ ret: -17, mapped: 0 });
    expect(c.warns).toBe(1);
    expect(ioPgtableIovaToPhys(iop, 0x1ff_0000)).toBe(0);
  });

  it("unmap clears in order, stops at a hole (WARN) or the table end; tables stay", () => {
    const { iop, c, tlb } = make();
    map(iop, 0x1ff_0000, 0x10_0000, 4);
    map(iop, 0x200_0000, 0x20_0000, 1);
    tlb.length = 0;
    expect(iop.unmapPages(0x1ff_0000, 0x4000, 10, null)).toBe(0x1_0000);
    expect(tlb).toEqual(["page 1ff0000 4000", "page 1ff4000 4000", "page 1ff8000 4000", "page 1ffc000 4000"]);
    expect(iop.unmapPages(0x200_0000, 0x4000, 3, null)).toBe(0x4000);
    expect(c.warns).toBe(1);
    expect(iop.unmapPages(0x400_0000, 0x4000, 1, null)).toBe(0); // no leaf table
    expect(iop.unmapPages(0x200_0000, 0x4000, 0, null)).toBe(0);
    expect(iop.unmapPages(0x200_0000, 0x1000, 1, null)).toBe(0);
    expect(c.warns).toBe(4);
    expect(iop.tablesLive).toBe(3);
  });

  it("unaligned raw map_pages maps the containing page; phys keeps the offset", () => {
    const { iop } = make();
    expect(map(iop, 0x1_2345, 0x9_8765, 1).ret).toBe(0);
    expect(ioPgtableIovaToPhys(iop, 0x1_0abc)).toBe(0x9_8abc);
    // PA bits 13:12 stay in a DART1 16K leaf and are ORed with the offset, not added.
    map(iop, 0x2_0000, 0x9_9000, 1);
    expect(ioPgtableIovaToPhys(iop, 0x2_1abc)).toBe(0x9_9abc);
    const out = new PhysLength();
    iop.iovaToPhysLength(0x2_1abc, out);
    expect(out.phys).toBe(0x9_9abc);
  });

  it("DART1 with oas 42 drops PA bits >= 36; DART2 keeps them", () => {
    const d1 = make({ oas: 42 });
    map(d1.iop, 0x4000, 0x123_4567_8000, 1);
    expect(ioPgtableIovaToPhys(d1.iop, 0x4000)).toBe(0x3_4567_8000);
    const d2 = make({}, IoPgtableFmt.APPLE_DART2);
    map(d2.iop, 0x4000, 0x123_4567_8000, 1);
    expect(ioPgtableIovaToPhys(d2.iop, 0x4123)).toBe(0x123_4567_8123);
  });

  it("iova_to_phys_length: mapped → page size; empty entries → their span; beyond the TTBRs → the unreachable block", () => {
    const { iop } = make({ ias: 42, oas: 42 }, IoPgtableFmt.APPLE_DART2);
    expect(iop.levels).toBe(4);
    map(iop, 0x4000, 0x1_0000_0000, 1);
    const out = new PhysLength();
    iop.iovaToPhysLength(0x5234, out);
    expect([out.mapped, out.phys, out.length]).toEqual([true, 0x1_0000_1234, 0x4000]);
    iop.iovaToPhysLength(0x8000, out);
    expect([out.mapped, out.length]).toEqual([false, 0x4000]);
    iop.iovaToPhysLength(0x200_0000, out);
    expect([out.mapped, out.length]).toEqual([false, 2 ** 25]);
    iop.iovaToPhysLength(2 ** 36, out);
    expect([out.mapped, out.length]).toEqual([false, 2 ** 36]);
    iop.iovaToPhysLength(2 ** 47, out);
    expect([out.mapped, out.length]).toEqual([false, 2 ** 47]);
  });

  it("fmt is read at op time (alloc_io_pgtable_ops sets it after alloc)", () => {
    const cfg = testCfg({ pgsizeBitmap: 0x4000, oas: 42 });
    const iop = appleDartAllocPgtable(cfg, null)!;
    iop.fmt = IoPgtableFmt.APPLE_DART2;
    map(iop, 0, 0x4000, 1, IOMMU_READ);
    expect(cfg.allocator.mem.read64(iop.pgd[0]!) !== 0n).toBe(true);
    expect(iop.isDart2).toBe(true);
  });
});

describe("free and adoption", () => {
  it("free releases every table", () => {
    const { cfg, iop } = make({ ias: 42, oas: 42 }, IoPgtableFmt.APPLE_DART2);
    map(iop, 0, 0, 1);
    map(iop, 2 ** 36, 0, 1);
    expect(cfg.allocator.liveCount).toBe(5);
    appleDartInitFns.free(iop);
    expect(cfg.allocator.liveCount).toBe(0);
  });

  it("existingRoot: n_ttbrs consecutive granules, walked in place", () => {
    const { cfg, iop } = make({ pgsizeBitmap: 0x1000 });
    map(iop, 0xc000_1000, 0x5000, 2);
    const mem = new PhysMem();
    for (const r of cfg.allocator.mem.ranges())
      mem.importRange(r.pa, cfg.allocator.mem.exportRange(r.pa, r.bytes));
    const allocator = new TableAllocator(mem, { base: 0x1_0000_0000 });
    const adopted = appleDartAllocPgtable(
      {
        ...testCfg({ pgsizeBitmap: 0x1000, oas: 36, fmt: IoPgtableFmt.APPLE_DART }),
        allocator,
        existingRoot: 0x8000_0000,
      },
      null,
    )!;
    expect(adopted.cfg.appleDartCfg!.ttbr).toEqual([0x8000_0000, 0x8000_1000, 0x8000_2000, 0x8000_3000]);
    expect(ioPgtableIovaToPhys(adopted, 0xc000_2abc)).toBe(0x6abc);
    appleDartInitFns.free(adopted);
    expect(mem.chunk(0x8000_3000)).toBeDefined();
  });
});
